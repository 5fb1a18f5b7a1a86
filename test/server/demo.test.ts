import { request } from 'node:http';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_ID, DEMO_TOKEN_TTL_SECONDS, type DemoTokens } from '../../src/apps/food-delivery/demo/routes.js';
import { demoCustomers, demoDrivers, demoRestaurants } from '../../src/apps/food-delivery/db/demoData.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { ensureDemoBuilt } from '../web/demoBuild.js';

let db: TestDatabase;
let dev: TestApi;
let prod: TestApi;

beforeAll(async () => {
  await ensureDemoBuilt();
  db = await freshDatabase();
  [dev, prod] = await Promise.all([startTestApi(db), startTestApi(db, { NODE_ENV: 'production' })]);
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close()]);
  await db?.drop();
});

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function raw(base: string, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The built page's script and stylesheet, as its index.html names them. */
async function assetsOf(base: string): Promise<{ script: string; style: string }> {
  const html = await (await fetch(`${base}/demo/`)).text();
  return { script: /<script type="module" crossorigin src="([^"]+)"/.exec(html)![1]!, style: /<link rel="stylesheet" crossorigin href="([^"]+)"/.exec(html)![1]! };
}

const DEMO_PATHS = ['/', '/demo', '/demo/', '/demo/index.html', '/demo/assets/index.js', '/demo/tokens'];

describe('web demo outside production', () => {
  it('redirects / to /demo/ and serves the page with a same-origin CSP', async () => {
    const root = await raw(dev.url, '/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/demo/');

    const page = await fetch(`${dev.url}/demo/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const { script, style } = await assetsOf(dev.url);
    expect(script).toMatch(/^\/demo\/assets\/index-[\w-]+\.js$/);
    expect(style).toMatch(/^\/demo\/assets\/index-[\w-]+\.css$/);
  });

  it("serves Vite's build from web-demo/dist/: hashed assets, cached for good", async () => {
    const { script, style } = await assetsOf(dev.url);
    const app = await fetch(`${dev.url}${script}`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(app.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // graphql-ws and urql are bundled: the page needs nothing else.
    expect(await app.text()).toContain('graphql-transport-ws');
    const css = await fetch(`${dev.url}${style}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('hands out short-lived tokens for every seeded demo actor, and they authenticate', async () => {
    const res = await fetch(`${dev.url}/demo/tokens`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const tokens = (await res.json()) as DemoTokens;

    expect(tokens.customers.map((c) => c.id)).toEqual(demoCustomers.map((c) => c.id));
    expect(tokens.restaurants.map((r) => r.name)).toEqual(demoRestaurants.map((r) => r.name));
    expect(tokens.drivers.map((d) => d.id)).toEqual(demoDrivers.map((d) => d.id));
    const expected: Array<[string, string, string]> = [
      [tokens.admin.token, 'admin', DEMO_ADMIN_ID],
      [tokens.customers[0]!.token, 'customer', demoCustomers[0]!.id!],
      [tokens.restaurants[1]!.token, 'restaurant', demoRestaurants[1]!.id!],
      [tokens.drivers[2]!.token, 'driver', demoDrivers[2]!.id!],
    ];
    for (const [token, role, sub] of expected) {
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ role, sub });
      expect(claims.exp! - claims.iat!).toBe(DEMO_TOKEN_TTL_SECONDS);
      const gql = await dev.gql<{ restaurants: unknown[] }>('{ restaurants { id } }', {}, token);
      expect(gql.status).toBe(200);
      expect(gql.errors).toBeUndefined();
    }
    expect(Date.parse(tokens.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('refuses paths that would leave web-demo/ and unknown files', async () => {
    for (const path of ['/demo/../package.json', '/demo/..%2fpackage.json', '/demo/.env', '/demo/nope.js', '/demo/sub/app.js', '/demo/assets/../index.html', '/demo/assets/.hidden.js', '/demo/src/main.ts']) {
      const res = await raw(dev.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('"name": "threefactor"');
    }
  });

  it('answers only GET and HEAD', async () => {
    const post = await raw(dev.url, '/demo/tokens', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await raw(dev.url, (await assetsOf(dev.url)).script, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('leaves the API routes alone', async () => {
    expect((await fetch(`${dev.url}/healthz`)).status).toBe(200);
    expect((await dev.gql('{ restaurants { id } }')).status).toBe(401);
  });
});

describe('web demo in production', () => {
  it('is off: every demo path is 404, and no token is minted', async () => {
    for (const path of DEMO_PATHS) {
      const res = await raw(prod.url, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('eyJ');
    }
  });

  it('can be turned on with DEMO=true, and off anywhere with DEMO=false', async () => {
    const [on, off] = await Promise.all([
      startTestApi(db, { NODE_ENV: 'production', DEMO: 'true' }),
      startTestApi(db, { DEMO: 'false' }),
    ]);
    try {
      expect((await raw(on.url, '/demo/tokens')).status).toBe(200);
      expect((await raw(off.url, '/demo/tokens')).status).toBe(404);
      expect((await raw(off.url, '/demo/')).status).toBe(404);
    } finally {
      await Promise.all([on.close(), off.close()]);
    }
  });
});
