/**
 * The per-file API fixture: registers the beforeAll that makes a fresh
 * database (optionally seeded with the demo data), starts the real API on it
 * and mints each actor's token, and the afterAll that closes and drops them.
 * Hooks a file registers later run after this setup and before this teardown.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/engine/db/client.js';
import { startTestApi, type TestApi } from './api.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { seeded, tokensFor, type Tokens } from './orders.js';

export interface TestEnv {
  db: TestDatabase;
  api: TestApi;
  tokens: Tokens;
}

export interface TestApiOptions {
  /** Load the demo data before the API starts. */
  seed?: boolean;
  /** Config overrides for the API (environment variable names). */
  overrides?: Record<string, string>;
  /** Pool size of the file's database. */
  max?: number;
  /** What the API is given instead of the database itself (e.g. an instrumented client). */
  serve?: (db: TestDatabase) => Database;
}

/**
 * The returned handle is filled in beforeAll; `bind` is called then too, to
 * set a file's own `db`/`api`/`tokens` variables.
 */
export function useTestApi(opts: TestApiOptions = {}, bind?: (env: TestEnv) => void): TestEnv {
  const env = {} as TestEnv;
  beforeAll(async () => {
    env.db = await freshDatabase(opts.max === undefined ? {} : { max: opts.max });
    if (opts.seed) await seeded(env.db);
    env.api = await startTestApi(opts.serve ? opts.serve(env.db) : env.db, opts.overrides);
    env.tokens = await tokensFor(env.api);
    bind?.(env);
  });
  afterAll(async () => {
    await env.api?.close();
    await env.db?.drop();
  });
  return env;
}
