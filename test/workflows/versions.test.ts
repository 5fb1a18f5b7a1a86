/**
 * Versioning: instances pin the version they started with and finish on it
 * after a newer one is synced (current), new events start the new one, and a
 * stored version whose content changed is refused at sync with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatcher, type Dispatcher } from '../../src/engine/dispatcher/dispatcher.js';
import type { WorkflowDefinition } from '../../src/engine/workflows/definition.js';
import { syncWorkflows } from '../../src/engine/workflows/sync.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { emitEvents, TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { waitFor } from '../support/wait.js';
import { instancesByKey, StepRecorder } from './support.js';

const inProcess = (handler: string) => ({ target: { kind: 'inProcess' as const, handler }, retry: { numRetries: 0, timeoutSec: 5 } });
const v1: WorkflowDefinition = {
  name: 'pinned',
  version: 1,
  start: { types: ['p.start'] },
  steps: [
    { name: 'first', kind: 'call', handler: 'old' },
    { name: 'gate', kind: 'wait', for: { types: ['p.open'], condition: { payload: { v: { _eq: 1 } } } } },
    { name: 'last', kind: 'call', handler: 'old' },
  ],
  handlers: { old: inProcess('old') },
};
const v2: WorkflowDefinition = {
  name: 'pinned',
  version: 2,
  start: { types: ['p.start'] },
  steps: [
    { name: 'gate', kind: 'wait', for: { types: ['p.open'], condition: { payload: { v: { _eq: 2 } } } } },
    { name: 'only', kind: 'call', handler: 'new' },
  ],
  handlers: { new: inProcess('new'), old: inProcess('old') },
};

let db: TestDatabase;
let dispatcher: Dispatcher | undefined;
const rec = new StepRecorder();
const start = (workflows: WorkflowDefinition[]) =>
  startDispatcher({ database: db, log: testLog(), webhookSecret: TEST_WEBHOOK_SECRET, pollMs: 200, workflows, inProcessHandlers: rec.handlers(['old', 'new']) });
const emit = (type: string, key: string, payload: Record<string, unknown> = {}) => emitEvents(db, [{ type, aggregateType: 'test', aggregateId: key, payload: { key, ...payload } }]);

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await dispatcher?.stop({ deadlineMs: 2_000 });
  await db?.drop();
});

describe('workflow versions', () => {
  it('v1 instances finish on v1 after v2 is synced; new starts run v2', async () => {
    dispatcher = await start([v1]);
    for (const k of ['old-1', 'old-2']) await emit('p.start', k);
    await waitFor(async () => (await Promise.all(['old-1', 'old-2'].map((k) => instancesByKey(db, k)))).every(([i]) => i?.status === 'waiting'), 'v1 waiting');
    await dispatcher.stop({ deadlineMs: 2_000 });
    dispatcher = await start([v2]);
    const current = await db.sql<{ version: number; current: boolean }[]>`select version, current from threefactor.workflow_definitions where name = 'pinned' order by version`;
    expect(current).toEqual([{ version: 1, current: false }, { version: 2, current: true }]);

    await emit('p.start', 'new-1');
    await waitFor(async () => (await instancesByKey(db, 'new-1'))[0]?.status === 'waiting', 'v2 waiting');
    // Each version's wait keeps its own condition (both compiled into workflow_condition).
    for (const k of ['old-1', 'old-2']) await emit('p.open', k, { v: 1 });
    await emit('p.open', 'new-1', { v: 1 });
    for (const k of ['old-1', 'old-2']) await waitFor(async () => (await instancesByKey(db, k))[0]?.status === 'completed', `${k} completed`);
    expect((await instancesByKey(db, 'new-1'))[0]!.status).toBe('waiting');
    await emit('p.open', 'new-1', { v: 2 });
    await waitFor(async () => (await instancesByKey(db, 'new-1'))[0]?.status === 'completed', 'new-1 completed');

    for (const k of ['old-1', 'old-2']) {
      const [i] = await instancesByKey(db, k);
      expect(i).toMatchObject({ version: 1, results: { first: { by: 'old' }, gate: expect.any(Object), last: { by: 'old' } } });
      expect(rec.forKey(k).map((c) => `${c.handler}:${c.step}`)).toEqual(['old:first', 'old:last']);
    }
    const [n] = await instancesByKey(db, 'new-1');
    expect(n).toMatchObject({ version: 2, results: { gate: expect.any(Object), only: { by: 'new' } } });
    expect(rec.forKey('new-1').map((c) => `${c.handler}:${c.step}`)).toEqual(['new:only']);
  });

  it('refuses a stored version whose content changed', async () => {
    const changed: WorkflowDefinition = { ...v2, steps: [...v2.steps, { name: 'extra', kind: 'sleep', seconds: 1 }] };
    await expect(syncWorkflows(db.sql, [changed])).rejects.toThrow('workflow pinned version 2 changed; bump its version');
    // The same content in another key order is the same version.
    const reordered = JSON.parse(JSON.stringify({ handlers: v2.handlers, steps: v2.steps, start: v2.start, version: 2, name: 'pinned' })) as WorkflowDefinition;
    await expect(syncWorkflows(db.sql, [reordered])).resolves.toMatchObject({ inserted: [], current: [] });
  });
});
