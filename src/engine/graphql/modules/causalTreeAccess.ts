/**
 * Who sees which causal tree, and what of it: the rule the `causalTree`
 * query and subscription share, on the viewer alone (so identical
 * subscriptions of one viewer may share an execution).
 * - admin and service: every tree, whole;
 * - any other role: the tree of an event its own action caused (the root's
 *   session names the viewer's id and role), without what other people's
 *   data or a handler's internals could leak: no payloads, no session
 *   variables, no response bodies, no error text, a pause's reason cut to its
 *   kind ('manual', 'gone'); outcomes, statuses, durations and trigger names
 *   stay. A tree that is not theirs is the same NOT_FOUND as a missing one.
 */
import type { JsonObject } from '../../db/schema/events.js';
import type { CausalAttemptRecord, CausalDeliveryRecord, CausalEventRecord, CausalTreeRecord, CausalWorkflowRecord, EventCause } from '../../events/sql/readCausalTrees.js';
import { isSettledDelivery, isSettledWorkflow } from '../../realtime/causalTrees.js';
import type { Viewer } from '../context.js';
import { notFound } from '../errors.js';

/** A delivery's state as the tree shows it: its status, or `paused` while its trigger is paused and it has not finished. */
export type CausalDeliveryState = 'pending' | 'running' | 'paused' | 'delivered' | 'dead';

export interface CausalAttemptView extends Omit<CausalAttemptRecord, 'responseBody' | 'error'> {
  responseBody: string | null;
  error: string | null;
}

export interface CausalDeliveryView {
  id: string;
  eventId: string;
  trigger: string;
  state: CausalDeliveryState;
  status: CausalDeliveryRecord['status'];
  settled: boolean;
  attemptCount: number;
  maxAttempts: number;
  runAt: Date;
  completedAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  paused: boolean;
  pausedReason: string | null;
  attempts: CausalAttemptView[];
}

/** An event node as a viewer sees it: as read, its payload withheld (null) from a viewer who may not see it. */
export interface CausalEventView extends Omit<CausalEventRecord, 'payload'> {
  payload: JsonObject | null;
}

/** A workflow instance an event of the tree started: names and status only, for every viewer (like a trigger's). */
export interface CausalWorkflowView extends CausalWorkflowRecord {
  settled: boolean;
}

export interface CausalTreeView {
  rootId: string;
  events: CausalEventView[];
  deliveries: CausalDeliveryView[];
  workflows: CausalWorkflowView[];
  settled: boolean;
  failed: boolean;
  pending: number;
  truncated: boolean;
}

/** Roles that see every tree, whole. */
const OPERATORS: readonly string[] = ['admin', 'service'];

/** Whether the viewer caused the root: its session's user id and role are the viewer's. */
function causedBy(root: CausalEventRecord | undefined, viewer: Viewer): boolean {
  const session = root?.session;
  return !!session && session['x-hasura-user-id'] === viewer.sub && session['x-hasura-role'] === viewer.role;
}

/** The kind of a pause's reason ('gone: HTTP 410 from …' → 'gone'): the rest may name an endpoint. */
const reasonKind = (reason: string | null) => reason && reason.split(':', 1)[0]!;

function eventView(e: CausalEventRecord, whole: boolean): CausalEventView {
  return { ...e, payload: whole ? e.payload : null, session: whole ? e.session : null };
}

function deliveryView(d: CausalDeliveryRecord, whole: boolean): CausalDeliveryView {
  const settled = isSettledDelivery(d);
  return {
    id: d.id,
    eventId: d.eventId,
    trigger: d.trigger,
    status: d.status,
    state: !settled && d.triggerPaused ? 'paused' : d.status,
    settled,
    attemptCount: d.attempts,
    maxAttempts: d.maxAttempts,
    runAt: d.runAt,
    completedAt: d.completedAt,
    lastStatus: d.lastStatus,
    lastError: whole ? d.lastError : null,
    paused: d.triggerPaused,
    pausedReason: whole ? d.pausedReason : reasonKind(d.pausedReason),
    attempts: d.attemptLog.map((a) => ({ ...a, responseBody: whole ? a.responseBody : null, error: whole ? a.error : null })),
  };
}

/** What this viewer sees of the tree; undefined when it may not see it (or there is none). */
export function viewTree(tree: CausalTreeRecord | undefined, viewer: Viewer): CausalTreeView | undefined {
  if (!tree) return undefined;
  const whole = OPERATORS.includes(viewer.role);
  if (!whole && !causedBy(tree.events.find((e) => e.id === tree.rootId), viewer)) return undefined;
  const deliveries = tree.deliveries.map((d) => deliveryView(d, whole));
  const pending = deliveries.filter((d) => !d.settled).length;
  const workflows = tree.workflows.map((w) => ({ ...w, settled: isSettledWorkflow(w) }));
  return {
    rootId: tree.rootId,
    events: tree.events.map((e) => eventView(e, whole)),
    deliveries,
    workflows,
    settled: pending === 0 && workflows.every((w) => w.settled),
    failed: deliveries.some((d) => d.status === 'dead'),
    pending,
    truncated: tree.truncated,
  };
}

/** The one refusal, for a missing tree and another's alike. */
export const treeNotFound = (eventId: string) => notFound('Causal tree of event', eventId);
