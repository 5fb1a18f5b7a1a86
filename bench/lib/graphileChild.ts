/**
 * Child process entry: graphile-worker 0.17.3 as the baseline side of the
 * `delivery` scenario, on the same database (schema graphile_worker), in
 * either of its two configurations (GRAPHILE_VARIANTS: unbatched, or the
 * local queue and batched completion of its performance page), started and
 * stopped per measurement on the parent's request (protocol in
 * bench/lib/deliveryWorkload.ts).
 *
 * Its tasks do what our dispatcher does for the same job: the no-op task
 * nothing; the HTTP task one delivery attempt built by our own code
 * (`attemptDelivery`: the same Hasura body, Standard Webhooks signature,
 * headers and node:http POST), so the two sides differ only in the queue.
 *
 * Fairness, as the dispatcher child has it: the same concurrency
 * (QUEUE_CONCURRENCY); a pg pool (GW_POOL_MAX, concurrency + 1 as
 * graphile-worker's perf test sizes it) built at start and warmed, every
 * connection opened and used, again just before each timed window; logging
 * at the same level as ours (QUEUE_LOG_LEVEL through our pino logger; below
 * info the scenario sets NO_LOG_SUCCESS, as graphile-worker's perf test does,
 * so neither side writes a line per job).
 */
import { setMaxListeners } from 'node:events';
import { run, Logger, type Runner, type Task } from 'graphile-worker';
// graphile-worker's own driver (a dependency of it, with its types), so the baseline runs on the pool it is built for.
import pg from 'pg';
import { attemptDelivery } from '../../src/engine/dispatcher/delivery/attempt.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { retryPolicy, type TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { createLogger } from '../../src/engine/log.js';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample } from './cpu.js';
import { profiled } from './profiler.js';
import {
  benchTriggers,
  GRAPHILE_VARIANTS,
  positiveIntegerEnv,
  TASK,
  untilNoneUnfinished,
  type GraphileVariant,
  type JobPayload,
  type QueueChildIn,
  type QueueChildOut,
} from './deliveryWorkload.js';

const send = (m: QueueChildOut) => toParent<QueueChildOut>(m);
const url = process.env.DATABASE_URL;
const webhookSecret = process.env.WEBHOOK_SECRET;
if (!url || !webhookSecret) throw new Error('the graphile-worker child needs DATABASE_URL and WEBHOOK_SECRET');
const concurrency = positiveIntegerEnv('QUEUE_CONCURRENCY');
const poolMax = positiveIntegerEnv('GW_POOL_MAX');
const pollInterval = positiveIntegerEnv('GW_POLL_MS');
const idleTimeoutMillis = positiveIntegerEnv('GW_POOL_IDLE_MS');

// Every running task listens on graphile-worker's one shared abort signal (ours gives each attempt its own): not a leak.
setMaxListeners(2 * concurrency);

const log = createLogger(process.env.QUEUE_LOG_LEVEL ?? 'warn').child({ process: 'bench-graphile-worker' });
/** graphile-worker's messages through the same pino logger as ours, message and scope as its console logger prints them. */
const logger = new Logger((scope) => (level, message) => {
  const method = level === 'warning' ? 'warn' : level === 'error' ? 'error' : level === 'debug' ? 'debug' : 'info';
  log[method]({ scope }, message);
});

const pool = new pg.Pool({ connectionString: url, max: poolMax, idleTimeoutMillis, application_name: 'threefactor-bench-graphile-worker' });
pool.on('error', (err) => log.warn({ err: err.message }, 'graphile-worker pool: idle client error'));
pool.on('connect', (client) => client.on('error', (err) => log.warn({ err: err.message }, 'graphile-worker pool: client error')));
/** Every connection of the pool opened and used once, so no timed window pays for a connection or its first query. */
const warm = async () => {
  const clients = await Promise.all(Array.from({ length: poolMax }, () => pool.connect()));
  try {
    await Promise.all(clients.map((c) => c.query('select 1')));
  } finally {
    for (const c of clients) c.release();
  }
};
await warm();

const unfinished = async () => {
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs');
  return rows[0]!.n;
};

let reportStarts = false;
let receiverUrl = '';
const attemptContext = { signer: webhookSigner(webhookSecret), env: process.env, handlers: {} };

/** The HTTP task: one attempt exactly as the dispatcher makes it; a non-2xx or an error fails the job (graphile-worker retries it). */
const httpTask: Task = async (raw, helpers) => {
  const event = raw as JobPayload;
  const definition: TriggerDefinition = benchTriggers(receiverUrl)[1]!;
  const trigger = { name: definition.name, definition, policy: retryPolicy(definition) };
  const delivery = {
    id: helpers.job.id,
    triggerName: definition.name,
    attempts: helpers.job.attempts - 1,
    maxAttempts: helpers.job.max_attempts,
    claims: 1,
    orderingKey: null,
    source: 'event' as const,
    event,
  };
  const result = await attemptDelivery(trigger, delivery, attemptContext, helpers.abortSignal ?? new AbortController().signal);
  if (result.kind === 'error') throw new Error(result.error);
  if (result.status < 200 || result.status >= 300) throw new Error(`HTTP ${result.status}`);
};

const noopTask: Task = async () => {
  if (reportStarts) send({ type: 'handled', atNs: process.hrtime.bigint() });
};

let runner: Runner | undefined;
const start = async (variant: GraphileVariant, onSucceeded: () => void, onFailed: () => void) => {
  const r = await run({
    pgPool: pool,
    concurrency,
    pollInterval,
    logger,
    noHandleSignals: true,
    taskList: { [TASK.noop]: noopTask, [TASK.http]: httpTask },
    preset: { worker: { ...GRAPHILE_VARIANTS[variant] } },
  });
  r.events.on('job:success', onSucceeded);
  r.events.on('job:error', onFailed);
  return r;
};

const variantOf = (message: { variant?: GraphileVariant }): GraphileVariant => {
  if (!message.variant || !Object.hasOwn(GRAPHILE_VARIANTS, message.variant)) throw new Error(`graphile-worker child: unknown variant ${String(message.variant)}`);
  return message.variant;
};

onParent<QueueChildIn>(async (message) => {
  receiverUrl = message.type === 'halt' ? receiverUrl : message.receiverUrl;
  if (message.type === 'drain') {
    const variant = variantOf(message);
    await warm();
    const drained = await profiled(message.profile, async () => {
      reportStarts = false;
      let succeeded = 0;
      let failed = 0;
      let lastJob = 0;
      let allDone!: () => void;
      const done = new Promise<void>((resolve) => (allDone = resolve));
      const cpu0 = cpuSample();
      const t0 = performance.now();
      runner = await start(
        variant,
        () => {
          lastJob = performance.now();
          if (++succeeded === message.expected) allDone();
        },
        () => void failed++,
      );
      await done;
      await untilNoneUnfinished(unfinished, 60_000);
      const ms = performance.now() - t0;
      const cores = coresUsed(cpu0, cpuSample());
      await runner.stop();
      runner = undefined;
      return { type: 'drained' as const, ms, succeeded, failed, cores, lastJobMs: lastJob - t0 };
    });
    send(drained);
  }
  if (message.type === 'serve') {
    const variant = variantOf(message);
    await warm();
    reportStarts = true;
    runner = await start(
      variant,
      () => {},
      () => {},
    );
    send({ type: 'serving' });
  }
  if (message.type === 'halt') {
    await runner?.stop();
    runner = undefined;
    send({ type: 'halted' });
  }
});
send({ type: 'ready' });
