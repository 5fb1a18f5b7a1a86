/**
 * DEMO_CONSOLE, through the real API and its HTTP server (the app's demo
 * routes on the real Vite build): what is served in each mode. Production
 * serves nothing of the demo or the console unless the operator enables the
 * console, and then the page and the console's chunk but never a token
 * route; in development everything is on, and DEMO_CONSOLE=false withholds
 * the console's chunk.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DIST } from '../../src/apps/food-delivery/demo/routes.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { ensureDemoBuilt } from './demoBuild.js';

let db: TestDatabase;
let consoleChunk: string;
const apis: TestApi[] = [];

beforeAll(async () => {
  await ensureDemoBuilt();
  const chunk = readdirSync(path.join(DEMO_DIST, 'assets')).find((f) => /^operations-.*\.js$/.test(f));
  expect(chunk, 'the console is a chunk of its own').toBeDefined();
  consoleChunk = `/demo/assets/${chunk}`;
  db = await freshDatabase();
}, 120_000);

afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await db?.drop();
});

async function serve(env: Record<string, string>): Promise<(pathname: string) => Promise<Response>> {
  const api = await startTestApi(db, env);
  apis.push(api);
  return (pathname) => fetch(`${api.url}${pathname}`, { redirect: 'manual' });
}

describe('DEMO_CONSOLE', () => {
  it('production, by default: nothing of the demo or the console is served', async () => {
    const get = await serve({ NODE_ENV: 'production' });
    for (const pathname of ['/demo/', '/demo/tokens', '/demo/settings.json', consoleChunk, '/demo/#/operations']) {
      expect((await get(pathname)).status, pathname).toBe(404);
    }
    expect((await get('/')).status).toBe(404);
  });

  it('production with DEMO_CONSOLE=true: the page and the console, no token route, no redirect of /', async () => {
    const get = await serve({ NODE_ENV: 'production', DEMO_CONSOLE: 'true' });
    const page = await get('/demo/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await get(consoleChunk)).status).toBe(200);
    expect((await get('/demo/tokens')).status).toBe(404);
    expect(await (await get('/demo/settings.json')).json()).toEqual({ demo: false, console: true, tokens: false });
    expect((await get('/')).status).toBe(404);
  });

  it('development: the demo, its tokens and the console', async () => {
    const get = await serve({});
    expect(await (await get('/demo/settings.json')).json()).toEqual({ demo: true, console: true, tokens: true });
    expect((await get(consoleChunk)).status).toBe(200);
    expect((await get('/demo/tokens')).status).toBe(200);
    expect((await get('/')).headers.get('location')).toBe('/demo/');
  });

  it('development with DEMO_CONSOLE=false: the demo without the console', async () => {
    const get = await serve({ DEMO_CONSOLE: 'false' });
    expect(await (await get('/demo/settings.json')).json()).toEqual({ demo: true, console: false, tokens: true });
    expect((await get('/demo/')).status).toBe(200);
    expect((await get(consoleChunk)).status).toBe(404);
    expect((await get(`${consoleChunk}.map`)).status).toBe(404);
  });

  it('refuses a value that is not a switch, naming the variable', async () => {
    await expect(serve({ DEMO_CONSOLE: 'maybe' })).rejects.toThrow(/^config: DEMO_CONSOLE /);
  });
});
