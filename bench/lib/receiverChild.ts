/**
 * Child process entry: the webhook receiver of the `delivery` scenario. A
 * plain node:http server on a loopback port (keep-alive, as Node's server
 * does by default) that reads each body and answers 200 with nothing else:
 * the cheapest handler there is, so the scenario measures the senders. It
 * counts the POSTs, so the scenario can check every event arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample, type CpuSample } from './cpu.js';

export type ReceiverIn = { type: 'reset' } | { type: 'count' };
export type ReceiverOut = { type: 'ready'; url: string } | { type: 'count'; received: number; cores: number };

let received = 0;
let since: CpuSample = cpuSample();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

onParent<ReceiverIn>((message) => {
  if (message.type === 'reset') {
    received = 0;
    since = cpuSample();
  }
  if (message.type === 'count') toParent<ReceiverOut>({ type: 'count', received, cores: coresUsed(since, cpuSample()) });
});
toParent<ReceiverOut>({ type: 'ready', url: `http://127.0.0.1:${port}/hook` });
