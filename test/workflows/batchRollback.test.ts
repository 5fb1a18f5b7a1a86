/**
 * A runner batch that fails part-way rolls back whole: none of its writes
 * (the step's finish, the next call's event, delivery and step row, the
 * instance's new state, the transition events, and the settled call's
 * outcome written in the same batch) is left behind, and the batch is
 * retried until it goes through, each step still called once. The failure is
 * real: a trigger of the test's own refuses the next step's row, a statement
 * of the last round trip, the one whose COMMIT is sent right behind it.
 * Each failed batch gives back the slot it reserved for the second call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import { ENGINE_EVENTS } from '../../src/engine/events/engineEvents.js';
import { STEP_EVENT_TYPE } from '../../src/kit/contract.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { history, instancesByKey, StepRecorder, twoCallWorkflow } from './support.js';

const twoCalls = twoCallWorkflow('rollback-two-calls', 'rb.started');

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
const rec = new StepRecorder();

beforeAll(async () => {
  db = await freshDatabase();
  await db.sql.unsafe(`
    create table public.refuse_step (name text primary key);
    create function public.refuse_step() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from public.refuse_step where name = new.name) then
        raise exception 'refused by the test: step %', new.name;
      end if;
      return new;
    end $$;
    create trigger refuse_step before insert on threefactor.workflow_steps for each row execute function public.refuse_step();
    insert into public.refuse_step values ('second');`);
  dispatcher = await startDispatcher({
    database: db,
    log: testLog(),
    webhookSecret: TEST_WEBHOOK_SECRET,
    pollMs: 200,
    // No poll batch: the first call's outcome comes while the runner is idle, so it goes into the runner's batch
    // (the one that fails) rather than to the completer (outcomeDuringBatch.test.ts has both ways).
    workflowPollMs: 60_000,
    // One slot: a failed batch that kept the slot it reserved for its eager call would leave the second call
    // nowhere to run once the failure is gone.
    concurrency: 1,
    workflows: [twoCalls],
    inProcessHandlers: rec.handlers(['step']),
  });
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await db?.drop();
});

describe('a runner batch that fails part-way', () => {
  it('leaves nothing of itself behind, and goes through once the failure is gone, each step called once', async () => {
    await emitEvents(db, [{ type: 'rb.started', aggregateType: 'test', aggregateId: 'rb', payload: { key: 'rb' } }]);
    await waitFor(() => rec.forKey('rb').length === 1, 'the first call made', 10_000);
    const [instance] = await instancesByKey(db, 'rb');
    const [first] = await history(db, instance!.id);
    expect(first).toMatchObject({ name: 'first', status: 'running' });

    // The batch after the first call fails at the second step's row, again and again (backing off): give it a few tries.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [now] = await instancesByKey(db, 'rb');
    expect({ status: now!.status, step: now!.step_index, phase: now!.phase }).toEqual({ status: 'running', step: 0, phase: 'forward' });
    expect((await history(db, instance!.id)).map((s) => [s.name, s.status])).toEqual([['first', 'running']]);
    const deliveries = await db.sql<{ status: string }[]>`
      select d.status::text from threefactor.deliveries as d join threefactor.workflow_steps as s on s.delivery_id = d.id where s.instance_id = ${instance!.id}`;
    expect(deliveries.map((d) => d.status)).toEqual(['running']);
    // The instance's own events: its start, and the first step's call; not the second's, and no transition.
    const events = await db.sql<{ type: string }[]>`
      select type from threefactor.events where type like 'threefactor.workflow.%' and aggregate_id = ${instance!.id}`;
    expect(events.map((e) => e.type).sort()).toEqual([ENGINE_EVENTS.workflowStarted, STEP_EVENT_TYPE].sort());
    expect(rec.forKey('rb')).toHaveLength(1);

    await db.sql`delete from public.refuse_step`;
    await waitFor(async () => (await instancesByKey(db, 'rb'))[0]?.status === 'completed', 'the instance completed', 15_000);
    expect(rec.forKey('rb').map((c) => c.step)).toEqual(['first', 'second']);
    expect([...rec.countsByStep().values()]).toEqual([1, 1]);
    expect((await history(db, instance!.id)).map((s) => [s.name, s.status])).toEqual([
      ['first', 'completed'],
      ['second', 'completed'],
    ]);
  });
});
