/** `CausalEvent`: one event of a causal tree (graphql/modules/causalTree.ts). */
import { builder } from '../builder.js';
import type { CausalEventView } from './causalTreeAccess.js';

export const EventCauseEnum = builder.enumType('EventCause', {
  description:
    "Why an event was written: api (a client's write, with its session), delivery (a handler's write-back: causedByDelivery says which), workflow (a workflow's call step that no delivery caused, threefactor.workflow.step: startedByEvent is the event that started its instance, its parent), none (a write from outside the API, e.g. a captured table write from psql).",
  values: ['api', 'delivery', 'workflow', 'none'] as const,
});

export const CausalEventRef = builder.objectRef<CausalEventView>('CausalEvent').implement({
  description: 'One event of a causal tree: the root, or an event a delivery in the tree caused.',
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.exposeString('type'),
    aggregateType: t.exposeString('aggregateType'),
    aggregateId: t.exposeString('aggregateId'),
    payload: t.expose('payload', { type: 'JSONObject', nullable: true, description: 'Admin and service only (null for others).' }),
    session: t.expose('session', { type: 'JSONObject', nullable: true, description: 'Who caused it. Admin and service only (null for others).' }),
    traceId: t.exposeString('traceId', { nullable: true, description: 'The W3C trace id (32 hex digits) of its traceparent; null without one.' }),
    cause: t.expose('cause', { type: EventCauseEnum }),
    causedByEvent: t.exposeID('causedByEvent', { nullable: true, description: 'The event whose delivery caused it (null for the root, unless it was caused too).' }),
    causedByDelivery: t.exposeID('causedByDelivery', { nullable: true, description: 'The delivery whose handler wrote it: its parent in the tree.' }),
    startedByEvent: t.exposeID('startedByEvent', {
      nullable: true,
      description:
        'A workflow step no delivery caused (cause workflow: a first call, or one after a wait or a sleep): the event that started its instance, its parent in the tree (causedByEvent is what advanced it, e.g. the event a wait took, which may be outside the tree). A call the previous call’s completion started has cause delivery: that call’s delivery is its parent.',
    }),
    depth: t.exposeInt('depth', { description: 'Levels below the root (the root: 0).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
