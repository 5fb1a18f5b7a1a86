/**
 * Each result serialized once, however many sockets it goes to. A shared
 * subscription (./sharedSubscriptions.ts) hands the same result object to
 * every subscriber of its group, and graphql-ws would JSON.stringify the
 * whole `next` message once per socket: a broadcast to 1,000 sockets spent
 * a core on the same string. Here the message keeps graphql-ws's protocol,
 * its per-operation flow and the socket's own backpressure; only the
 * payload's text is made once per result object and spliced into each
 * socket's frame, with that socket's own subscription id around it.
 *
 * How: graphql-ws stringifies every message with our `jsonMessageReplacer`
 * and hands the text straight to `socket.send`, synchronously in one turn.
 * The replacer swaps a `next` message's payload for a marker and parks the
 * payload's text (cached per result object in a WeakMap); the socket's send
 * (wrapped once per connection) puts the parked text where the marker is.
 * The marker holds a NUL, which no client text can hold (rejectNulInput.ts),
 * and sits at the frame's end, where graphql-ws's literal puts `payload`.
 */
import type { WebSocket } from 'ws';

const MARKER = '\u0000threefactor-payload';
/** The marker as JSON.stringify writes it, then the message's closing brace. */
const MARKED_END = `${JSON.stringify(MARKER)}}`;

const serialized = new WeakMap<object, string>();
/** The payload text of the message being stringified now; taken by the send that follows at once. */
let parked: string | undefined;
let serializations = 0;

/** How many payload texts were made (one per distinct result object sent): what a test of the sharing counts. */
export function payloadSerializations(): number {
  return serializations;
}

function textOf(result: object): string {
  let text = serialized.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    serializations += 1;
    serialized.set(result, text);
  }
  return text;
}

/** graphql-ws's `jsonMessageReplacer`: a `next` message's payload becomes the marker. */
export function replacePayload(this: unknown, key: string, value: unknown): unknown {
  if (key !== 'payload' || value === null || typeof value !== 'object') return value;
  const holder = this as { type?: unknown } | null;
  if (holder?.type !== 'next') return value;
  parked = textOf(value);
  return MARKER;
}

/** Wraps a socket's send so that a marked frame carries its parked payload text. */
export function spliceOnSend(socket: WebSocket): void {
  const send = socket.send.bind(socket) as (data: unknown, cb?: (err?: Error) => void) => void;
  const spliced = (data: unknown, cb?: (err?: Error) => void): void => {
    if (typeof data === 'string' && parked !== undefined && data.endsWith(MARKED_END)) {
      const text = parked;
      parked = undefined;
      send(`${data.slice(0, data.length - MARKED_END.length)}${text}}`, cb);
      return;
    }
    send(data, cb);
  };
  (socket as { send: unknown }).send = spliced;
}
