/**
 * Config: the one place that reads the environment (12-factor).
 * Every variable is validated at start; a bad or missing value stops the
 * process with a single line naming the variable, never a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { POOL_MODES } from './db/poolMode.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with protocol ${protocols.join(' or ')}`);

const DURATION_UNITS_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `90s`, `15m`, `12h` or `90d`, in milliseconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** The inverse of parseDuration: milliseconds in the largest unit that divides them (`86400000` → `1d`). */
export function formatDuration(ms: number): string {
  const units = Object.entries(DURATION_UNITS_MS).sort(([, a], [, b]) => b - a);
  const [unit, size] = units.find(([, size]) => ms % size === 0) ?? ['s', 1_000];
  return `${Math.round(ms / size)}${unit}`;
}

/** A config variable holding a duration (see parseDuration), parsed to milliseconds. */
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 15m, 12h or 90d' });
    return z.NEVER;
  }
  return ms;
});

/** The secrets of AUTH_JWT_SECRET, space- or comma-separated: the first signs, every one verifies. */
export function jwtSecrets(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/** A bare http(s) origin, as a browser sends it in `Origin`: scheme, host, optional port; no path, no trailing slash. */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value;
  } catch {
    return false;
  }
}

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    /** Loopback by default in every mode: a server reachable from other machines is a choice (HOST=0.0.0.0). */
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
    EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
    /** Session-level work (LISTEN, session advisory locks, migrations) connects here, past a pooler; default: DATABASE_URL. */
    DATABASE_DIRECT_URL: url(['postgres:', 'postgresql:']).optional(),
    /** `transaction`: DATABASE_URL is a transaction pooler (PgBouncer, RDS Proxy, Supavisor), so no statement is named (src/engine/db/poolMode.ts). */
    DATABASE_POOL_MODE: z.enum(POOL_MODES).default('session'),
    /** The app this process runs (src/cli/apps.ts checks the name): `none` is the engine alone, on any database. */
    APP: z.string().min(1).default('food-delivery'),
    /** The dispatcher: event triggers from a Hasura metadata export directory or file, loaded as is. */
    TRIGGERS_FILE: z.string().optional(),
    /** Which source (database) of the Hasura metadata to load triggers from. */
    TRIGGERS_SOURCE: z.string().min(1).default('default'),
    DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
    DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
    DISPATCH_POLL_MS: z.coerce.number().int().min(10).default(1_000),
    /** Lease per claimed delivery, renewed by a heartbeat: how soon a killed dispatcher's work is re-run. */
    DISPATCH_LEASE_MS: z.coerce.number().int().min(1_000).default(10_000),
    /**
     * Retention, run by one dispatcher at a time (src/events/retention.ts).
     * Delivered deliveries and their attempt logs older than this many days
     * are deleted in small batches; 0 keeps them.
     */
    RETENTION_DELIVERED_DAYS: z.coerce.number().min(0).default(7),
    /** Dead deliveries (the dead-letter queue) are kept unless this is set. */
    RETENTION_DEAD_DAYS: z.coerce.number().positive().optional(),
    /** The event log is history and kept unless this is set; events with an unfinished or dead delivery are always kept. */
    RETENTION_EVENTS_DAYS: z.coerce.number().positive().optional(),
    RETENTION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(600_000),
    /** Rows per DELETE statement, and the pause between two: no long locks, no vacuum storm. */
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
    RETENTION_BATCH_PAUSE_MS: z.coerce.number().int().min(0).default(100),
    /** A /metrics listener of its own (the dispatcher's, or the API's beside its public port); 0 = none. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /** Where that listener binds: loopback unless the operator chooses a private interface. */
    METRICS_HOST: z.string().default('127.0.0.1'),
    /** A bearer token /metrics asks for wherever it is served; without it, production serves /metrics only on METRICS_PORT. */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** HS256 secrets, space- or comma-separated: the first signs, every one verifies (rotation, see jwtSecrets). */
    AUTH_JWT_SECRET: z
      .string()
      .superRefine((value, ctx) => {
        const secrets = jwtSecrets(value);
        if (secrets.length === 0 || secrets.some((s) => s.length < 32)) {
          ctx.addIssue({ code: 'custom', message: `${secrets.length > 1 ? 'each secret' : ''} must be at least 32 characters`.trimStart() });
        }
      })
      .optional(),
    AUTH_JWKS_URL: url(['http:', 'https:']).optional(),
    AUTH_JWT_ISSUER: z.string().optional(),
    AUTH_JWT_AUDIENCE: z.string().optional(),
    /** Longest lifetime (exp - iat) a token may have; the service role has its own, for the handlers' long-lived credential. */
    AUTH_MAX_TOKEN_TTL: duration.prefault('24h'),
    AUTH_MAX_SERVICE_TOKEN_TTL: duration.prefault('365d'),
    /** Anonymous requests are refused (401) before their query is validated; default: on in production. */
    AUTH_BEFORE_VALIDATION: bool.optional(),
    /** Schema introspection (__schema, __type); default: off in production. */
    GRAPHQL_INTROSPECTION: bool.optional(),
    /** "Did you mean …" in error messages; default: off in production. */
    GRAPHQL_SUGGESTIONS: bool.optional(),
    /** Origins allowed cross-origin (comma-separated, or `*`), never with credentials; default: `*` outside production, none in production. */
    CORS_ORIGINS: z
      .string()
      .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
      .refine((list) => list.length > 0 && list.every((o) => o === '*' || isOrigin(o)), 'must be * or comma-separated origins such as https://app.example.com')
      .optional(),
    GRAPHIQL: bool.optional(),
    MAX_QUERY_DEPTH: z.coerce.number().int().min(1).default(12),
    MAX_QUERY_COST: z.coerce.number().int().min(1).default(5000),
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
    MAX_BATCH_SIZE: z.coerce.number().int().min(1).default(10),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
    /**
     * `start` runs the dispatcher and the handler functions (in-process) inside
     * the API process: the whole system in one process. Defaults on in
     * development only; in production each role runs as its own process.
     */
    ALL_IN_ONE: bool.optional(),
    /** `start` loads the demo data into an empty database. Defaults on in development only. */
    SEED_DEMO_DATA: bool.optional(),
    /** Standard Webhooks signing secret(s) shared by the dispatcher and the handlers. */
    WEBHOOK_SECRET: z
      .string()
      // Several, space-separated, while one rotates: the dispatcher signs with each, the handlers accept any (README).
      .regex(
        /^\s*whsec_[A-Za-z0-9+/]{16,}={0,2}(\s+whsec_[A-Za-z0-9+/]{16,}={0,2})*\s*$/,
        'must be whsec_<base64> (or several, space-separated, while rotating); generate one with: echo whsec_$(openssl rand -base64 32)',
      )
      .optional(),
    /** Handler functions: where they write back (the GraphQL endpoint), as whom, and where they listen. */
    API_URL: url(['http:', 'https:']).default('http://127.0.0.1:4000/graphql'),
    SERVICE_TOKEN: z.string().min(1).optional(),
    HANDLERS_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
    /** How long a sender has to deliver a request's headers, then its body, to the handlers (408 after); unset: the kit's 5000. */
    HANDLER_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).optional(),
    /** Comma-separated function names to serve; all when unset. */
    HANDLERS: z.string().optional(),
    /** Per subscription: events a stream may buffer, or distinct states a live feed may hold, for a slow client. */
    SUBSCRIPTION_BUFFER: z.coerce.number().int().min(1).default(1000),
    /** Open operations on one WebSocket (subscriptions, queries in flight); the next gets TOO_MANY_OPERATIONS. */
    MAX_OPERATIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
    /** WebSocket connections of one viewer (token `sub`) in this process; the next is closed with 4429. */
    MAX_CONNECTIONS_PER_VIEWER: z.coerce.number().int().min(1).default(20),
    /** SSE subscription streams of one viewer (token `sub`) in this process; the next is answered 429. */
    MAX_SSE_STREAMS_PER_VIEWER: z.coerce.number().int().min(1).default(100),
    /** The web demo and its token route (src/server/demo.ts); default: on outside production. */
    DEMO: bool.optional(),
    /** Serve the demo's /demo/tokens to non-loopback clients too; default: loopback only. */
    DEMO_TOKENS_REMOTE: bool.optional(),
    /** The web demo's operations console (src/apps/food-delivery/demo/routes.ts); default: on outside production. */
    DEMO_CONSOLE: bool.optional(),
    /**
     * Trusted documents: comma-separated manifest files (`{"<id>": "<document>"}`, graphql-codegen's
     * persisted documents); when set, only their operations run, on every transport (server/trustedDocuments.ts).
     */
    TRUSTED_DOCUMENTS: z.string().min(1).optional(),
    /**
     * OpenTelemetry, as its own specification defines these variables: the SDK
     * reads them from the environment itself; they are declared here so a bad
     * value stops the process with one line, and so the README lists them.
     * Spans are exported (OTLP/HTTP) only when an endpoint is set (runtime/telemetry.ts).
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional(),
    /** Sent with every export, e.g. a collector's API key: a secret, never logged. */
    OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
    OTEL_SERVICE_NAME: z.string().min(1).optional(),
    OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
    OTEL_SDK_DISABLED: bool.optional(),
    OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).optional(),
    OTEL_BSP_EXPORT_TIMEOUT: z.coerce.number().int().min(0).optional(),
    OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().min(1).optional(),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_DIRECT_URL && !c.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_DIRECT_URL'], message: 'needs DATABASE_URL too (the URL everything else connects to)' });
    } else if (c.DATABASE_POOL_MODE === 'transaction' && !c.DATABASE_DIRECT_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_DIRECT_URL'],
        message: 'is required with DATABASE_POOL_MODE=transaction (LISTEN and session advisory locks cannot go through a transaction pooler)',
      });
    }
    if (c.NODE_ENV === 'production' && !c.AUTH_JWT_SECRET && !c.AUTH_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'is required (or set AUTH_JWKS_URL); generate one with: openssl rand -hex 32',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** A switch that is on in development unless set: the one rule for ALL_IN_ONE, SEED_DEMO_DATA and GRAPHIQL. */
export const onInDevelopment = (flag: boolean | undefined, config: Pick<Config, 'NODE_ENV'>): boolean => flag ?? config.NODE_ENV === 'development';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse an environment; throws ConfigError with one line naming the variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = issue.path.join('.') || 'environment';
  // Never echo the value: it may be a secret.
  throw new ConfigError(`config: ${variable} ${issue.message}`);
}

let cached: Config | undefined;

/** The process config, read once. CLI entry points call this first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  cached ??= withDevWebhookSecret(withDevSecret(parseConfig(env)));
  return cached;
}

/**
 * Outside production, a missing JWT secret is generated once and kept beside
 * the embedded database, so `npm start` works on a fresh clone and every local
 * process (API, dispatcher, `token`) agrees on it. Production must set one.
 */
function withDevSecret(config: Config): Config {
  if (config.AUTH_JWT_SECRET || config.AUTH_JWKS_URL || config.NODE_ENV === 'production') return config;
  return { ...config, AUTH_JWT_SECRET: devSecret(config, 'dev-jwt-secret', () => randomBytes(32).toString('hex')) };
}

/** Same for the webhook signing secret, so a local dispatcher and handlers agree on it. */
function withDevWebhookSecret(config: Config): Config {
  if (config.WEBHOOK_SECRET || config.NODE_ENV === 'production') return config;
  return { ...config, WEBHOOK_SECRET: devSecret(config, 'dev-webhook-secret', () => `whsec_${randomBytes(32).toString('base64')}`) };
}

function devSecret(config: Config, name: string, generate: () => string): string {
  const file = path.join(path.dirname(path.resolve(config.EMBEDDED_PG_DIR)), name);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, generate(), { mode: 0o600 });
  } else {
    warnIfShared(file);
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * A secret file someone else can read (copied, unpacked, or made under a
 * loose umask) is still used: these are development secrets, and refusing
 * would only stop `npm start`. One line on stderr, once per file per process
 * (loadConfig runs once), names the file and the fix.
 */
function warnIfShared(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const octal = mode.toString(8).padStart(4, '0');
  process.stderr.write(`threefactor: warning: ${file} is accessible to group or others (mode ${octal}); run: chmod 600 ${file}\n`);
}
