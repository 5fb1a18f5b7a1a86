/**
 * An API server for tests: the real yoga + HTTP stack on a fresh database,
 * with the app `APP` names (food-delivery unless overridden), listening on a random loopback port, with helpers to mint tokens and send
 * GraphQL over real HTTP.
 */
import { loadApp } from '../../src/cli/apps.js';
import type { Config } from '../../src/engine/config.js';
import { parseConfig } from '../../src/engine/config.js';
import type { Role } from '../../src/engine/graphql/context.js';
import { createLogger } from '../../src/engine/log.js';
import { createApi, type Api } from '../../src/engine/server/api.js';
import { mintToken } from '../../src/engine/server/auth.js';
import type { Database } from '../../src/engine/db/client.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } & Record<string, unknown> }>;
}

export interface TestApi {
  api: Api;
  url: string;
  config: Config;
  token(role: Role, sub?: string): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null, headers?: Record<string, string>): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', ...overrides });
}

export async function startTestApi(database: Database, overrides: Record<string, string> = {}): Promise<TestApi> {
  const config = testConfig(overrides);
  const api = createApi(config, database, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), await loadApp(config.APP));
  const { port } = await api.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    api,
    url,
    config,
    token: (role, sub = role) => mintToken(TEST_SECRET, { role, sub }),
    async gql(query, variables, token, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GqlResult, 'status'>;
      return { status: res.status, ...body } as GqlResult<never>;
    },
    close: () => api.drain(1000),
  };
}
