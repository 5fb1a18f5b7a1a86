/**
 * `CausalTree`, the `causalTree(eventId)` query and the `causalTree(eventId)`
 * subscription: what an event caused. GraphQL cannot recurse, so the tree is
 * flat lists with parent ids: every event (the root and, recursively, the
 * events its deliveries' handlers wrote back, each with causedByDelivery),
 * every delivery (with eventId and its attempts), every workflow instance
 * an event of it started (whose call steps are events of the tree, with
 * startedByEvent), and whether it has settled.
 *
 * The subscription streams the whole tree each time it changes (fed by the
 * process's tree registry, realtime/causalTrees.ts: one read per hub tick for
 * all subscribers), and once every delivery in it is delivered or dead sends
 * that settled tree and completes; an already settled tree is sent once.
 * Who sees which tree, and what of it: causalTreeAccess.ts, the same for both.
 */
import { readCausalTrees, MAX_TREE_DEPTH, MAX_TREE_EVENTS } from '../../events/sql/readCausalTrees.js';
import { subscribeCausalTree, CAUSAL_TREE_KIND } from '../../realtime/causalTreeSubscription.js';
import { unwrapDelivery, type Delivery } from '../../realtime/delivery.js';
import { builder } from '../builder.js';
import { CausalDeliveryRef } from './causalDelivery.js';
import { CausalEventRef } from './causalEvent.js';
import { treeNotFound, viewTree, type CausalTreeView, type CausalWorkflowView } from './causalTreeAccess.js';
import { uuid } from './validators.js';

const CausalWorkflowRef = builder.objectRef<CausalWorkflowView>('CausalWorkflow').implement({
  description: 'A workflow instance an event of the tree started; its call steps are events of the tree (cause workflow).',
  fields: (t) => ({
    id: t.exposeID('id'),
    workflow: t.exposeString('workflow'),
    version: t.exposeInt('version'),
    status: t.exposeString('status', { description: 'running, waiting, sleeping, compensating, completed, compensated or failed.' }),
    startedByEvent: t.exposeID('startedByEvent'),
    settled: t.exposeBoolean('settled', { description: 'completed, compensated or failed: it starts no more steps (unless an operator retries it).' }),
  }),
});

export const CausalTreeRef = builder.objectRef<CausalTreeView>('CausalTree').implement({
  description: `What an event caused: its deliveries with every attempt, and the events those deliveries' handlers wrote, recursively (at most ${MAX_TREE_DEPTH} levels and ${MAX_TREE_EVENTS} events).`,
  fields: (t) => ({
    rootId: t.exposeID('rootId', { description: 'The event asked about: the root of the tree.' }),
    events: t.expose('events', { type: [CausalEventRef], description: 'The root first, then level by level.' }),
    deliveries: t.expose('deliveries', { type: [CausalDeliveryRef] }),
    workflows: t.expose('workflows', { type: [CausalWorkflowRef], description: 'The workflow instances its events started, oldest first.' }),
    settled: t.exposeBoolean('settled', { description: 'Every delivery is delivered or dead and every workflow has ended: nothing more will happen.' }),
    failed: t.exposeBoolean('failed', { description: 'Some delivery is dead (a dead letter).' }),
    pending: t.exposeInt('pending', { description: 'Deliveries not settled yet (pending, running or paused).' }),
    truncated: t.exposeBoolean('truncated', { description: `The tree is deeper than ${MAX_TREE_DEPTH} levels or has more than ${MAX_TREE_EVENTS} events: the rest is left out.` }),
  }),
});

const DESCRIBE_ACCESS =
  'Admin and service see every tree; anyone else sees the tree of an event their own action caused, without payloads, sessions, response bodies or error text, and NOT_FOUND for any other.';

builder.queryField('causalTree', (t) =>
  t.field({
    type: CausalTreeRef,
    nullable: true,
    description: `What an event caused, as it stands now. ${DESCRIBE_ACCESS}`,
    args: { eventId: t.arg.id({ validate: uuid }) },
    resolve: async (_root, { eventId }, ctx) => {
      const id = String(eventId);
      const view = viewTree((await readCausalTrees(ctx.database.sql, [id])).get(id), ctx.viewer);
      if (!view) throw treeNotFound(id);
      return view;
    },
  }),
);

builder.subscriptionField('causalTree', (t) =>
  t.field({
    type: CausalTreeRef,
    description: `What an event caused, live: the whole tree each time it changes, until it settles (then the settled tree, and the subscription completes). ${DESCRIBE_ACCESS}`,
    args: { eventId: t.arg.id({ validate: uuid }) },
    // The result depends on the argument and the viewer only: identical subscriptions of one viewer may share an execution.
    extensions: { realtimeShare: 'latest' },
    subscribe: (_root, { eventId }, ctx) => {
      const id = String(eventId);
      return subscribeCausalTree(ctx.realtime, id, (tree) => viewTree(tree, ctx.viewer) ?? treeNotFound(id));
    },
    resolve: (delivery: Delivery<CausalTreeView>) => unwrapDelivery(delivery, CAUSAL_TREE_KIND),
  }),
);
