/**
 * The dispatcher: claims due deliveries, runs them with bounded concurrency,
 * and records their outcomes. Any number of dispatchers can share one
 * database; each delivery is leased to one at a time.
 *
 * It is a Runtime of services (runtime/service.ts), one module each, started
 * in this order and stopped in reverse:
 * - the registry refresher (registryRefresher.ts): trigger definitions, re-read every 5 s;
 * - the rescuer (rescuer.ts): hands back expired leases every pollMs;
 * - the lease keeper (leaseKeeper.ts): the heartbeat for in-flight and not-yet-written deliveries;
 * - the completer (completer.ts): batched outcome writes;
 * - the attempts (attempts.ts): the deliveries being attempted;
 * - the claim loop (claimLoop.ts): wake-ups and batched claims, a state machine;
 * - the workflow runner (../workflows/runner.ts): advances workflow instances, whose step calls are deliveries
 *   (run here at once when there is room: eagerCalls.ts).
 * So stop() stops claiming (handing back a claim in flight), lets in-flight
 * attempts finish until the deadline minus a reserve, then aborts and
 * releases them (back to pending, attempt not counted), writes the outcomes
 * by the deadline, and only then lets the leases go.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { pauseTriggerOnce } from '../events/admin/pause.js';
import { TriggerRegistry } from '../events/triggers/registry.js';
import { syncTriggers } from '../events/triggers/sync.js';
import type { InProcessHandler, TriggerDefinition } from '../events/triggers/triggerDefinition.js';
import { Runtime } from '../runtime/service.js';
import { Attempts, type DispatcherHooks } from './attempts.js';
import { ClaimLoop } from './claimLoop.js';
import { eagerCalls } from './eagerCalls.js';
import { Completer, type CompletedAttempt, type FlushResult } from './completer.js';
import { webhookSigner } from './delivery/signer.js';
import { LeaseKeeper } from './leaseKeeper.js';
import { fairRefill } from './refill.js';
import { RegistryRefresher } from './registryRefresher.js';
import { Rescuer } from './rescuer.js';
import type { WorkflowDefinition } from '../workflows/definition.js';
import { WorkflowRunner, type WorkflowRunnerOptions } from '../workflows/runner.js';
import { syncWorkflows } from '../workflows/sync.js';
import { isWorkflowTrigger, workflowTriggers } from '../workflows/triggers.js';

export type { DeliveryOutcomeKind, DispatcherHooks, OutcomeDetail } from './attempts.js';

export interface DispatcherOptions {
  /** `direct` is the claim loop's: it LISTENs (a session's), past a transaction pooler. */
  database: Pick<Database, 'sql' | 'direct'>;
  log: Logger;
  /** Synced into threefactor.event_triggers at start (upsert, idempotent). */
  triggers?: TriggerDefinition[];
  /**
   * Synced into threefactor.workflow_definitions at start (new versions stored, the declared ones made current), each
   * handler as a trigger `workflow.<name>.v<version>.<handler>` with the other triggers. Instances of workflows declared by other
   * processes are advanced here too: the runner runs whatever is given.
   */
  workflows?: WorkflowDefinition[];
  /** The workflow runner's poll backstop; default pollMs. */
  workflowPollMs?: number;
  /** Called after each workflow batch this process committed (tests, metrics). */
  onWorkflowBatch?: WorkflowRunnerOptions['onBatch'];
  /** Registry for triggers with target { kind: 'inProcess', handler }. */
  inProcessHandlers?: Record<string, InProcessHandler>;
  /** Standard Webhooks secret, `whsec_<base64>`. */
  webhookSecret: string;
  batchSize?: number;
  concurrency?: number;
  pollMs?: number;
  leaseMs?: number;
  /** Completion batching window. */
  flushMs?: number;
  /** Where webhook_from_env and header value_from_env are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  hooks?: DispatcherHooks;
  id?: string;
}

export interface Dispatcher {
  readonly id: string;
  /** Claim now (e.g. after writing events in-process). */
  wake(): void;
  /** Drain and stop; resolves once every outcome is written or the deadline passed. */
  stop(opts?: { deadlineMs?: number }): Promise<void>;
}

export const DISPATCHER_DEFAULTS = { batchSize: 50, concurrency: 50, pollMs: 1_000, leaseMs: 10_000, flushMs: 5 };

export function newDispatcherId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** A workflow step's call that has settled (delivered or dead, an attempt run): its instance can go on. */
const isSettledStepCall = (c: CompletedAttempt): boolean => c.outcome.status !== 'pending' && c.attempt !== undefined && isWorkflowTrigger(c.outcome.trigger);

export async function startDispatcher(opts: DispatcherOptions): Promise<Dispatcher> {
  const { sql } = opts.database;
  const id = opts.id ?? newDispatcherId();
  const log = opts.log.child({ component: 'dispatcher', dispatcherId: id });
  const batchSize = opts.batchSize ?? DISPATCHER_DEFAULTS.batchSize;
  const concurrency = opts.concurrency ?? DISPATCHER_DEFAULTS.concurrency;
  const pollMs = opts.pollMs ?? DISPATCHER_DEFAULTS.pollMs;
  const leaseMs = opts.leaseMs ?? DISPATCHER_DEFAULTS.leaseMs;
  const handlers = opts.inProcessHandlers ?? {};

  if (opts.triggers || opts.workflows) await syncTriggers(sql, [...(opts.triggers ?? []), ...workflowTriggers(opts.workflows ?? [])], log);
  if (opts.workflows) await syncWorkflows(sql, opts.workflows, log);
  const registry = new TriggerRegistry(sql, handlers);
  const refresher = new RegistryRefresher({ registry, log });
  // What becomes of written outcomes, whoever wrote them: the completer, or the workflow runner in its batch.
  const onFlushed = (batch: CompletedAttempt[], { already, lost }: FlushResult): void => {
    // A re-send after a write whose reply was lost: no lease was lost and nothing was written twice, so no warning.
    if (already.length) {
      log.info(
        { count: already.length, deliveries: already.map((c) => c.outcome.id) },
        'outcomes already written by an earlier send of this batch (the reply to its commit was lost)',
      );
    }
    if (lost.length) {
      log.warn({ count: lost.length, deliveries: lost.map((c) => c.outcome.id) }, 'lease lost before the outcome was written; another dispatcher re-ran them');
    }
    // What this write made claimable now: a delivery pending again at once (a release, a retry without delay), and
    // the successors of a finished delivery of an ordered trigger. Only those triggers are asked (a wake of every
    // trigger would cost an empty claim per idle one; an unordered trigger's finished delivery frees nothing new,
    // its slot was freed when the attempt ended). A delayed retry sets its own timer.
    const claimableNow = (c: CompletedAttempt) =>
      c.outcome.status === 'pending' ? c.outcome.delayMs === 0 : registry.get(c.outcome.trigger)?.definition.orderingKey !== undefined;
    claimLoop.moreDueFor(batch.filter(claimableNow).map((c) => c.outcome.trigger));
    claimLoop.outcomesWritten();
    for (const c of batch) if (c.outcome.status === 'pending' && c.outcome.delayMs > 0) claimLoop.wakeIn(c.outcome.delayMs);
  };
  const completer: Completer = new Completer({
    sql,
    dispatcherId: id,
    log,
    maxBatch: batchSize,
    delayMs: opts.flushMs ?? DISPATCHER_DEFAULTS.flushMs,
    // A workflow step's settled call that the runner could not take: its instance waits on this write to go on.
    urgent: isSettledStepCall,
    onFlushed,
  });
  const attempts: Attempts = new Attempts({
    registry,
    context: { signer: webhookSigner(opts.webhookSecret), env: opts.env ?? process.env, handlers },
    // A step call's settled outcome goes into the runner's next batch, with the advance it allows, when it can.
    completer: { add: (c) => void ((isSettledStepCall(c) && runner.settle(c)) || completer.add(c)) },
    log,
    hooks: opts.hooks,
    onSettled: () => claimLoop.slotFreed(),
    onUnknownTrigger: () => refresher.refreshSoon(),
    onGone: (trigger, reason) => pauseTriggerOnce(opts.database, trigger, reason),
  });
  const refill = fairRefill(concurrency, batchSize);
  const claimLoop: ClaimLoop = new ClaimLoop({ sql: opts.database.direct, dispatcherId: id, log, registry, attempts, unwritten: () => completer.size, refill, pollMs, leaseMs });
  const runner: WorkflowRunner = new WorkflowRunner({
    sql,
    listenSql: opts.database.direct,
    log,
    pollMs: opts.workflowPollMs ?? pollMs,
    onBatch: opts.onWorkflowBatch,
    completions: {
      dispatcherId: id,
      onFlushed,
      handBack: (outcomes) => outcomes.forEach((c) => completer.add(c)),
      eager: eagerCalls({ dispatcherId: id, leaseMs, registry, attempts, claiming: () => claimLoop.claimingByTrigger(), refill }),
    },
  });
  const runtime = new Runtime(
    'dispatcher',
    [
      refresher,
      new Rescuer({ sql, log, everyMs: pollMs, onReclaimed: claimLoop.wake }),
      new LeaseKeeper({ sql, dispatcherId: id, log, leaseMs, held: () => [...attempts.ids(), ...completer.pendingIds(), ...runner.pendingIds()] }),
      completer,
      attempts,
      claimLoop,
      runner,
    ],
    log,
    { level: 'debug' },
  );
  await runtime.start();
  log.info({ concurrency, batchSize, pollMs, leaseMs, triggers: registry.servableNames() }, 'dispatcher started');

  let stopped: Promise<void> | null = null;
  async function stop(deadlineMs: number): Promise<void> {
    try {
      await runtime.stop(Date.now() + deadlineMs);
    } finally {
      log.info({ released: attempts.released }, 'dispatcher stopped');
    }
  }

  return {
    id,
    wake: claimLoop.wake,
    stop: (o) => (stopped ??= stop(o?.deadlineMs ?? 10_000)),
  };
}
