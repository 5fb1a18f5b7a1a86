/**
 * Benchmark child: the baseline, a plain `ws` server that pushes messages of
 * a given size to its connected clients at a given rate (to one random
 * client per message, or to all), stamping each send. No GraphQL, no
 * database: the cheapest way to deliver the same messages.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { onParent, toParent } from '../child.js';
import { coresUsed, cpuSample } from '../cpu.js';
import { collectGarbage } from '../gc.js';
import { now, type PlainServerIn, type PlainServerOut, type Stamps } from './protocol.js';

const send = (m: PlainServerOut) => toParent<PlainServerOut>(m);

const server = createServer();
const wss = new WebSocketServer({ server });
const sockets: WebSocket[] = [];
wss.on('connection', (socket) => {
  sockets.push(socket);
  socket.on('close', () => sockets.splice(sockets.indexOf(socket), 1));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

/** A message of `bytes` bytes carrying its key. */
function body(key: string, bytes: number): string {
  const head = JSON.stringify({ k: key, p: '' });
  return JSON.stringify({ k: key, p: 'x'.repeat(Math.max(0, bytes - head.length)) });
}

onParent<PlainServerIn>(async (message) => {
  if (message.type === 'rss') {
    if (message.collectGarbage) {
      await collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, message.collectGarbage!.settleMs));
    }
    send({ type: 'rss', rss: process.memoryUsage().rss, connections: sockets.length });
  }
  if (message.type === 'send') {
    const sends: Stamps = [];
    const cpuFrom = cpuSample();
    const start = now();
    send({ type: 'started', at: start });
    let issued = 0;
    let lateMs = 0;
    while (now() - start < message.ms) {
      const due = Math.floor(((now() - start) / 1000) * message.perSecond);
      lateMs = Math.max(lateMs, ((due - issued) / message.perSecond) * 1000);
      while (issued < due) {
        const key = `m:${issued++}`;
        const text = body(key, message.bytes);
        sends.push([key, now()]);
        if (message.mode === 'one') sockets[Math.floor(Math.random() * sockets.length)]?.send(text);
        else for (const socket of sockets) socket.send(text);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    send({ type: 'sent', sends, lateMs, cores: coresUsed(cpuFrom, cpuSample()) });
  }
  if (message.type === 'stop') {
    for (const socket of sockets) socket.terminate();
    server.close();
    process.exit(0);
  }
});
send({ type: 'listening', port: (server.address() as AddressInfo).port });
