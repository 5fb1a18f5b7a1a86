import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMigrated, runMigrations } from '../../src/db/migrate.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase({ empty: true });
});
afterAll(async () => {
  await db.drop();
});

describe('migrations', () => {
  it('are safe when several processes apply them at once (advisory lock)', async () => {
    expect(await isMigrated(db.sql)).toBe(false);
    const results = await Promise.all(Array.from({ length: 5 }, () => runMigrations(urlFor(db.name))));
    // Exactly one caller applied them; the others found nothing left to do.
    const applied = results.map((r) => r.applied).sort();
    expect(applied.filter((n) => n > 0)).toHaveLength(1);
    expect(applied.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(await isMigrated(db.sql)).toBe(true);
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(row!.n).toBe(applied[4]);
  });
});
