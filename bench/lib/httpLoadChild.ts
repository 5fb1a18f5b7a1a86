/**
 * Child process entry of the HTTP load generator (see ./httpLoad.ts).
 * Plain node:http with a keep-alive agent: the cheapest client Node has, so
 * the generator takes as little CPU as possible from the server it measures.
 */
import http from 'node:http';
import { onParent, toParent } from './child.js';
import { coresUsed, cpuSample } from './cpu.js';
import type { HttpLoadChildIn, HttpLoadChildOut, HttpLoadOptions, HttpLoadRaw } from './httpLoad.js';

interface Prepared {
  path: string;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

async function run(options: HttpLoadOptions): Promise<HttpLoadRaw> {
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const prepared: Prepared[] = options.requests.map((r) => {
    const body = Buffer.from(r.body);
    return { path: r.path, body, headers: { ...r.headers, 'content-length': body.length } };
  });
  if (prepared.length === 0) throw new Error('load generator: no requests given');
  const marker = options.failIfBodyIncludes;

  const send = (req: Prepared) =>
    new Promise<{ ok: boolean; detail?: string }>((resolve) => {
      const r = http.request({ host: base.hostname, port: base.port, path: req.path, method: 'POST', agent, headers: req.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          const ok = res.statusCode === 200 && !(marker && body.includes(marker));
          resolve(ok ? { ok } : { ok, detail: `HTTP ${res.statusCode}: ${body.slice(0, 500)}` });
        });
        res.on('error', (err) => resolve({ ok: false, detail: String(err) }));
      });
      r.on('error', (err) => resolve({ ok: false, detail: String(err) }));
      r.end(req.body);
    });

  let samples = new Float64Array(1 << 16);
  let count = 0;
  let failed = 0;
  let succeeded = 0;
  let firstFailure: string | undefined;
  const start = performance.now() + options.warmupMs;
  const end = start + options.durationMs;
  let cpuStart = cpuSample();
  setTimeout(() => {
    cpuStart = cpuSample();
    toParent<HttpLoadChildOut>({ type: 'windowStart' });
  }, options.warmupMs);
  setTimeout(() => toParent<HttpLoadChildOut>({ type: 'windowEnd' }), options.warmupMs + options.durationMs);

  const client = async () => {
    for (let now = performance.now(); now < end; now = performance.now()) {
      const t0 = now;
      const res = await send(prepared[Math.floor(Math.random() * prepared.length)]!);
      const t1 = performance.now();
      if (!res.ok) {
        failed++;
        firstFailure ??= res.detail;
        continue;
      }
      succeeded++;
      if (t0 >= start && t1 <= end) {
        if (count === samples.length) {
          const grown = new Float64Array(samples.length * 2);
          grown.set(samples);
          samples = grown;
        }
        samples[count++] = t1 - t0;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const clientCores = coresUsed(cpuStart, cpuSample());
  agent.destroy();
  return { completed: count, succeeded, failed, firstFailure, samplesMs: samples.slice(0, count), windowMs: options.durationMs, clientCores };
}

onParent<HttpLoadChildIn>(async (message) => {
  if (message.type === 'run') {
    const result = await run(message.options);
    toParent<HttpLoadChildOut>({ type: 'done', result });
  }
});
