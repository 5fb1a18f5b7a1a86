/**
 * Parent side of the benchmark API process (./apiChild.ts): start it on a
 * database with the production configuration, probe its CPU use, profile
 * it, stop it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkTs, type Child } from './child.js';
import { coresUsed, type CpuSample } from './cpu.js';

export type ApiChildOut =
  | { type: 'ready'; url: string; poolMax: number }
  | { type: 'cpu'; sample: CpuSample }
  | { type: 'profileStarted' }
  | { type: 'profileWritten'; file: string }
  | { type: 'collected' }
  | { type: 'stopped' };
export type ApiChildIn = { type: 'cpu' } | { type: 'profileStart' } | { type: 'profileStop'; file: string } | { type: 'collectGarbage' } | { type: 'stop' };

export interface ApiProcessOptions {
  databaseUrl: string;
  jwtSecret: string;
  /** Extra environment (e.g. DATABASE_POOL_MAX); the rest is the production default. */
  env?: Record<string, string>;
  /** Where the API's JSON logs go. */
  logFile: string;
}

export interface ApiProcess {
  url: string;
  /** The API's postgres.js pool size (DATABASE_POOL_MAX as it resolved it). */
  poolMax: number;
  /** Start of a CPU measurement window; call `cores` with it at the end. */
  cpu(): Promise<CpuSample>;
  /** Cores used by the API since `from` (1 = one core fully busy). */
  cores(from: CpuSample): Promise<number>;
  /** Start the API's V8 CPU profiler (e.g. at the start of a measured window). */
  startProfile(): Promise<void>;
  /** Stop it and write the profile (.cpuprofile, for DevTools or bench/profile.ts). */
  stopProfile(file: string): Promise<string>;
  /** A full GC in the API, so the next memory reading counts what it retains. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
  kill(): void;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apiChild.ts');

export async function startApiProcess(opts: ApiProcessOptions): Promise<ApiProcess> {
  const child: Child<ApiChildOut, ApiChildIn> = forkTs(CHILD, {
    name: 'api',
    outputFile: opts.logFile,
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.BENCH_API_LOG_LEVEL ?? 'info',
      DATABASE_URL: opts.databaseUrl,
      AUTH_JWT_SECRET: opts.jwtSecret,
      AUTH_JWKS_URL: undefined,
      AUTH_JWT_ISSUER: undefined,
      AUTH_JWT_AUDIENCE: undefined,
      HOST: '127.0.0.1',
      PORT: '0',
      ...opts.env,
    },
  });
  const { url, poolMax } = await Promise.race([
    child.next('ready'),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`api did not start within 30 s; see ${opts.logFile}`)), 30_000).unref()),
  ]).catch((err: unknown) => {
    child.kill();
    throw new Error(`api failed to start (see ${opts.logFile}): ${err instanceof Error ? err.message : String(err)}`);
  });
  const sample = async () => {
    child.send({ type: 'cpu' });
    return (await child.next('cpu')).sample;
  };
  return {
    url,
    poolMax,
    cpu: sample,
    cores: async (from) => coresUsed(from, await sample()),
    async startProfile() {
      child.send({ type: 'profileStart' });
      await child.next('profileStarted');
    },
    async stopProfile(file) {
      child.send({ type: 'profileStop', file });
      return (await child.next('profileWritten')).file;
    },
    async collectGarbage() {
      child.send({ type: 'collectGarbage' });
      await child.next('collected');
    },
    async stop() {
      child.send({ type: 'stop' });
      await child.next('stopped').catch(() => {});
      await child.exited;
    },
    kill: child.kill,
  };
}
