/**
 * Child process entry: the webhook receiver of the `delivery` scenario. A
 * plain node:http server on a loopback port (keep-alive, as Node's server
 * does by default) that reads each body and answers 200 with nothing else:
 * the cheapest handler there is, so the scenario measures the senders. It
 * counts the POSTs, so the scenario can check every event arrived.
 *
 * Two more paths serve the isolation measurement (ISOLATION in
 * ./deliveryWorkload.ts): `/steady` answers the same way and records each
 * event's id with its arrival time (process.hrtime, once the body is read:
 * where a handler would start); `/hang`, while the scenario says `hang`,
 * holds every request open without answering (until the sender gives up, or
 * `release` answers them all and later ones at once).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample, type CpuSample } from './cpu.js';
import { ISOLATION } from './deliveryWorkload.js';

export type ReceiverIn =
  | { type: 'reset' }
  | { type: 'count' }
  /** Hold `/hang` requests from now on. */
  | { type: 'hang' }
  /** Answer every held `/hang` request, and later ones at once. */
  | { type: 'release' }
  /** How many `/hang` requests are open. */
  | { type: 'held' }
  /** The `/steady` arrivals since the last reset. */
  | { type: 'arrivals' };
export type ReceiverOut =
  | { type: 'ready'; url: string }
  | { type: 'count'; received: number; cores: number }
  | { type: 'held'; held: number }
  | { type: 'arrivals'; arrivals: Array<{ id: string; atNs: bigint }>; held: number };

let received = 0;
let since: CpuSample = cpuSample();
let hanging = false;
const held = new Set<http.ServerResponse>();
let arrivals: Array<{ id: string; atNs: bigint }> = [];

const ok = (res: http.ServerResponse) => {
  res.writeHead(200, { 'content-length': '0' });
  res.end();
};

const server = http.createServer((req, res) => {
  if (req.url === ISOLATION.steady.path) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const atNs = process.hrtime.bigint();
      arrivals.push({ id: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id, atNs });
      ok(res);
    });
    return;
  }
  req.resume();
  req.on('end', () => {
    if (req.url === ISOLATION.hung.path) {
      if (!hanging) return ok(res);
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    received++;
    ok(res);
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

onParent<ReceiverIn>((message) => {
  if (message.type === 'reset') {
    received = 0;
    arrivals = [];
    since = cpuSample();
  }
  if (message.type === 'count') toParent<ReceiverOut>({ type: 'count', received, cores: coresUsed(since, cpuSample()) });
  if (message.type === 'hang') hanging = true;
  if (message.type === 'release') {
    hanging = false;
    for (const res of [...held]) ok(res);
    held.clear();
  }
  if (message.type === 'held') toParent<ReceiverOut>({ type: 'held', held: held.size });
  if (message.type === 'arrivals') toParent<ReceiverOut>({ type: 'arrivals', arrivals, held: held.size });
});
toParent<ReceiverOut>({ type: 'ready', url: `http://127.0.0.1:${port}/hook` });
