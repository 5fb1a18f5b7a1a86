/**
 * `token <role> [name-or-id]`: mint a JWT for a demo user. The roles are the
 * engine's (service, admin) and the loaded app's. For customer, restaurant
 * and driver the subject is looked up among seeded rows by name
 * (case-insensitive prefix) or taken as given when it is a UUID.
 */
import { sql } from 'drizzle-orm';
import type { App } from '../engine/app.js';
import type { Config } from '../engine/config.js';
import { loadApp } from './apps.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { acceptedRoles, type Role } from '../engine/graphql/context.js';
import { createLogger } from '../engine/log.js';
import { mintToken } from '../engine/server/auth.js';
import { fail, readConfig } from '../engine/commands/runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Roles whose subject is a seeded row, found by name. */
const TABLE: Partial<Record<Role, string>> = { customer: 'customers', restaurant: 'restaurants', driver: 'drivers' };

export async function token(args: string[]): Promise<void> {
  const [role, who] = args;
  const config = readConfig();
  const app = await loadApp(config.APP);
  const roles = acceptedRoles(app?.roles ?? []);
  if (!role || !roles.includes(role)) fail(`usage: token <${roles.join('|')}> [name-or-id]`);
  if (!config.AUTH_JWT_SECRET) fail('token needs AUTH_JWT_SECRET (tokens for a JWKS issuer come from that issuer)');
  const sub = await subjectFor(config, app, role, who);
  process.stdout.write(`${await mintToken(config.AUTH_JWT_SECRET, { role, sub })}\n`);
}

async function subjectFor(config: Config, app: App | undefined, role: Role, who: string | undefined): Promise<string> {
  const table = TABLE[role];
  if (!table) return who ?? role;
  if (who && UUID.test(who)) return who;
  const log = createLogger('warn');
  const database = await openDatabase(config, log, { max: 1, migrations: migrationSets(app) });
  try {
    const rows = await database.db.execute<{ id: string; name: string }>(
      sql`select id, name from ${sql.identifier(table)} where name ilike ${`${who ?? ''}%`} order by name limit 1`,
    );
    const row = rows[0];
    if (!row) fail(`no ${role} ${who ? `named "${who}" ` : ''}found: run "npm run seed" first`);
    process.stderr.write(`token for ${role} "${row.name}" (${row.id})\n`);
    return row.id;
  } finally {
    await database.close();
  }
}
