/**
 * Test database server: DATABASE_URL's server when set, otherwise an embedded
 * PostgreSQL in .test-data/. A template database is migrated once per run;
 * each test file clones it (test/support/db.ts), so files never share state.
 */
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { startEmbedded, type EmbeddedServer } from '../../src/engine/db/embedded.js';
import { foodDeliveryMigrations } from '../../src/apps/food-delivery/migrations.js';
import { ENGINE_MIGRATIONS, runMigrations } from '../../src/engine/db/migrate.js';
import { createLogger } from '../../src/engine/log.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

let embedded: EmbeddedServer | undefined;

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbedded('.test-data/postgres', createLogger('warn'));
    adminUrl = embedded.adminUrl;
  }
  const template = `tf_template_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${template} with (force)`);
  await admin.unsafe(`create database ${template}`);
  // The engine and the food-delivery app, as `npm start` migrates them; engine-only tests use `empty` databases.
  await runMigrations(withDatabase(adminUrl, template), [ENGINE_MIGRATIONS, foodDeliveryMigrations]);
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`tf_t_${process.pid}_%`} or datname = ${template}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
    await embedded?.stop();
  };
}
