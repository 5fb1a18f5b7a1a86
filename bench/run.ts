/**
 * `npm run bench -- <scenario...>`: runs each named scenario on a fresh
 * database, prints progress and a table, and records
 * bench/results/<scenario>.json. Scenarios are the modules in ./scenarios;
 * adding a file there adds a scenario.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/engine/log.js';
import { ensureServerBuilt } from './lib/builtServer.js';
import { createContext, type OwnedContext, type Scenario } from './lib/context.js';
import { freshBenchDatabase, openBenchServer, type BenchDatabase, type BenchServer } from './lib/database.js';
import { formatTable, RECORD_RULES, writeReport, type Metric } from './lib/report.js';
import { commitStamp, stamp } from './lib/stamp.js';

const SCENARIOS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios');

async function loadScenarios(): Promise<Map<string, Scenario>> {
  const scenarios = new Map<string, Scenario>();
  for (const file of (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(path.join(SCENARIOS_DIR, file))) as Partial<Scenario>;
    if (typeof mod.default !== 'function' || typeof mod.description !== 'string') {
      throw new Error(`bench/scenarios/${file} must export a default run(ctx) function and a description`);
    }
    scenarios.set(file.slice(0, -3), mod as Scenario);
  }
  return scenarios;
}

function listing(scenarios: Map<string, Scenario>): string {
  const width = Math.max(...[...scenarios.keys()].map((n) => n.length));
  return [...scenarios].map(([name, s]) => `  ${name.padEnd(width)}  ${s.description}`).join('\n');
}

function validate(scenario: string, metrics: Metric[], configuration: Record<string, unknown>): void {
  if (!Array.isArray(metrics) || metrics.length === 0) throw new Error(`${scenario} returned no metrics`);
  // A figure is only as fair as its baseline: a record must say how each side was set up.
  if (Object.keys(configuration).length < 2) throw new Error(`${scenario} recorded the configuration of ${Object.keys(configuration).length} side(s); record ours and each baseline (ctx.configure)`);
  for (const m of metrics) {
    if (!Number.isFinite(m.value) || !Number.isFinite(m.baseline.value) || !Number.isFinite(m.ratio)) {
      throw new Error(`${scenario}: metric "${m.name}" is not a finite number against its baseline`);
    }
    // A zero or negative figure (an RSS difference lost in noise) has no ratio, and no verdict to trust.
    if (!(m.ratio > 0)) throw new Error(`${scenario}: metric "${m.name}" has a ratio of ${m.ratio} (${m.value} against ${m.baseline.value}): not a comparison`);
  }
}

async function main(): Promise<number> {
  const scenarios = await loadScenarios();
  const names = process.argv.slice(2).filter((a) => a !== '--');
  if (names.length === 0 || names.includes('--help')) {
    process.stdout.write(`usage: npm run bench -- <scenario...>\n\nscenarios:\n${listing(scenarios)}\n`);
    return names.length === 0 ? 2 : 0;
  }
  const unknown = names.filter((n) => !scenarios.has(n));
  if (unknown.length) {
    process.stderr.write(`bench: unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}; known scenarios:\n${listing(scenarios)}\n`);
    return 2;
  }

  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn').child({ process: 'bench' });
  let server: BenchServer | undefined;
  let database: BenchDatabase | undefined;
  let ctx: OwnedContext | undefined;
  const cleanup = async () => {
    await ctx?.close();
    await database?.drop().catch((err: unknown) => log.warn({ err }, 'could not drop benchmark database'));
    ctx = undefined;
    database = undefined;
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('bench: interrupted, cleaning up (Ctrl-C again to abandon)\n');
    void cleanup()
      .then(() => server?.stop())
      .finally(() => process.exit(130));
  });

  let failures = 0;
  try {
    // Scenarios start the commands compiled, as the Procfile does (lib/builtServer.ts).
    ensureServerBuilt();
    server = await openBenchServer(log);
    for (const name of names) {
      const startedAt = new Date().toISOString();
      // Read before the run: the record names the code that was measured.
      const commit = commitStamp();
      try {
        database = await freshBenchDatabase(server, name);
        ctx = await createContext(name, database.url, log);
        ctx.progress(`fresh database ${database.name} on ${server.describe}`);
        const metrics = await scenarios.get(name)!.default(ctx);
        validate(name, metrics, ctx.configuration);
        const finishedAt = new Date().toISOString();
        const file = await writeReport({
          scenario: name,
          stamp: await stamp({ commit, databaseUrl: database.url, server: server.describe, timing: ctx, configuration: ctx.configuration }),
          metrics,
          startedAt,
          finishedAt,
          notes: { rules: RECORD_RULES, ...ctx.notes },
        });
        process.stdout.write(`\n${formatTable(name, metrics)}\n(written to ${path.relative(process.cwd(), file)})\n\n`);
      } catch (err) {
        failures++;
        process.stderr.write(`bench: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      } finally {
        await cleanup();
      }
    }
  } finally {
    await server?.stop();
  }
  return failures ? 1 : 0;
}

process.exitCode = await main();
