/**
 * Child process entry: causal-tree watchers for the delivery scenario's
 * `trees` part. It watches the given root events with the `causalTree`
 * subscription over graphql-ws (as an admin, up to 100 subscriptions per
 * socket, the server's cap), reports once every tree has sent its first
 * (unsettled) state, then once every subscription has completed, which the
 * server does when a tree settles, with the time of the last completion on
 * the machine's monotonic clock (process.hrtime, the same in every process).
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { onParent, toParent } from '../child.js';
import type { WatchersIn, WatchersOut } from './protocol.js';

const TREE = 'subscription Tree($id: ID!) { causalTree(eventId: $id) { settled pending deliveries { id state } } }';
const PER_SOCKET = 100;

const send = (m: WatchersOut) => toParent<WatchersOut>(m);
let clients: Client[] = [];

onParent<WatchersIn>(async (message) => {
  if (message.type === 'close') {
    await Promise.all(clients.map((c) => c.dispose()));
    clients = [];
    send({ type: 'closed' });
    return;
  }
  const { url, token, roots } = message;
  const sockets = Math.ceil(roots.length / PER_SOCKET);
  clients = Array.from({ length: sockets }, () =>
    createClient({ url: url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false, retryAttempts: 0 }),
  );
  let first = 0;
  let completed = 0;
  let errors = 0;
  let updates = 0;
  let lastCompletedNs = 0n;
  const seen = new Set<number>();
  await new Promise<void>((ready) => {
    roots.forEach((id, i) => {
      clients[Math.floor(i / PER_SOCKET)]!.subscribe<{ causalTree: { settled: boolean } }>(
        { query: TREE, variables: { id } },
        {
          next: (result) => {
            updates += 1;
            if (result.errors) errors += 1;
            if (!seen.has(i)) {
              seen.add(i);
              first += 1;
              if (first === roots.length) ready();
            }
          },
          error: () => {
            errors += 1;
            completed += 1;
          },
          complete: () => {
            completed += 1;
            lastCompletedNs = process.hrtime.bigint();
            if (completed === roots.length) send({ type: 'settled', lastCompletedNs, updates, errors });
          },
        },
      );
    });
  });
  send({ type: 'watching', errors });
});
