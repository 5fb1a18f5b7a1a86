/**
 * Child process entry: graphile-worker 0.16.6 as the baseline side of the
 * `delivery` scenario, on the same database (schema graphile_worker),
 * started and stopped per measurement on the parent's request (protocol in
 * bench/lib/deliveryWorkload.ts).
 *
 * Its tasks do what our dispatcher does for the same job: the no-op task
 * nothing; the HTTP task one delivery attempt built by our own code
 * (`attemptDelivery`: the same Hasura body, Standard Webhooks signature,
 * headers and fetch), so the two sides differ only in the queue.
 * Configuration comes from GW_CONCURRENCY (no-op jobs and latency),
 * GW_HTTP_CONCURRENCY (webhooks, the dispatcher's concurrency) and
 * GW_POLL_MS; the pool is one more than the concurrency, as graphile-worker
 * recommends. The scenario sets and records them.
 * Logging is graphile-worker's default (one info line per completed job).
 */
import { run, type Runner, type Task } from 'graphile-worker';
import { connect } from '../../src/engine/db/client.js';
import { attemptDelivery } from '../../src/engine/dispatcher/delivery/attempt.js';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';
import { retryPolicy, type TriggerDefinition } from '../../src/engine/events/triggers/triggerDefinition.js';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample } from './cpu.js';
import { profiled } from './profiler.js';
import { benchTriggers, TASK, untilNoneUnfinished, type DeliveryJob, type JobPayload, type QueueChildIn, type QueueChildOut } from './deliveryWorkload.js';

const send = (m: QueueChildOut) => toParent<QueueChildOut>(m);
const url = process.env.DATABASE_URL;
const webhookSecret = process.env.WEBHOOK_SECRET;
if (!url || !webhookSecret) throw new Error('the graphile-worker child needs DATABASE_URL and WEBHOOK_SECRET');
const concurrencyFor: Record<DeliveryJob, number> = {
  noop: Number(process.env.GW_CONCURRENCY ?? 24),
  http: Number(process.env.GW_HTTP_CONCURRENCY ?? 50),
};
const pollInterval = Number(process.env.GW_POLL_MS ?? 1000);

// Only for the drain's end check: never used while jobs run.
const database = connect(url, { max: 1, applicationName: 'threefactor-bench-graphile-check' });
await database.sql`select 1`;
const unfinished = async () => {
  const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs`;
  return row!.n;
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
const start = async (job: DeliveryJob, onSucceeded: () => void, onFailed: () => void) => {
  const concurrency = concurrencyFor[job];
  const r = await run({
    connectionString: url,
    concurrency,
    maxPoolSize: concurrency + 1,
    pollInterval,
    noHandleSignals: true,
    taskList: { [TASK.noop]: noopTask, [TASK.http]: httpTask },
  });
  r.events.on('job:success', onSucceeded);
  r.events.on('job:error', onFailed);
  return r;
};

onParent<QueueChildIn>(async (message) => {
  receiverUrl = message.type === 'halt' ? receiverUrl : message.receiverUrl;
  if (message.type === 'drain') {
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
        message.job,
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
    reportStarts = true;
    runner = await start(
      'noop',
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
