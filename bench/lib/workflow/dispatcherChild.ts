/**
 * Child process entry of the `workflow` scenario: the dispatcher (with its
 * workflow runner, as `dispatch` runs them) on a pool of DISPATCH_POOL_MAX,
 * production defaults, started per side on the parent's request. Each
 * in-process handler notes when it started (process.hrtime, the clock every
 * process on the machine shares) and does nothing else; the chain's handler
 * then writes the next hop's event, as a broker handler's write-back does
 * (withEventTransaction with the delivery as its cause).
 */
import { connect } from '../../../src/engine/db/client.js';
import { startDispatcher, type Dispatcher } from '../../../src/engine/dispatcher/dispatcher.js';
import { withEventTransaction } from '../../../src/engine/events/transaction.js';
import { createLogger } from '../../../src/engine/log.js';
import type { StepPayload } from '../../../src/kit/contract.js';
import { onParent, toParent } from '../child.js';
import { positiveIntegerEnv } from '../deliveryWorkload.js';
import { benchWorkflow, chainTriggers, HOP_HANDLER, HOPS, hopType, STEP_HANDLER, type ChildIn, type ChildOut, type HopPayload } from './protocol.js';

const send = (m: ChildOut) => toParent<ChildOut>(m);
const url = process.env.DATABASE_URL;
const webhookSecret = process.env.WEBHOOK_SECRET;
if (!url || !webhookSecret) throw new Error('the workflow dispatcher child needs DATABASE_URL and WEBHOOK_SECRET');

const poolMax = positiveIntegerEnv('DISPATCH_POOL_MAX');
const log = createLogger(process.env.BENCH_DISPATCH_LOG_LEVEL ?? 'warn').child({ process: 'bench-workflow-dispatcher' });
const database = connect(url, { max: poolMax, log, applicationName: 'threefactor-bench-workflow' });

/** Hop starts since the last collect: (n, hop, ns) triples, grown as needed. */
let starts = new Float64Array(3 * 1024);
let count = 0;
function record(n: number, hop: number): void {
  const at = Number(process.hrtime.bigint());
  if (3 * (count + 1) > starts.length) {
    const grown = new Float64Array(starts.length * 2);
    grown.set(starts);
    starts = grown;
  }
  starts.set([n, hop, at], 3 * count++);
  if (hop === HOPS && n <= doneUpTo) send({ type: 'done', n });
}

let dispatcher: Dispatcher | undefined;
/** Instances the parent waits for one by one (the latency part); the burst's are only recorded. */
let doneUpTo = 0;

const start = (side: 'workflow' | 'chain') =>
  startDispatcher({
    database,
    log,
    // Only the measured side's definitions: the other side's would cost its events nothing but a probe, yet none is fairer.
    triggers: side === 'chain' ? chainTriggers : [],
    workflows: side === 'workflow' ? [benchWorkflow] : [],
    inProcessHandlers: {
      [STEP_HANDLER]: async (payload) => {
        const step = payload.event.data.new as unknown as StepPayload;
        record(Number(step.input.n), Number(step.step.slice(1)));
        return { ok: true };
      },
      [HOP_HANDLER]: async (payload, _signal, delivery) => {
        const { n, hop = 1 } = payload.event.data.new as unknown as HopPayload;
        record(n, hop);
        if (hop === HOPS) return;
        const cause = delivery ? { event: payload.id, delivery: delivery.id } : null;
        await withEventTransaction(database.db, { session: null, traceContext: null, eventIds: [], cause }, ({ emit }) =>
          emit({ type: hopType(hop + 1), aggregateType: 'wfbench', aggregateId: String(n), payload: { n, hop: hop + 1 } }),
        );
      },
    },
    webhookSecret,
  });

onParent<ChildIn>(async (message) => {
  switch (message.type) {
    case 'start':
      await dispatcher?.stop({ deadlineMs: 5_000 });
      count = 0;
      doneUpTo = message.doneUpTo;
      dispatcher = await start(message.side);
      send({ type: 'started' });
      return;
    case 'collect': {
      const collected = starts.slice(0, 3 * count);
      count = 0;
      send({ type: 'collected', starts: collected });
      return;
    }
    case 'stop':
      await dispatcher?.stop({ deadlineMs: 5_000 });
      dispatcher = undefined;
      await database.close(5);
      send({ type: 'stopped' });
      process.exit(0);
  }
});

send({ type: 'ready' });
