/**
 * `workflowInstance(id)` as a live subscription (admin only): the instance
 * with its history at once, then again each time the runner moves it. The
 * engine's live-state machinery does the work (realtime/live.ts): the feed
 * watches the instance's aggregate topic, where the runner appends its
 * engine events (a step started, a transition), re-reads the instance once
 * per hub tick for all subscribers (workflows/admin/liveInstances.ts), and a
 * slow client skips intermediate states, never the latest.
 */
import { instanceTopic, liveInstances, readLiveInstances, type LiveWorkflowInstance } from '../../workflows/admin/liveInstances.js';
import { liveSubscription } from '../../realtime/live.js';
import { builder } from '../builder.js';
import { forbidden, notFound } from '../errors.js';
import { uuid } from './validators.js';
import { WorkflowInstanceRef } from './workflowInstance.js';

interface InstanceArgs {
  id: string;
}

builder.subscriptionField('workflowInstance', (t) =>
  t.field({
    type: WorkflowInstanceRef,
    description: 'One workflow instance, live: its current state at once (NOT_FOUND for none), then every change. Admin only.',
    authScopes: { role: 'admin' },
    args: { id: t.arg.id({ validate: uuid }) },
    ...liveSubscription<LiveWorkflowInstance, InstanceArgs>({
      kind: 'workflowInstance',
      shape: 'row',
      rows: liveInstances,
      topic: ({ id }) => instanceTopic(id),
      initial: async ({ id }, ctx) => {
        const row = (await readLiveInstances(ctx.database.sql, [id])).get(id);
        if (!row) throw notFound('Workflow instance', id);
        return row;
      },
      // authScopes refuse other roles up front; a shared execution is per viewer, so this only restates it.
      admit: (_row, viewer) => (viewer.role === 'admin' ? 'send' : forbidden()),
    }),
  }),
);
