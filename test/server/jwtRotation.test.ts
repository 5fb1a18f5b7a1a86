/**
 * AUTH_JWT_SECRET rotation with no downtime: several secrets (space- or
 * comma-separated), the first signs, all verify. Rolled through real API
 * processes under a steady stream of requests, as a load balancer would
 * see it: old → "new old" → "new". A valid token never fails on the way.
 */
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, mintToken } from '../../src/engine/server/auth.js';
import { testConfig } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

const OLD = 'old-secret-0123456789abcdef0123456789abcdef';
const NEW = 'new-secret-fedcba9876543210fedcba9876543210';

let db: TestDatabase;
const processes: CommandProcess[] = [];

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await Promise.all(processes.map((proc) => stopProcess(proc)));
  await db?.drop();
});

describe('several secrets (in process)', () => {
  it('signs with the first and verifies with any', async () => {
    const config = testConfig({ AUTH_JWT_SECRET: `${NEW} ${OLD}` });
    const token = await mintToken(config.AUTH_JWT_SECRET!, { role: 'customer', sub: 'c' });
    await expect(jwtVerify(token, new TextEncoder().encode(NEW))).resolves.toBeDefined();
    const auth = createAuthenticator(config, ['customer']);
    await expect(auth.verify(token)).resolves.toMatchObject({ sub: 'c' });
    await expect(auth.verify(await mintToken(OLD, { role: 'customer', sub: 'old' }))).resolves.toMatchObject({ sub: 'old' });
    await expect(auth.verify(await mintToken('third-secret-that-is-32-characters-long', { role: 'customer', sub: 'x' }))).rejects.toThrow(
      'Authentication failed: token is invalid',
    );
  });

  it('takes commas too, and wants every secret at least 32 characters long', () => {
    const auth = createAuthenticator(testConfig({ AUTH_JWT_SECRET: `${NEW},${OLD}` }), ['customer']);
    expect(auth).toBeDefined();
    expect(() => testConfig({ AUTH_JWT_SECRET: `${NEW} too-short` })).toThrow(/^config: AUTH_JWT_SECRET each secret must be at least 32 characters$/);
    expect(() => testConfig({ AUTH_JWT_SECRET: `${NEW} too-short` })).not.toThrow(/too-short/);
  });
});

type Which = 'old' | 'new';

interface Outcome {
  phase: string;
  which: Which;
  status: number | string;
}

/** Requests from 4 workers, round-robin over the processes in rotation, with the tokens of the current phase. */
function steadyLoad(tokens: Record<Which, string>) {
  const state = { phase: '', live: [] as string[], sending: [] as Which[] };
  const outcomes: Outcome[] = [];
  let stopped = false;
  let n = 0;
  const worker = async () => {
    while (!stopped) {
      const { phase, live, sending } = state;
      if (!live.length || !sending.length) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      const i = n++;
      const which = sending[i % sending.length]!;
      const target = live[Math.floor(i / sending.length) % live.length]!;
      let status: number | string;
      try {
        const res = await fetch(`${target}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[which]}` },
          body: JSON.stringify({ query: '{ restaurants { id } }' }),
        });
        const body = (await res.json()) as { errors?: unknown };
        status = body.errors ? `${res.status} ${JSON.stringify(body.errors)}` : res.status;
      } catch (err) {
        status = `request failed: ${String(err)}`;
      }
      outcomes.push({ phase, which, status });
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    state,
    outcomes,
    /** Wait until at least `count` more requests of the current phase were answered. */
    async settle(count = 40): Promise<void> {
      const from = outcomes.length;
      const deadline = Date.now() + 30_000;
      while (outcomes.length - from < count) {
        if (Date.now() > deadline) throw new Error(`load stalled in phase ${state.phase}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

async function startApi(secret: string): Promise<{ proc: CommandProcess; url: string }> {
  const proc = runCommand(['start'], {
    DATABASE_URL: urlFor(db.name),
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: secret,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ALL_IN_ONE: 'false',
    SEED_DEMO_DATA: 'false',
  });
  processes.push(proc);
  const listening = await proc.waitForLog((l) => l.msg === 'api listening', 60_000);
  return { proc, url: String(listening.url).replace(/\/graphql$/, '') };
}

/** Out of rotation first (as a load balancer deregisters it), then SIGTERM: its drain finishes what it holds. */
async function retire(load: ReturnType<typeof steadyLoad>, api: { proc: CommandProcess; url: string }): Promise<void> {
  load.state.live = load.state.live.filter((u) => u !== api.url);
  await new Promise((resolve) => setTimeout(resolve, 200));
  api.proc.child.kill('SIGTERM');
  expect((await api.proc.exited).code).toBe(0);
}

describe('rotation under load (real API processes)', () => {
  it('old → "new old" → "new": no valid token fails during the overlaps; afterwards the old one is refused', { timeout: 120_000 }, async () => {
    const tokens = {
      old: await mintToken(OLD, { role: 'customer', sub: 'old-holder' }),
      // Signed as a process configured with "new old" signs: with its first secret.
      new: await mintToken(`${NEW} ${OLD}`, { role: 'customer', sub: 'new-holder' }),
    };
    const load = steadyLoad(tokens);
    try {
      const a = await startApi(OLD);
      Object.assign(load.state, { phase: 'old only', live: [a.url], sending: ['old'] });
      await load.settle();

      // B knows both; while A still serves, clients hold old tokens.
      const b = await startApi(`${NEW} ${OLD}`);
      Object.assign(load.state, { phase: 'old + "new old"', live: [a.url, b.url], sending: ['old'] });
      await load.settle();
      await retire(load, a);
      Object.assign(load.state, { phase: '"new old" only', live: [b.url], sending: ['old', 'new'] });
      await load.settle();

      // C knows only the new one; new tokens work on both B and C.
      const c = await startApi(NEW);
      Object.assign(load.state, { phase: '"new old" + new', live: [b.url, c.url], sending: ['new'] });
      await load.settle();
      await retire(load, b);
      Object.assign(load.state, { phase: 'new only', live: [c.url], sending: ['old', 'new'] });
      await load.settle();
    } finally {
      await load.stop();
    }

    const failures = load.outcomes.filter((o) => o.status !== 200 && !(o.phase === 'new only' && o.which === 'old'));
    expect(failures.slice(0, 5)).toEqual([]);
    const retired = load.outcomes.filter((o) => o.phase === 'new only' && o.which === 'old');
    expect(retired.length).toBeGreaterThan(0);
    for (const o of retired) expect(String(o.status)).toMatch(/^401 .*Authentication failed: token is invalid/);
    expect(load.outcomes.filter((o) => o.phase === 'new only' && o.which === 'new').every((o) => o.status === 200)).toBe(true);
    // Each phase really ran under load.
    for (const phase of ['old only', 'old + "new old"', '"new old" only', '"new old" + new', 'new only']) {
      expect(load.outcomes.filter((o) => o.phase === phase).length, phase).toBeGreaterThanOrEqual(40);
    }
  });
});
