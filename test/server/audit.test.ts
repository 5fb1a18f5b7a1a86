/**
 * GraphQL over HTTP conformance: the graphql-http audit suite against the
 * real server. Every MUST holds; SHOULD/MAY findings are listed, not failed.
 */
import { auditServer, type AuditFail } from 'graphql-http';
import { describe, expect, it } from 'vitest';
import type { TestApi } from '../support/api.js';
import { useTestApi } from '../support/useTestApi.js';

let api: TestApi;

useTestApi({}, (env) => ({ api } = env));

describe('graphql-http server audit', () => {
  it('passes every MUST audit (authenticated as a customer)', async () => {
    const token = await api.token('customer', '00000000-0000-4000-8000-000100000001');
    let requests = 0;
    const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) => {
      requests++;
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: `${api.url}/graphql`, fetchFn });
    expect(results.length).toBeGreaterThan(30);
    expect(requests).toBeGreaterThanOrEqual(results.length);
    const mustFailures = results.filter((r): r is AuditFail => r.name.startsWith('MUST') && r.status !== 'ok');
    expect(mustFailures.map((r) => `${r.id} ${r.name}: ${r.reason}`), 'MUST audits failing').toEqual([]);
  });
});
