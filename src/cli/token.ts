/**
 * `token <role> [name-or-id] [--ttl <duration>]`: mint a JWT for a demo user
 * or an engine role. The roles are the engine's (service, admin) and the
 * loaded app's. For customer, restaurant and driver the subject is looked up
 * among seeded rows by name (case-insensitive prefix) or taken as given when
 * it is a UUID. `--ttl` (default 12h) is bounded by the role's maximum
 * lifetime (AUTH_MAX_SERVICE_TOKEN_TTL for service, AUTH_MAX_TOKEN_TTL for
 * the rest), which the API enforces too; the command says when the token expires.
 */
import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import type { App } from '../engine/app.js';
import { formatDuration, onInDevelopment, parseDuration, type Config } from '../engine/config.js';
import { loadApp } from './apps.js';
import { migrationSets, openDatabase } from '../engine/db/database.js';
import { acceptedRoles, type Role } from '../engine/graphql/context.js';
import { createLogger } from '../engine/log.js';
import { mintToken } from '../engine/server/auth.js';
import { fail, readConfig } from '../engine/commands/runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Roles whose subject is a seeded row, found by name. */
const TABLE: Partial<Record<Role, string>> = { customer: 'customers', restaurant: 'restaurants', driver: 'drivers' };
const DEFAULT_TTL = '12h';

export async function token(args: string[]): Promise<void> {
  const { positional, ttl } = parseArgs(args);
  const [role, who] = positional;
  const config = readConfig();
  const app = await loadApp(config.APP);
  const roles = acceptedRoles(app?.roles ?? []);
  if (!role || !roles.includes(role) || positional.length > 2) fail(`usage: token <${roles.join('|')}> [name-or-id] [--ttl ${DEFAULT_TTL}]`);
  if (!config.AUTH_JWT_SECRET) fail('token needs AUTH_JWT_SECRET (tokens for a JWKS issuer come from that issuer)');
  const lifetimeMs = parseDuration(ttl ?? DEFAULT_TTL);
  if (lifetimeMs === undefined) fail('token: --ttl must be a duration such as 90s, 15m, 12h or 90d');
  const [maxMs, maxVariable] = role === 'service' ? [config.AUTH_MAX_SERVICE_TOKEN_TTL, 'AUTH_MAX_SERVICE_TOKEN_TTL'] : [config.AUTH_MAX_TOKEN_TTL, 'AUTH_MAX_TOKEN_TTL'];
  if (lifetimeMs > maxMs) fail(`token: --ttl ${ttl} is over the ${formatDuration(maxMs)} maximum for role ${role} (${maxVariable}); the API would refuse the token`);

  const subject = await subjectFor(config, app, role, who);
  const jwt = await mintToken(config.AUTH_JWT_SECRET, { role, sub: subject.sub }, `${Math.floor(lifetimeMs / 1000)}s`);
  const expires = new Date(decodeJwt(jwt).exp! * 1000).toISOString();
  // The handlers' credential is the one that must not lapse unnoticed: say so when it got the short default.
  const hint = role === 'service' && ttl === undefined ? '; a SERVICE_TOKEN for the handlers should last longer: choose with --ttl, e.g. --ttl 90d' : '';
  process.stderr.write(`token for ${subject.label}, expires ${expires} (in ${ttl ?? DEFAULT_TTL})${hint}\n`);
  process.stdout.write(`${jwt}\n`);
}

/** `--ttl 90d` or `--ttl=90d`, anywhere among the arguments. */
function parseArgs(args: string[]): { positional: string[]; ttl: string | undefined } {
  const positional: string[] = [];
  let ttl: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--ttl') ttl = args[++i] ?? '';
    else if (arg.startsWith('--ttl=')) ttl = arg.slice('--ttl='.length);
    else positional.push(arg);
  }
  return { positional, ttl };
}

async function subjectFor(config: Config, app: App | undefined, role: Role, who: string | undefined): Promise<{ sub: string; label: string }> {
  const table = TABLE[role];
  if (!table) return { sub: who ?? role, label: `${role} "${who ?? role}"` };
  if (who && UUID.test(who)) return { sub: who, label: `${role} ${who}` };
  const log = createLogger('warn');
  const database = await openDatabase(config, log, { max: 1, migrations: migrationSets(app) });
  let found: { id: string; name: string } | undefined;
  let known: string[];
  // Closed before any exit: it may be the embedded server this command started.
  try {
    [found] = await database.db.execute<{ id: string; name: string }>(
      sql`select id, name from ${sql.identifier(table)} where name ilike ${`${who ?? ''}%`} order by name limit 1`,
    );
    known = found ? [] : (await database.db.execute<{ name: string }>(sql`select name from ${sql.identifier(table)} order by name limit 5`)).map((r) => r.name);
  } finally {
    await database.close();
  }
  if (!found) fail(notFound(config, role, who, known));
  return { sub: found.id, label: `${role} "${found.name}" (${found.id})` };
}

function notFound(config: Config, role: Role, who: string | undefined, known: string[]): string {
  if (known.length) return `no ${role} named "${who ?? ''}" found; some that exist: ${known.join(', ')}`;
  // `start` seeds an empty database where SEED_DEMO_DATA is on (by default in development).
  const startSeeds = onInDevelopment(config.SEED_DEMO_DATA, config);
  return startSeeds
    ? `no ${role} found: the database has no demo data yet; "npm start" loads it into an empty database, or run "npm run seed"`
    : `no ${role} found: the database has no demo data yet; run "npm run seed" first`;
}
