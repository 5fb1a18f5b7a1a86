/**
 * Config: the one place that reads the environment (12-factor).
 * Every variable is validated at start; a bad or missing value stops the
 * process with a single line naming the variable, never a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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

/** A config variable holding a duration (see parseDuration), parsed to milliseconds. */
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 15m, 12h or 90d' });
    return z.NEVER;
  }
  return ms;
});

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
    EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
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
    /** A /metrics listener for processes without an HTTP server (the dispatcher); 0 = none. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: url(['http:', 'https:']).optional(),
    AUTH_JWT_ISSUER: z.string().optional(),
    AUTH_JWT_AUDIENCE: z.string().optional(),
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
    /** Standard Webhooks signing secret shared by the dispatcher and the handlers. */
    WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'must be whsec_<base64>; generate one with: echo whsec_$(openssl rand -base64 32)')
      .optional(),
    /** Handler functions: where they write back (the GraphQL endpoint), as whom, and where they listen. */
    API_URL: url(['http:', 'https:']).default('http://127.0.0.1:4000/graphql'),
    SERVICE_TOKEN: z.string().min(1).optional(),
    HANDLERS_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
    /** Comma-separated function names to serve; all when unset. */
    HANDLERS: z.string().optional(),
    /** Per subscription: events a stream may buffer, or distinct states a live feed may hold, for a slow client. */
    SUBSCRIPTION_BUFFER: z.coerce.number().int().min(1).default(1000),
    /** The web demo and its token route (src/server/demo.ts); default: on outside production. */
    DEMO: bool.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.AUTH_JWT_SECRET && !c.AUTH_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'is required (or set AUTH_JWKS_URL); generate one with: openssl rand -hex 32',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

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
  }
  return readFileSync(file, 'utf8').trim();
}
