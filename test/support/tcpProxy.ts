/**
 * A loopback TCP proxy in front of a server, for tests of clients that must
 * survive the network: `dropAll()` destroys every open connection at once on
 * both sides, as a failed link would, with no close handshake.
 * `dropReply()` loses one reply instead: the request reaches the server and
 * is run there, but its answer never reaches the client, whose connection
 * then dies (a commit whose acknowledgement is lost).
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

export interface DropReplyOptions {
  /** Picks the request (one chunk of client data) whose reply is lost; for PostgreSQL, `pgExecutionOf`. */
  request(clientData: Buffer): boolean;
  /** Whether the server data swallowed so far is its whole reply; the connection is cut then. */
  replyComplete(swallowed: Buffer): boolean;
}

export interface TcpProxy {
  /** http://127.0.0.1:<proxy port> */
  url: string;
  /** The proxy's port. */
  port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  dropAll(): void;
  /**
   * Arms a one-shot fault for the next request that matches: forwarded as
   * usual, its reply swallowed until complete, then that connection destroyed
   * on both sides. Resolves once the connection is cut. Meant for a
   * connection with nothing else in flight: replies to requests pipelined
   * before it are swallowed too.
   */
  dropReply(opts: DropReplyOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * A PostgreSQL reply is complete at ReadyForQuery ('Z', length 5, status): sent
 * after the statement's implicit transaction has committed or rolled back.
 */
export function endsWithReadyForQuery(data: Buffer): boolean {
  const z = data.length - 6;
  return z >= 0 && data[z] === 0x5a && data.readInt32BE(z + 1) === 5;
}

/**
 * A request predicate for `dropReply`: the execution of a PostgreSQL
 * statement whose text contains `fragment`. Stateful, one per fault: a driver
 * prepares the statement (Parse, with the text), may describe it first, and
 * runs it by name (Bind, Execute, Sync) in the same or a later write, so the
 * text alone would lose the answer to the describe instead of to the run.
 */
export function pgExecutionOf(fragment: string): (clientData: Buffer) => boolean {
  const matching = new Set<string>();
  return (data) => {
    let executes = false;
    for (const { type, body } of pgMessages(data)) {
      if (type === 'P') {
        const name = cString(body, 0);
        if (cString(body, Buffer.byteLength(name) + 1).includes(fragment)) matching.add(name);
        else matching.delete(name);
      } else if (type === 'B') {
        const portal = cString(body, 0);
        if (matching.has(cString(body, Buffer.byteLength(portal) + 1))) executes = true;
      }
    }
    return executes;
  };
}

/** The typed frontend messages a chunk starts with (the startup message has no type and yields nothing useful). */
function* pgMessages(data: Buffer): Generator<{ type: string; body: Buffer }> {
  for (let at = 0; at + 5 <= data.length; ) {
    const length = data.readInt32BE(at + 1);
    if (length < 4 || at + 1 + length > data.length) return;
    yield { type: String.fromCharCode(data[at]!), body: data.subarray(at + 5, at + 1 + length) };
    at += 1 + length;
  }
}

function cString(data: Buffer, from: number): string {
  const end = data.indexOf(0, from);
  return data.toString('utf8', from, end === -1 ? data.length : end);
}

interface Armed extends DropReplyOptions {
  fired(): void;
}

/** Passes data through, or lets a hook look at it first and decide. */
class Tap extends Transform {
  constructor(private readonly hook: (chunk: Buffer) => Buffer | null) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = this.hook(chunk);
    done(null, out ?? undefined);
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let armed: Armed | null = null;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    // This connection's lost reply, once its request was seen.
    let losing: { fault: Armed; swallowed: Buffer[] } | null = null;
    const requests = new Tap((chunk) => {
      if (armed && !losing && armed.request(chunk)) {
        losing = { fault: armed, swallowed: [] };
        armed = null;
      }
      return chunk;
    });
    const replies = new Tap((chunk) => {
      if (!losing) return chunk;
      losing.swallowed.push(chunk);
      if (losing.fault.replyComplete(Buffer.concat(losing.swallowed))) {
        end();
        losing.fault.fired();
      }
      return null;
    });
    client.pipe(requests).pipe(upstream);
    upstream.pipe(replies).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get open() {
      return pairs.size;
    },
    dropAll,
    dropReply(opts) {
      return new Promise<void>((resolve) => {
        armed = { ...opts, fired: resolve };
      });
    },
    close() {
      armed = null;
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
