/** `CausalAttempt`: one attempt of a delivery in a causal tree (graphql/modules/causalTree.ts). */
import { builder } from '../builder.js';
import { AttemptOutcomeEnum } from './adminDeliveries.js';
import type { CausalAttemptView } from './causalTreeAccess.js';

export const CausalAttemptRef = builder.objectRef<CausalAttemptView>('CausalAttempt').implement({
  description: 'One HTTP call or in-process run of a delivery in a causal tree.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1-based attempt number of the delivery.' }),
    outcome: t.field({ type: AttemptOutcomeEnum, resolve: (a) => a.outcome as 'delivered' | 'retry' | 'dead' | 'paused' }),
    httpStatus: t.exposeInt('httpStatus', { nullable: true, description: 'null when no response came (timeout, connection error, handler threw).' }),
    durationMs: t.exposeInt('durationMs'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    applied: t.exposeBoolean('applied', { description: 'false: its outcome came after the lease was lost, so the delivery ran again.' }),
    responseBody: t.exposeString('responseBody', { nullable: true, description: 'The first 2 KB of the response body. Admin and service only (null for others).' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed. Admin and service only (null for others).' }),
  }),
});
