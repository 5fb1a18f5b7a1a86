/**
 * `token <role> [name-or-id]`: mint a JWT for a demo user. For customer,
 * restaurant and driver the subject is looked up among seeded rows by name
 * (case-insensitive prefix) or taken as given when it is a UUID.
 */
import { sql } from 'drizzle-orm';
import type { Config } from '../engine/config.js';
import { loadApp } from './apps.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { ROLES, type Role } from '../engine/graphql/context.js';
import { createLogger } from '../engine/log.js';
import { mintToken } from '../engine/server/auth.js';
import { fail, readConfig } from './runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABLE: Partial<Record<Role, string>> = { customer: 'customers', restaurant: 'restaurants', driver: 'drivers' };

export async function token(args: string[]): Promise<void> {
  const [role, who] = args;
  if (!role || !(ROLES as readonly string[]).includes(role)) fail(`usage: token <${ROLES.join('|')}> [name-or-id]`);
  const config = readConfig();
  if (!config.AUTH_JWT_SECRET) fail('token needs AUTH_JWT_SECRET (tokens for a JWKS issuer come from that issuer)');
  const sub = await subjectFor(config, role as Role, who);
  process.stdout.write(`${await mintToken(config.AUTH_JWT_SECRET, { role: role as Role, sub })}\n`);
}

async function subjectFor(config: Config, role: Role, who: string | undefined): Promise<string> {
  const table = TABLE[role];
  if (!table) return who ?? role;
  if (who && UUID.test(who)) return who;
  const log = createLogger('warn');
  const database = await openDatabase(config, log, { max: 1, migrations: migrationSets(await loadApp(config.APP)) });
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
