/**
 * Who may read /metrics, and what a scrape costs the database:
 * - in production the API's public port serves /metrics only with
 *   METRICS_TOKEN (a bearer token), otherwise 404; outside production it is
 *   open unless a token is set;
 * - the separate listener (METRICS_PORT) binds METRICS_HOST, loopback by
 *   default, and asks for the same token when one is set;
 * - the queue gauges' query runs at most once per few seconds, however
 *   often Prometheus (or anyone) scrapes.
 */
import { networkInterfaces } from 'node:os';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchDeliveryQueues } from '../../src/engine/dispatcher/metrics.js';
import { freePort } from '../../src/engine/db/embedded.js';
import { startMetricsServer } from '../../src/engine/server/metricsServer.js';
import { startTestApi, TEST_SECRET, testConfig, type TestApi } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET, testLog } from '../support/events.js';
import { runCommand } from '../support/processes.js';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';

let db: TestDatabase;
let dev: TestApi;
let prod: TestApi;
let prodWithToken: TestApi;

beforeAll(async () => {
  db = await freshDatabase();
  [dev, prod, prodWithToken] = await Promise.all([
    startTestApi(db),
    startTestApi(db, { NODE_ENV: 'production' }),
    startTestApi(db, { NODE_ENV: 'production', METRICS_TOKEN }),
  ]);
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close(), prodWithToken?.close()]);
  await db?.drop();
});

const scrape = (base: string, token?: string) => fetch(`${base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** An address of this machine other than loopback, to reach a listener as a remote client would. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('/metrics on the API port', () => {
  it('is not served in production without METRICS_TOKEN', async () => {
    const res = await scrape(prod.url);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('threefactor_');
  });

  it('asks for the bearer token in production when METRICS_TOKEN is set', async () => {
    const anonymous = await scrape(prodWithToken.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymous.text()).not.toContain('threefactor_');
    expect((await scrape(prodWithToken.url, 'not-the-metrics-token-at-all!!')).status).toBe(401);
    // An API token is not a metrics token.
    expect((await scrape(prodWithToken.url, await prodWithToken.token('admin', 'ops'))).status).toBe(401);

    const allowed = await scrape(prodWithToken.url, METRICS_TOKEN);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('threefactor_graphql_operations_total');
  });

  it('stays open outside production when no token is set', async () => {
    const res = await scrape(dev.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('threefactor_');
  });
});

describe('the METRICS_PORT listener', () => {
  it('binds loopback by default (METRICS_HOST)', async () => {
    const config = testConfig();
    expect(config.METRICS_HOST).toBe('127.0.0.1');
    const server = await startMetricsServer(0, testLog(), { host: config.METRICS_HOST });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await scrape(server.url)).status).toBe(200);
      const remote = externalAddress();
      if (remote) await expect(fetch(`http://${remote}:${server.port}/metrics`)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('asks for METRICS_TOKEN when it is set', async () => {
    const server = await startMetricsServer(0, testLog(), { host: '127.0.0.1', token: METRICS_TOKEN });
    try {
      expect((await scrape(server.url)).status).toBe(401);
      expect((await scrape(server.url, 'wrong-token-wrong-token-wrong')).status).toBe(401);
      expect((await scrape(server.url, METRICS_TOKEN)).status).toBe(200);
      // Liveness needs no token.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('is served beside a production API process, which keeps /metrics off its public port', { timeout: 90_000 }, async () => {
    const metricsPort = await freePort();
    const proc = runCommand(['start'], {
      DATABASE_URL: urlFor(db.name),
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: '0',
      METRICS_PORT: String(metricsPort),
      AUTH_JWT_SECRET: TEST_SECRET,
      WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      ALL_IN_ONE: 'false',
    });
    try {
      const api = String((await proc.waitForLog((l) => l.msg === 'api listening', 60_000)).url).replace(/\/graphql$/, '');
      const listening = await proc.waitForLog((l) => l.msg === 'metrics listening');
      expect(listening.url).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
      expect((await scrape(api)).status).toBe(404);
      const res = await scrape(`http://127.0.0.1:${metricsPort}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('threefactor_graphql_operations_total');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('refuses a METRICS_TOKEN too short to be a secret', () => {
    expect(() => testConfig({ METRICS_TOKEN: 'short' })).toThrow(/^config: METRICS_TOKEN must be at least 16 characters$/);
  });
});

describe('the queue gauges under rapid scrapes', () => {
  it('reads the database once for many scrapes, and again once the cached read is a few seconds old', async () => {
    // The gauges' grouped count, seen by the client that runs it.
    let reads = 0;
    const counting = postgres(urlFor(db.name), {
      max: 1,
      onnotice: () => {},
      debug: (_connection, query) => {
        if (query.includes('from threefactor.event_triggers as t')) reads++;
      },
    });
    const unwatch = watchDeliveryQueues(counting, testLog());
    try {
      for (let i = 0; i < 20; i++) expect((await scrape(dev.url)).status).toBe(200);
      await Promise.all(Array.from({ length: 20 }, async () => expect((await scrape(dev.url)).status).toBe(200)));
      expect(reads).toBe(1);

      // Not frozen: a scrape after the cache's age reads the table again.
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      await scrape(dev.url);
      expect(reads).toBe(2);
    } finally {
      unwatch();
      await counting.end();
    }
  });
});
