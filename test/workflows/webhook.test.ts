/**
 * Step calls over real signed webhooks, served by the kit's Node adapter
 * with defineStep handlers: webhook-id = idempotency-key = tools.idempotencyKey
 * = the step id, the kit verifies the signature, a step's JSON result reaches
 * the next step in `results` and the instance's results, and a compensation
 * is told the failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { defineStep, PermanentFailure, type StepEvent } from '../../src/kit/index.js';
import { serveHandlers, type FunctionsServer } from '../../src/kit/node.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { history, instancesByKey } from './support.js';

interface Seen {
  handler: string;
  step: StepEvent<{ orderId: string }>;
  idempotencyKey: string;
}
const seen: Seen[] = [];
const input = z.object({ orderId: z.string() });

const charge = defineStep({
  name: 'charge',
  input,
  async handle(step, tools) {
    seen.push({ handler: 'charge', step, idempotencyKey: tools.idempotencyKey });
    return { chargeId: `ch_${step.input.orderId}` };
  },
});
const ship = defineStep({
  name: 'ship',
  input,
  async handle(step, tools) {
    seen.push({ handler: 'ship', step, idempotencyKey: tools.idempotencyKey });
    if (step.input.orderId === 'nope') throw new PermanentFailure('cannot ship');
    return { tracking: `${String((step.results.charge as { chargeId: string }).chargeId)}-t` };
  },
});
const refund = defineStep({
  name: 'refund',
  input,
  async handle(step, tools) {
    seen.push({ handler: 'refund', step, idempotencyKey: tools.idempotencyKey });
    return { refunded: (step.results.charge as { chargeId: string }).chargeId };
  },
});

let db: TestDatabase;
let server: FunctionsServer;
let dispatcher: Dispatcher;

beforeAll(async () => {
  db = await freshDatabase();
  server = await serveHandlers([charge, ship, refund], { webhookSecret: TEST_WEBHOOK_SECRET, apiUrl: 'http://127.0.0.1:9/graphql', serviceToken: 'unused', port: 0, log: testLog() });
  const hook = (name: string) => ({ target: { kind: 'webhook' as const, url: `${server.url}/${name}` }, retry: { numRetries: 1, intervalSec: 0, timeoutSec: 5 } });
  const order: WorkflowDefinition = {
    name: 'order',
    version: 1,
    start: { types: ['order.placed'], key: { payloadField: 'orderId' } },
    steps: [
      { name: 'charge', kind: 'call', handler: 'charge', compensate: 'refund' },
      { name: 'ship', kind: 'call', handler: 'ship' },
    ],
    handlers: { charge: hook('charge'), ship: hook('ship'), refund: hook('refund') },
  };
  dispatcher = await startDispatcher({ database: db, log: testLog(), webhookSecret: TEST_WEBHOOK_SECRET, pollMs: 200, workflows: [order] });
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await server?.drain(1_000);
  await db?.drop();
});

const place = (orderId: string) => emitEvents(db, [{ type: 'order.placed', aggregateType: 'order', aggregateId: `agg-${orderId}`, payload: { orderId } }]);

describe('workflow steps over signed webhooks', () => {
  it('passes the step id as webhook-id and idempotency key, and results on to the next step', async () => {
    await place('o-1');
    await waitFor(async () => (await instancesByKey(db, 'o-1'))[0]?.status === 'completed', 'completed', 15_000);
    const [instance] = await instancesByKey(db, 'o-1');
    expect(instance!.results).toEqual({ charge: { chargeId: 'ch_o-1' }, ship: { tracking: 'ch_o-1-t' } });
    const steps = await history(db, instance!.id);
    const calls = seen.filter((s) => s.step.instanceId === instance!.id);
    expect(calls.map((c) => c.handler)).toEqual(['charge', 'ship']);
    calls.forEach((c, i) => {
      expect(c.idempotencyKey).toBe(steps[i]!.id);
      expect(c.step.id).toBe(steps[i]!.id);
      expect(c.step).toMatchObject({ workflow: 'order', version: 1, phase: 'forward', input: { orderId: 'o-1' } });
    });
    // The dispatcher's attempts log holds the kit's answer, whose result the engine took.
    const [attempt] = await db.sql<{ response_body: string; http_status: number }[]>`
      select a.response_body, a.http_status from threefactor.delivery_attempts a where a.delivery_id = ${steps[0]!.delivery_id!}`;
    expect(attempt!.http_status).toBe(200);
    expect(JSON.parse(attempt!.response_body)).toEqual({ ok: true, outcome: 'step-done', result: { chargeId: 'ch_o-1' } });
  });

  it('a step refused for good (422) compensates the charge with a refund that sees the failure', async () => {
    await place('nope');
    await waitFor(async () => (await instancesByKey(db, 'nope'))[0]?.status === 'compensated', 'compensated', 15_000);
    const [instance] = await instancesByKey(db, 'nope');
    const refundCall = seen.find((s) => s.handler === 'refund' && s.step.instanceId === instance!.id)!;
    expect(refundCall.step).toMatchObject({ phase: 'compensate', step: 'charge', failure: { step: 'ship', reason: 'dead' } });
    const steps = await history(db, instance!.id);
    expect(steps.map((s) => `${s.name}/${s.kind}/${s.status}`)).toEqual(['charge/call/completed', 'ship/call/failed', 'charge/compensate/completed']);
    expect(refundCall.idempotencyKey).toBe(steps[2]!.id);
    expect(steps[2]!.result).toEqual({ refunded: 'ch_nope' });
  });
});
