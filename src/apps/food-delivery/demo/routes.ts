/**
 * The web demo — a DEV CONVENIENCE, OFF IN PRODUCTION.
 *
 * Serves the browser app Vite built into `web-demo/dist/` at `/demo/` (and
 * redirects `/` there), and `GET /demo/tokens`: short-lived JWTs for the seeded demo customers,
 * restaurants, drivers and an admin, so one page can act every role without
 * a login. Whoever reaches that route gets an admin token, so the demo is on
 * only when `NODE_ENV !== 'production'` or `DEMO=true` (and `DEMO=false` turns
 * it off anywhere); when off, every demo path is a plain 404 from the GraphQL
 * server behind it, as if this module did not exist. Even when on, the tokens
 * go to loopback clients only (a browser on this machine) unless
 * `DEMO_TOKENS_REMOTE=true`: a server started with HOST=0.0.0.0 on a shared
 * network does not hand admin tokens to its neighbours.
 *
 * The operations console (`#/operations`, the admin's view of deliveries) is
 * a chunk of its own, served only when `DEMO_CONSOLE` is on (default: as the
 * demo is, so off in production and with `DEMO=false`). In production it is the one thing an operator may
 * turn on: `DEMO_CONSOLE=true` serves the page and the console at /demo/,
 * with no token route and no other view: the operator enters an admin token
 * in the page. `GET /demo/settings.json` tells the page which of these this
 * server serves.
 *
 * The build is `npm install`'s (its `prepare` step, scripts/buildDemo.mjs). A
 * production install has no Vite and builds nothing: then /demo/ answers 503
 * with a page that says how to build it, and `start` logs the same once.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoCustomers, demoDrivers, demoRestaurants } from '../db/demoData.js';
import { mintToken, type Config, type ExtraRoute, type Logger, type Role } from '../../../engine/index.js';
import type { DemoActor, DemoTokens } from './tokenTypes.js';

/** Long enough for a demo session, short enough that a leaked one soon dies; the page refreshes them. */
export const DEMO_TOKEN_TTL_SECONDS = 30 * 60;
/** The admin the demo's event log acts as (admins have no row). */
export const DEMO_ADMIN_ID = 'demo-admin';

/** Vite's output (web-demo/vite.config.ts), gitignored. */
export const DEMO_DIST = fileURLToPath(new URL('../../../../web-demo/dist/', import.meta.url));
/** index.html, or a flat file under assets/: no other slash, no leading dot, so no path can leave DEMO_DIST. */
const STATIC_FILE = /^\/demo\/((?:assets\/)?[a-z0-9][\w.-]*\.(html|js|css|svg|map))$/i;
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  map: 'application/json',
};
/** Vite names every asset by its content hash: a browser may keep one for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

export const DEMO_NOT_BUILT =
  'The web demo is not built (web-demo/dist/ is missing): `npm install` builds it when the dev dependencies are installed; or run `npm run demo:build`.';
const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>threefactor · demo not built</title></head><body><main><h1>The web demo is not built</h1><p>${DEMO_NOT_BUILT.replaceAll('`', '')}</p><p>The GraphQL API at <code>/graphql</code> works without it.</p></main></body></html>`;
/** The page talks only to this origin: GraphQL over fetch and graphql-ws. */
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function demoEnabled(config: Pick<Config, 'NODE_ENV' | 'DEMO'>): boolean {
  return config.DEMO ?? config.NODE_ENV !== 'production';
}

/** Wherever the demo is on, unless turned off; where it is off (production, or DEMO=false), only DEMO_CONSOLE=true serves it. */
export function consoleEnabled(config: Pick<Config, 'NODE_ENV' | 'DEMO' | 'DEMO_CONSOLE'>): boolean {
  return config.DEMO_CONSOLE ?? demoEnabled(config);
}

/** What the page may offer (`GET /demo/settings.json`): the live demo views, the console, the token route. */
export interface DemoSettings {
  demo: boolean;
  console: boolean;
  tokens: boolean;
}

/** The console's chunk (web-demo/src/views/operations*.ts, loaded by a dynamic import) and its source map. */
const CONSOLE_ASSET = /^assets\/operations[-.]/i;

export const REMOTE_TOKENS_REFUSED = 'Demo tokens are served to loopback clients only; set DEMO_TOKENS_REMOTE=true to serve them to any client';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. Behind a proxy on this machine every client looks local. */
function isLoopback(address: string | undefined): boolean {
  const ip = address?.replace(/^::ffff:/i, '') ?? '';
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

export type { DemoActor, DemoTokens };

/** Tokens for every seeded demo actor (ids from src/db/seed/demoData.ts). */
export async function mintDemoTokens(secret: string, now = Date.now()): Promise<DemoTokens> {
  const ttl = `${DEMO_TOKEN_TTL_SECONDS}s`;
  // Seed rows type their id as optional (the database has a default), but every demo row sets one.
  const actor = async (role: Role, row: { id?: string; name: string }): Promise<DemoActor> => ({
    id: row.id!,
    name: row.name,
    token: await mintToken(secret, { role, sub: row.id! }, ttl),
  });
  return {
    expiresAt: new Date(now + DEMO_TOKEN_TTL_SECONDS * 1000).toISOString(),
    admin: await actor('admin', { id: DEMO_ADMIN_ID, name: 'Demo admin' }),
    customers: await Promise.all(demoCustomers.map((c) => actor('customer', c))),
    restaurants: await Promise.all(demoRestaurants.map((r) => actor('restaurant', r))),
    drivers: await Promise.all(demoDrivers.map((d) => actor('driver', d))),
  };
}

/** The demo's routes, or undefined when the demo is off (then nothing is mounted at all). */
export function createDemoRoutes(config: Config, log: Logger, { dist = DEMO_DIST }: { dist?: string } = {}): ExtraRoute | undefined {
  const settings: DemoSettings = { demo: demoEnabled(config), console: consoleEnabled(config), tokens: demoEnabled(config) };
  if (!settings.demo && !settings.console) return undefined;
  if (config.NODE_ENV === 'production' && settings.console) {
    log.info(`DEMO_CONSOLE: the operations console is served at /demo/#/operations${settings.tokens ? '' : ' (on an admin token the operator enters)'}`);
  }
  if (config.NODE_ENV === 'production' && settings.demo) {
    const who = config.DEMO_TOKENS_REMOTE ? 'anyone who can reach this server' : 'every client on this machine (a local proxy makes that everyone)';
    log.warn(`DEMO=true in production: /demo/tokens hands out admin tokens to ${who}`);
  }
  const secret = config.AUTH_JWT_SECRET;
  if (!existsSync(path.join(dist, 'index.html'))) log.warn(DEMO_NOT_BUILT);

  return (req, res) => {
    const pathname = req.url?.split('?')[0] ?? '';
    if (pathname !== '/' && pathname !== '/demo' && !pathname.startsWith('/demo/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed', { allow: 'GET, HEAD' });
      return true;
    }
    // Console only: `/` stays the API's.
    if (pathname === '/' && !settings.demo) return false;
    if (pathname === '/' || pathname === '/demo') {
      res.writeHead(302, { location: '/demo/' }).end();
      return true;
    }
    if (pathname === '/demo/settings.json') {
      send(res, 200, 'application/json', JSON.stringify(settings), { 'cache-control': 'no-store' });
      return true;
    }
    if (pathname === '/demo/tokens' && !settings.tokens) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return true;
    }
    if (pathname === '/demo/tokens') {
      if (!config.DEMO_TOKENS_REMOTE && !isLoopback(req.socket.remoteAddress)) {
        send(res, 403, 'text/plain; charset=utf-8', REMOTE_TOKENS_REFUSED);
        return true;
      }
      if (!secret) {
        send(res, 503, 'text/plain; charset=utf-8', 'Demo tokens need AUTH_JWT_SECRET (a JWKS issuer mints its own)');
        return true;
      }
      void mintDemoTokens(secret).then(
        (tokens) => send(res, 200, 'application/json', JSON.stringify(tokens), { 'cache-control': 'no-store' }),
        (err: unknown) => {
          log.error({ err }, 'demo tokens failed');
          send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error');
        },
      );
      return true;
    }
    const name = pathname === '/demo/' ? 'index.html' : STATIC_FILE.exec(pathname)?.[1];
    if (!name || (!settings.console && CONSOLE_ASSET.test(name))) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
      return true;
    }
    void serveFile(res, dist, name, CONTENT_TYPES[path.extname(name).slice(1).toLowerCase()]!, log);
    return true;
  };
}

async function serveFile(res: ServerResponse, dist: string, name: string, contentType: string, log: Logger): Promise<void> {
  const file = path.join(dist, name);
  let body: Buffer;
  try {
    // Read on every request: this is a dev tool, and a rebuild shows on reload.
    body = await readFile(file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      if (name === 'index.html') {
        return send(res, 503, 'text/html; charset=utf-8', NOT_BUILT_PAGE, { 'content-security-policy': CSP });
      }
      return send(res, 404, 'text/plain; charset=utf-8', 'Not Found');
    }
    log.error({ err }, 'demo file read failed');
    return send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error');
  }
  const html = contentType.startsWith('text/html');
  send(res, 200, contentType, body, html ? { 'content-security-policy': CSP } : name.startsWith('assets/') ? { 'cache-control': IMMUTABLE } : {});
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
