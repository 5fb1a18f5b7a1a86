/**
 * A fresh database per test file, cloned from the migrated template.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect, type Database } from '../../src/engine/db/client.js';

export interface TestDatabase extends Database {
  name: string;
  /** Drop the database (call in afterAll). */
  drop(): Promise<void>;
}

export function urlFor(db: string): string {
  const u = new URL(inject('pgAdminUrl'));
  u.pathname = `/${db}`;
  return u.toString();
}

/** `empty: true` gives an unmigrated database (for migration tests). */
export async function freshDatabase(opts: { max?: number; empty?: boolean } = {}): Promise<TestDatabase> {
  // The prefix must match globalSetup's cleanup pattern.
  const name = `${inject('pgTemplate').replace('tf_template_', 'tf_t_')}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${opts.empty ? 'template0' : inject('pgTemplate')}`);
  } finally {
    await admin.end();
  }
  const database = connect(urlFor(name), { max: opts.max ?? 10, applicationName: 'threefactor-test' });
  return {
    ...database,
    name,
    async drop() {
      await database.close(1);
      const a = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
