/**
 * Child process entry: our dispatcher (`startDispatcher`, production
 * defaults, concurrency QUEUE_CONCURRENCY) on its own postgres.js pool of
 * DISPATCH_POOL_MAX, the size the `dispatch` command gives it, as one side of
 * the `delivery` scenario. Started and stopped per measurement on the
 * parent's request (bench/lib/deliveryWorkload.ts has the protocol). The
 * pool is warmed (every connection opened and used) just before each timed
 * window, as the graphile-worker child's is. Logs go to the file the parent
 * gave, at QUEUE_LOG_LEVEL, the level both queues log at (at info: one line
 * per attempt).
 */
import { connect } from '../../src/engine/db/client.js';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { createLogger } from '../../src/engine/log.js';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample } from './cpu.js';
import { profiled } from './profiler.js';
import { NOOP_HANDLER, positiveIntegerEnv, triggerSet, untilNoneUnfinished, type QueueChildIn, type QueueChildOut, type TriggerSet } from './deliveryWorkload.js';

const send = (m: QueueChildOut) => toParent<QueueChildOut>(m);
const url = process.env.DATABASE_URL;
const webhookSecret = process.env.WEBHOOK_SECRET;
if (!url || !webhookSecret) throw new Error('the dispatcher child needs DATABASE_URL and WEBHOOK_SECRET');

const concurrency = positiveIntegerEnv('QUEUE_CONCURRENCY');
const poolMax = positiveIntegerEnv('DISPATCH_POOL_MAX');
const log = createLogger(process.env.QUEUE_LOG_LEVEL ?? 'warn').child({ process: 'bench-dispatcher' });
const database = connect(url, { max: poolMax, log, applicationName: 'threefactor-bench-dispatcher' });
/** Every connection of the pool opened and used once (overlapping queries make postgres.js open them all). */
const warm = async () => {
  await Promise.all(Array.from({ length: poolMax }, () => database.sql`select pg_sleep(0.02)`));
};
await warm();

/** Latency mode reports each no-op's start; drain mode only counts. */
let reportStarts = false;
let dispatcher: Dispatcher | undefined;

const start = (receiverUrl: string, onDelivered: () => void, onFailed: () => void, triggers: TriggerSet = 'bench') =>
  startDispatcher({
    database,
    log,
    concurrency,
    triggers: triggerSet(triggers, receiverUrl),
    inProcessHandlers: {
      [NOOP_HANDLER]: async () => {
        if (reportStarts) send({ type: 'handled', atNs: process.hrtime.bigint() });
      },
    },
    webhookSecret,
    hooks: {
      onOutcome: (_trigger, outcome) => (outcome === 'delivered' ? onDelivered() : onFailed()),
    },
  });

const unfinished = async () => {
  const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from threefactor.deliveries where status in ('pending', 'running')`;
  return row!.n;
};

onParent<QueueChildIn>(async (message) => {
  if (message.type === 'drain') {
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
      dispatcher = await start(
        message.receiverUrl,
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
      await dispatcher.stop();
      dispatcher = undefined;
      return { type: 'drained' as const, ms, succeeded, failed, cores, lastJobMs: lastJob - t0 };
    });
    send(drained);
  }
  if (message.type === 'serve') {
    await warm();
    reportStarts = true;
    dispatcher = await start(message.receiverUrl, () => {}, () => {}, message.triggers);
    send({ type: 'serving' });
  }
  if (message.type === 'halt') {
    await dispatcher?.stop();
    dispatcher = undefined;
    send({ type: 'halted' });
  }
});
send({ type: 'ready' });
