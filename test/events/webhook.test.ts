/**
 * The webhook POST itself (src/events/delivery/webhook.ts) against real HTTP
 * servers on loopback: keep-alive reuse and the receiver's idle-timeout hint,
 * redirects not followed, timeouts before and during the response body,
 * aborts, and refused targets.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook } from '../../src/engine/dispatcher/delivery/webhook.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function serve(handler: RequestListener, keepAliveTimeout?: number): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer(handler);
  if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
  server.on('connection', () => void connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, connections: () => connections };
}

const never = () => new AbortController().signal;
const post = (url: string, timeoutMs = 2_000, signal = never()) => postWebhook(url, '{"a":1}', { 'content-type': 'application/json' }, timeoutMs, signal);

describe('webhook POST', () => {
  it('sends the body with its length and reuses one keep-alive connection', async () => {
    const bodies: string[] = [];
    const { url, connections } = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.headers['content-length']} ${body}`);
        res.end('ok');
      });
    });
    for (let i = 0; i < 5; i++) expect(await post(url)).toEqual({ kind: 'response', status: 200, body: 'ok', retryAfter: null });
    expect(bodies).toEqual(Array(5).fill('POST 7 {"a":1}'));
    expect(connections()).toBe(1);
  });

  it('closes an idle socket before the receiver’s announced keep-alive timeout', async () => {
    // Node's server announces "Keep-Alive: timeout=2" and would close the idle socket after 2 s; the agent lets it go a second earlier,
    // so a request never races the receiver's close.
    let closedAfterMs = Number.NaN;
    const { url } = await serve((req, res) => {
      const answered = Date.now();
      req.socket.once('close', () => (closedAfterMs = Date.now() - answered));
      res.end('ok');
    }, 2_000);
    expect((await post(url)).kind).toBe('response');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(1_500);
    expect(await post(url)).toMatchObject({ kind: 'response', status: 200 });
  });

  it('returns a redirect as the response without following it', async () => {
    let followed = 0;
    const { url } = await serve((req, res) => {
      if (req.url === '/elsewhere') followed++;
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    expect(await post(url)).toMatchObject({ kind: 'response', status: 302 });
    expect(followed).toBe(0);
  });

  it('passes Retry-After on', async () => {
    const { url } = await serve((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'));
    expect(await post(url)).toEqual({ kind: 'response', status: 429, body: 'slow down', retryAfter: '7' });
  });

  it('times out a receiver that never answers, and one that stalls halfway through its body', async () => {
    const silent = await serve(() => {});
    expect(await post(silent.url, 200)).toEqual({ kind: 'error', error: 'timed out after 200 ms', timedOut: true });
    const stalling = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    expect(await post(stalling.url, 200)).toEqual({ kind: 'error', error: 'timed out after 200 ms', timedOut: true });
  });

  it('stores only the first few KB of a large response', async () => {
    const { url } = await serve((_req, res) => res.end('x'.repeat(1_000_000)));
    const result = await post(url);
    expect(result.kind === 'response' && result.body.length).toBeLessThan(2_100);
  });

  it('rejects with the abort reason when aborted in flight', async () => {
    const { url } = await serve(() => {});
    const controller = new AbortController();
    const pending = post(url, 5_000, controller.signal);
    setTimeout(() => controller.abort(new Error('draining')), 50);
    await expect(pending).rejects.toThrow('draining');
  });

  it('reports a refused connection and an unusable URL as errors', async () => {
    const { url } = await serve(() => {});
    servers[0]!.closeAllConnections();
    await new Promise((resolve) => servers.splice(0)[0]!.close(resolve));
    expect(await post(url)).toMatchObject({ kind: 'error', timedOut: false, error: expect.stringMatching(/^ECONNREFUSED: /) });
    expect(await post('ftp://127.0.0.1/x')).toEqual({ kind: 'error', error: 'unsupported webhook URL scheme ftp:', timedOut: false });
    expect(await post('not a url')).toEqual({ kind: 'error', error: 'invalid webhook URL', timedOut: false });
  });
});
