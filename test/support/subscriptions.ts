/**
 * Real subscription clients for tests: graphql-ws over a `ws` WebSocket, and
 * SSE over fetch with a text/event-stream parser. Both collect results into
 * a `Feed` that tests can wait on.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Result<T = Record<string, unknown>> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown> }>;
}

/** What a subscription delivered so far, and ways to wait for more. */
export class Feed<T = Record<string, unknown>> {
  readonly results: Result<T>[] = [];
  completed = false;
  /** A transport-level error (graphql-ws `error` message or close, SSE failure). */
  failure: unknown;
  private waiters: Array<() => void> = [];

  push(result: Result<T>): void {
    this.results.push(result);
    this.notify();
  }

  complete(failure?: unknown): void {
    this.completed = true;
    this.failure = failure;
    this.notify();
  }

  get data(): T[] {
    return this.results.flatMap((r) => (r.data ? [r.data] : []));
  }

  /** Wait until `ready()` holds; fails with what arrived so far after `timeoutMs`. */
  async until(ready: (feed: this) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.results).slice(0, 2000)} completed=${this.completed} failure=${String(this.failure)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  untilCount(n: number, timeoutMs?: number): Promise<void> {
    return this.until((f) => f.results.length >= n, timeoutMs, `${n} results`);
  }

  untilCompleted(timeoutMs?: number): Promise<void> {
    return this.until((f) => f.completed, timeoutMs, 'completion');
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface WsSession {
  client: Client;
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Feed<T> & { unsubscribe(): void };
  /** Resolves when the socket closes, with its code and reason. */
  closed: Promise<CloseInfo>;
  dispose(): Promise<void>;
}

/** A graphql-ws client on a real WebSocket. `token: null` sends no authorization. */
export function wsSession(httpUrl: string, token: string | null, opts: { retryAttempts?: number } = {}): WsSession {
  let onClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: opts.retryAttempts ?? 0,
    retryWait: async () => new Promise((resolve) => setTimeout(resolve, 100)),
    shouldRetry: () => true,
    lazy: true,
    on: {
      closed: (event) => {
        const e = event as { code: number; reason: string | Buffer };
        onClosed({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return {
    client,
    closed,
    subscribe<T>(query: string, variables?: Record<string, unknown>) {
      const feed = new Feed<T>() as Feed<T> & { unsubscribe(): void };
      feed.unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (r) => feed.push(r as Result<T>),
          error: (err) => feed.complete(err ?? new Error('error')),
          complete: () => feed.complete(),
        },
      );
      return feed;
    },
    dispose: async () => {
      await client.dispose();
    },
  };
}

export interface SseSubscription<T> extends Feed<T> {
  status: number;
  /** The JSON body when the server answered without a stream (e.g. 401). */
  body?: Result<T>;
  close(): void;
}

/** A subscription over SSE (GraphQL over HTTP with Accept: text/event-stream). */
export async function sseSubscribe<T = Record<string, unknown>>(
  httpUrl: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<SseSubscription<T>> {
  const abort = new AbortController();
  const res = await fetch(`${httpUrl}/graphql`, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const feed = new Feed<T>() as SseSubscription<T>;
  feed.status = res.status;
  feed.close = () => abort.abort();
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    feed.body = (await res.json()) as Result<T>;
    feed.complete();
    return feed;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = parseSseBlock(block);
          if (fields.event === 'next' && fields.data) feed.push(JSON.parse(fields.data) as Result<T>);
          if (fields.event === 'complete') feed.complete();
        }
      }
      if (!feed.completed) feed.complete(new Error('stream ended without complete'));
    } catch (err) {
      if (!feed.completed) feed.complete(err);
    }
  })();
  return feed;
}

function parseSseBlock(block: string): { event?: string; data?: string } {
  const out: { event?: string; data?: string } = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // comment (keep-alive ping)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') out.event = value;
    if (field === 'data') out.data = out.data === undefined ? value : `${out.data}\n${value}`;
  }
  return out;
}

/**
 * Subscriptions clients hold on an API: every tracked subscription, minus the
 * one shared execution behind each group of identical WebSocket subscriptions.
 */
export function clientSubscriptions(api: { realtime: { stats(): { subscriptions: number } }; ws: { sharing(): { groups: number } } }): number {
  return api.realtime.stats().subscriptions - api.ws.sharing().groups;
}

/** A graphql-transport-ws message as a raw client sees it. */
export interface RawMessage {
  id?: string;
  type: string;
  payload?: unknown;
}

export interface RawWsClient<M extends RawMessage = RawMessage> {
  socket: WebSocket;
  /** Every message received, in order. */
  messages: M[];
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  /** Send a message as given: for payloads a client library could not produce (or stringify). */
  send(text: string): void;
  of(id: string): M[];
  /** Resolves when the socket closes, with its code and reason. */
  closed: Promise<CloseInfo>;
}

/**
 * A graphql-transport-ws client by hand, acknowledged: for tests that stop
 * reading the socket, send what no library would, or watch single messages.
 */
export async function rawWsClient<M extends RawMessage = RawMessage>(httpUrl: string, token: string): Promise<RawWsClient<M>> {
  const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const messages: M[] = [];
  const closed = new Promise<CloseInfo>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  socket.on('message', (m) => messages.push(JSON.parse(String(m)) as M));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const deadline = Date.now() + 10_000;
  while (!messages.some((m) => m.type === 'connection_ack')) {
    if (socket.readyState !== WebSocket.OPEN || Date.now() > deadline) {
      socket.terminate();
      throw new Error(`no connection_ack; socket state ${socket.readyState}, got ${JSON.stringify(messages).slice(0, 500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    socket,
    messages,
    subscribe(id, query, variables = {}) {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    },
    send: (text) => socket.send(text),
    of: (id) => messages.filter((m) => m.id === id),
    closed,
  };
}
