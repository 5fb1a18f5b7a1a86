/**
 * The process's watched causal trees (the `causalTree` subscription): which
 * roots are watched, which events, deliveries and triggers each one's current
 * tree holds, and ONE read per hub tick for every tree that changed, however
 * many subscribers watch it or how many trees changed.
 *
 * The hub's `*` topic (joined while any tree is watched) says what changed,
 * from the event alone, no I/O: a tree is touched by
 * - an engine event (../events/engineEvents.ts) naming one of its deliveries
 *   or events: an outcome batch, a redeliver, a replay (one that lists too
 *   many to name touches every tree);
 * - a pause or resume of a trigger one of its deliveries belongs to;
 * - a new event caused by one of its deliveries (events.caused_by_delivery);
 * - an engine event of one of its workflow instances (aggregate
 *   `threefactor.workflow`: a step started, a transition), or one caused by
 *   one of its events.
 * Touched roots collect until the hub's dispatch is over (setImmediate, as
 * tickBatcher.ts does for live rows), then go in one readCausalTrees; roots
 * touched while that read runs go in the next one. A failed read is retried
 * with backoff, the touched roots kept.
 *
 * Each read replaces the root's index entries and is handed to its members
 * with a fingerprint, so a member sends only a tree that differs from the
 * last it sent. A tree that is settled (no delivery left to run) is handed
 * out one last time and the root is forgotten: it changes no more, except by
 * an operator's redeliver or replay, which a new subscription would see.
 * A root that is not in the log (never was, or deleted by retention) is
 * handed out as `undefined`.
 */
import type { Sql } from '../db/client.js';
import { TERMINAL_WORKFLOW_STATUSES } from '../db/schema/workflows.js';
import {
  ENGINE_AGGREGATES,
  ENGINE_EVENTS,
  isEngineEventType,
  type DeliveriesChangedPayload,
  type DeliveriesProgressedPayload,
  type TriggerPausePayload,
} from '../events/engineEvents.js';
import { readCausalTrees, type CausalDeliveryRecord, type CausalTreeRecord, type CausalWorkflowRecord } from '../events/sql/readCausalTrees.js';
import type { Logger } from '../log.js';
import type { Hub } from './hub.js';
import { stateReads } from './metrics.js';
import type { LogEvent } from './sql/eventRow.js';
import { ALL } from './topics.js';

/** A delivery is settled once it can run no more (until an operator redelivers it). */
export const isSettledDelivery = (d: Pick<CausalDeliveryRecord, 'status'>): boolean => d.status === 'delivered' || d.status === 'dead';

/** A workflow instance in one of these starts no more steps (a failed one only by an operator's retry). */
const SETTLED_WORKFLOW_STATUSES: ReadonlySet<string> = new Set(TERMINAL_WORKFLOW_STATUSES);

export const isSettledWorkflow = (w: Pick<CausalWorkflowRecord, 'status'>): boolean => SETTLED_WORKFLOW_STATUSES.has(w.status);

/** Nothing more will happen: every delivery is delivered or dead, and every workflow in it has ended (between two steps, none is pending). */
export const isSettledTree = (tree: CausalTreeRecord): boolean => tree.deliveries.every(isSettledDelivery) && tree.workflows.every(isSettledWorkflow);

/** A subscriber of one root's tree. */
export interface TreeMember {
  /** The tree as just read (undefined: the root is not in the log), and its fingerprint. */
  receiveTree(tree: CausalTreeRecord | undefined, fingerprint: string): void;
}

export interface WatchedTree {
  leave(member: TreeMember): void;
}

export interface CausalTreeRegistry {
  /** Watch a root: its tree is read (with the others of this tick) and handed to the member, then again on every change. */
  watch(rootId: string, member: TreeMember): WatchedTree;
  stats(): { roots: number; members: number };
}

/** The metric label of the reads (`threefactor_realtime_state_reads_total{kind}`). */
export const TREE_READS_KIND = 'causalTree';

class Watched implements WatchedTree {
  readonly members = new Set<TreeMember>();
  events = new Set<string>();
  deliveries = new Set<string>();
  triggers = new Set<string>();
  instances = new Set<string>();

  constructor(
    private readonly registry: Registry,
    readonly rootId: string,
  ) {}

  leave(member: TreeMember): void {
    if (this.members.delete(member) && this.members.size === 0) this.registry.forget(this);
  }
}

/** Ids to the roots whose current tree holds them. */
class Index {
  private readonly map = new Map<string, Set<string>>();

  add(key: string, root: string): void {
    let roots = this.map.get(key);
    if (!roots) this.map.set(key, (roots = new Set()));
    roots.add(root);
  }

  remove(key: string, root: string): void {
    const roots = this.map.get(key);
    if (!roots) return;
    roots.delete(root);
    if (roots.size === 0) this.map.delete(key);
  }

  get(key: string): ReadonlySet<string> | undefined {
    return this.map.get(key);
  }
}

class Registry implements CausalTreeRegistry {
  private readonly roots = new Map<string, Watched>();
  private readonly byEvent = new Index();
  private readonly byDelivery = new Index();
  private readonly byTrigger = new Index();
  private readonly byInstance = new Index();
  private leaveHub: (() => void) | undefined;
  private touched = new Set<string>();
  private scheduled = false;
  private reading = false;
  private retryMs = 50;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly sql: Sql,
    private readonly log: Logger,
  ) {}

  watch(rootId: string, member: TreeMember): WatchedTree {
    let watched = this.roots.get(rootId);
    if (!watched) {
      watched = new Watched(this, rootId);
      this.roots.set(rootId, watched);
      // The root's own id is indexed before its first read: a child caused by a delivery of it cannot exist
      // before that delivery, which the first read will find.
      this.byEvent.add(rootId, rootId);
      watched.events.add(rootId);
      this.leaveHub ??= this.hub.subscribe(ALL, (event) => this.onEvent(event));
    }
    watched.members.add(member);
    // Every new member needs a read of its own tree (its first result); it shares the tick's read.
    this.touch(rootId);
    return watched;
  }

  stats() {
    let members = 0;
    for (const w of this.roots.values()) members += w.members.size;
    return { roots: this.roots.size, members };
  }

  forget(watched: Watched): void {
    if (this.roots.get(watched.rootId) !== watched) return;
    this.roots.delete(watched.rootId);
    this.unindex(watched);
    this.touched.delete(watched.rootId);
    if (this.roots.size === 0) {
      this.leaveHub?.();
      this.leaveHub = undefined;
    }
  }

  private onEvent(event: LogEvent): void {
    if (isEngineEventType(event.type)) return this.onEngineEvent(event);
    if (event.causedByDelivery) this.touchAll(this.byDelivery.get(event.causedByDelivery));
  }

  private onEngineEvent(event: LogEvent): void {
    const payload = event.payload as unknown;
    switch (event.type) {
      case ENGINE_EVENTS.deliveriesProgressed:
        for (const o of (payload as DeliveriesProgressedPayload).outcomes ?? []) this.touchDelivery(o.deliveryId, o.eventId);
        return;
      case ENGINE_EVENTS.triggerPaused:
      case ENGINE_EVENTS.triggerResumed:
        this.touchAll(this.byTrigger.get((payload as TriggerPausePayload).trigger));
        return;
      case ENGINE_EVENTS.deliveriesRedelivered:
      case ENGINE_EVENTS.deliveriesReplayed: {
        const changed = payload as DeliveriesChangedPayload;
        if (changed.truncated) {
          for (const root of this.roots.keys()) this.touch(root);
          return;
        }
        for (const d of changed.deliveries ?? []) this.touchDelivery(d.deliveryId, d.eventId);
        return;
      }
      default:
        // A workflow's step or transition: its instance's trees, and (a first step) the trees of the event that caused it.
        if (event.aggregateType === ENGINE_AGGREGATES.workflow) {
          this.touchAll(this.byInstance.get(event.aggregateId));
          if (event.causedByEvent) this.touchAll(this.byEvent.get(event.causedByEvent));
        }
        return;
    }
  }

  /** A known delivery's trees; a new one (a replay of an event already shown) reaches its event's. */
  private touchDelivery(deliveryId: string, eventId: string): void {
    this.touchAll(this.byDelivery.get(deliveryId));
    this.touchAll(this.byEvent.get(eventId));
  }

  private touchAll(roots: ReadonlySet<string> | undefined): void {
    if (roots) for (const root of roots) this.touch(root);
  }

  private touch(root: string): void {
    this.touched.add(root);
    if (this.scheduled || this.reading || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.read();
    });
  }

  private async read(): Promise<void> {
    if (this.reading || this.touched.size === 0) return;
    const batch = [...this.touched].filter((root) => this.roots.has(root));
    this.touched = new Set();
    if (batch.length === 0) return;
    this.reading = true;
    let trees: Map<string, CausalTreeRecord>;
    try {
      stateReads.inc({ kind: TREE_READS_KIND });
      trees = await readCausalTrees(this.sql, batch);
      this.retryMs = 50;
    } catch (err) {
      for (const root of batch) this.touched.add(root);
      this.log.warn({ err, roots: batch.length }, 'causal trees: reading failed; retrying');
      this.reading = false;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.read();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, 5_000);
      return;
    }
    this.reading = false;
    for (const root of batch) this.publish(root, trees.get(root));
    if (this.touched.size) void this.read();
  }

  private publish(root: string, tree: CausalTreeRecord | undefined): void {
    const watched = this.roots.get(root);
    if (!watched) return;
    const fingerprint = tree ? JSON.stringify(tree) : '';
    if (tree) this.reindex(watched, tree);
    const final = !tree || isSettledTree(tree);
    for (const member of [...watched.members]) {
      try {
        member.receiveTree(tree, fingerprint);
      } catch (err) {
        this.log.error({ err, root }, 'causal trees: subscriber failed');
      }
    }
    // A settled tree (or a missing root) is final for its members: they have ended on it.
    if (final) this.forget(watched);
  }

  private reindex(watched: Watched, tree: CausalTreeRecord): void {
    this.unindex(watched);
    const root = watched.rootId;
    watched.events = new Set(tree.events.map((e) => e.id));
    watched.deliveries = new Set(tree.deliveries.map((d) => d.id));
    watched.triggers = new Set(tree.deliveries.map((d) => d.trigger));
    watched.instances = new Set(tree.workflows.map((w) => w.id));
    watched.events.add(root);
    for (const id of watched.events) this.byEvent.add(id, root);
    for (const id of watched.deliveries) this.byDelivery.add(id, root);
    for (const name of watched.triggers) this.byTrigger.add(name, root);
    for (const id of watched.instances) this.byInstance.add(id, root);
  }

  private unindex(watched: Watched): void {
    const root = watched.rootId;
    for (const id of watched.events) this.byEvent.remove(id, root);
    for (const id of watched.deliveries) this.byDelivery.remove(id, root);
    for (const name of watched.triggers) this.byTrigger.remove(name, root);
    for (const id of watched.instances) this.byInstance.remove(id, root);
  }
}

export function createCausalTreeRegistry(hub: Hub, sql: Sql, log: Logger): CausalTreeRegistry {
  return new Registry(hub, sql, log);
}
