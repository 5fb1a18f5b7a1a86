/**
 * A masked internal error is logged with its cause and an error id, and the
 * client gets the same id in `extensions.errorId`, so a report can be matched
 * to its log line. A real `start` process whose stdout (JSON lines) the test
 * reads; the error is real too: a column renamed under the running API. The
 * log line carries the cause (type, message, SQLSTATE, stack frames), never
 * the query's parameters nor the caller's token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/engine/server/auth.js';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { ids, Q, seeded } from '../support/orders.js';
import { commandEnv, runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

let db: TestDatabase;
let proc: CommandProcess | undefined;
let url: string;

beforeAll(async () => {
  db = await freshDatabase();
  await seeded(db);
  proc = runCommand(['start'], commandEnv(urlFor(db.name)));
  const listening = await proc.waitForLog((l) => l.msg === 'api listening', 30_000);
  url = String(listening.url);
});
afterAll(async () => {
  await stopProcess(proc);
  await db?.drop();
});

async function gql(query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

describe('a masked internal error', () => {
  it('reaches the client as "Unexpected error." with an errorId, and the log has that id with its cause', async () => {
    const token = await mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice });
    const marker = 'Secret Garden Lane 4711';
    await db.sql`alter table orders rename column delivery_address to delivery_address_gone`;
    try {
      const res = await gql(
        Q.place,
        { input: { restaurantId: ids.napoli, deliveryAddress: marker, items: [{ menuItemId: ids.margherita, quantity: 1 }] } },
        token,
      );
      expect(res.errors).toHaveLength(1);
      const error = res.errors![0]!;
      expect(error.message).toBe('Unexpected error.');
      expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const errorId = error.extensions?.errorId;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);

      const line = await proc!.waitForLog((l) => l.errorId === errorId, 10_000);
      expect(line).toMatchObject({ level: 50, msg: 'internal error', path: 'placeOrder' });
      const cause = line.cause as { type: string; message: string; code?: string; stack?: string; query?: string; cause?: { code?: string; message: string } };
      // drizzle's error wraps the driver's: the SQLSTATE and PostgreSQL's message are in the chain.
      const chain = [cause, cause.cause].filter(Boolean);
      expect(chain.map((c) => c!.code)).toContain('42703');
      expect(chain.map((c) => c!.message).join(' ')).toMatch(/delivery_address.*does not exist/);
      expect(cause.stack).toMatch(/^\s+at /);
      // Never the values a client sent, nor its token.
      const logged = JSON.stringify(proc!.logs);
      expect(logged).not.toContain(marker);
      expect(logged).not.toContain(token);
    } finally {
      await db.sql`alter table orders rename column delivery_address_gone to delivery_address`;
    }
  });

  it('gives each occurrence its own id', async () => {
    const token = await mintToken(TEST_SECRET, { role: 'customer', sub: ids.alice });
    await db.sql`alter table restaurants rename column cuisine to cuisine_gone`;
    try {
      const [a, b] = await Promise.all([1, 2].map(() => gql('{ restaurants { id cuisine } }', {}, token)));
      const errorIds = [a!, b!].map((r) => r.errors?.[0]?.extensions?.errorId);
      expect(new Set(errorIds).size).toBe(2);
      for (const errorId of errorIds) await proc!.waitForLog((l) => l.errorId === errorId && l.msg === 'internal error', 10_000);
    } finally {
      await db.sql`alter table restaurants rename column cuisine_gone to cuisine`;
    }
  });
});
