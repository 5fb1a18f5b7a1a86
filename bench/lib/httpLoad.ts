/**
 * Closed-loop HTTP load: N concurrent keep-alive clients, each sending its
 * next request as soon as the previous answer arrives, for a warmup and then
 * a measured window. Runs in its own process (./httpLoadChild.ts) so the
 * generator never shares an event loop with the server it measures.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkTs } from './child.js';
import { summarize, type LatencySummary } from './stats.js';

export interface HttpRequestSpec {
  /** e.g. '/graphql' */
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpLoadOptions {
  /** Base URL, e.g. http://127.0.0.1:4000 (loopback only). */
  url: string;
  /** Each request picks one of these at random. */
  requests: HttpRequestSpec[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** A 200 response whose body contains this counts as failed (e.g. '"errors"' for GraphQL). */
  failIfBodyIncludes?: string;
}

/** What the child measures: raw samples, summarised by the parent. */
export interface HttpLoadRaw {
  /** Successful requests inside the window. */
  completed: number;
  /** Successful requests in all, warmup and stragglers included (what the server did). */
  succeeded: number;
  failed: number;
  firstFailure?: string;
  /** Latency of each request that started and finished inside the window, ms. */
  samplesMs: Float64Array;
  windowMs: number;
  /** Cores the load generator itself used during the window. */
  clientCores: number;
}

export interface HttpLoadResult extends HttpLoadRaw {
  /** Requests completed per second inside the window. */
  rps: number;
  latencyMs: LatencySummary;
}

export interface HttpLoadHooks {
  /** Called when the warmup ends and the measured window starts (e.g. to sample CPU). */
  onWindowStart?: () => Promise<void> | void;
  /** Called when the measured window ends. */
  onWindowEnd?: () => Promise<void> | void;
}

export type HttpLoadChildIn = { type: 'run'; options: HttpLoadOptions };
export type HttpLoadChildOut = { type: 'windowStart' } | { type: 'windowEnd' } | { type: 'done'; result: HttpLoadRaw };

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'httpLoadChild.ts');

export async function runHttpLoad(options: HttpLoadOptions, hooks: HttpLoadHooks = {}): Promise<HttpLoadResult> {
  const host = new URL(options.url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`load generator: loopback only, not ${host}`);
  const child = forkTs<HttpLoadChildOut, HttpLoadChildIn>(CHILD, { name: 'http-load' });
  try {
    child.send({ type: 'run', options });
    const windowHooks = child
      .next('windowStart')
      .then(() => hooks.onWindowStart?.())
      .then(() => child.next('windowEnd'))
      .then(() => hooks.onWindowEnd?.());
    const [{ result }] = await Promise.all([child.next('done'), windowHooks]);
    return { ...result, rps: (result.samplesMs.length / result.windowMs) * 1000, latencyMs: summarize(result.samplesMs) };
  } finally {
    child.kill();
    await child.exited;
  }
}
