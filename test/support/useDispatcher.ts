/**
 * The per-file dispatcher fixture: registers the beforeAll that makes a fresh
 * database and a webhook receiver and starts a dispatcher on them (quiet log,
 * the test webhook secret), and the afterAll that stops and closes them.
 * Trigger URLs come from the receiver, so the options are built once it runs.
 */
import { afterAll, beforeAll } from 'vitest';
import { startDispatcher, type Dispatcher, type DispatcherOptions } from '../../src/engine/dispatcher/dispatcher.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { TEST_WEBHOOK_SECRET, testLog } from './events.js';
import { startReceiver, type Receiver } from './receiver.js';

export interface DispatcherEnv {
  db: TestDatabase;
  receiver: Receiver;
  dispatcher: Dispatcher;
}

export type DispatcherSetup = Omit<DispatcherOptions, 'database' | 'log' | 'webhookSecret'>;

type Started = Omit<DispatcherEnv, 'dispatcher'>;

/**
 * `bind` sets a file's own `db`/`receiver` variables before `options` is
 * built and the dispatcher starts, so trigger builders and in-process
 * handlers may use them. The returned handle is filled in beforeAll.
 */
export function useDispatcher(options: (env: Started) => DispatcherSetup | Promise<DispatcherSetup>, bind?: (env: Started) => void): DispatcherEnv {
  const env = {} as DispatcherEnv;
  beforeAll(async () => {
    env.db = await freshDatabase();
    env.receiver = await startReceiver();
    bind?.(env);
    env.dispatcher = await startDispatcher({ database: env.db, log: testLog(), webhookSecret: TEST_WEBHOOK_SECRET, ...(await options(env)) });
  });
  afterAll(async () => {
    await env.dispatcher?.stop({ deadlineMs: 2_000 });
    await env.receiver?.close();
    await env.db?.drop();
  });
  return env;
}
