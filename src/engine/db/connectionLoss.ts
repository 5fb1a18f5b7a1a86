/**
 * Connection loss: the one place that tells "the database could not be
 * reached, or the connection died under the query" (a restart, a failover,
 * a network cut; retry in a moment) from a query that failed (a bug, bad
 * data). Only these codes count, so a real failure is never reported as
 * retryable. The driver's error is found through the cause chain: GraphQL
 * wraps a resolver's error, drizzle wraps the driver's.
 */

/** postgres.js's own codes and the socket errors it passes on. */
const DRIVER_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** PostgreSQL's SQLSTATEs: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down). */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03']);

/** Class 08, connection_exception (e.g. 08006 connection_failure, 08001 unable to connect). */
const CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;

const codeOf = (err: object): unknown => (err as { code?: unknown }).code;

function isLossCode(code: unknown): code is string {
  return typeof code === 'string' && (DRIVER_CODES.has(code) || SERVER_CODES.has(code) || CONNECTION_EXCEPTION.test(code));
}

/** `err` and the errors under it, outermost first: causes, a GraphQLError's original error, an AggregateError's members. */
export function errorChain(err: unknown): object[] {
  const chain: object[] = [];
  const queue: unknown[] = [err];
  while (queue.length) {
    const next = queue.shift();
    if (next === null || typeof next !== 'object' || chain.includes(next)) continue;
    chain.push(next);
    const e = next as { cause?: unknown; originalError?: unknown; errors?: unknown };
    queue.push(e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return chain;
}

/** The driver's or server's error behind `err` that says the connection was lost, if it is one. */
export function connectionLoss(err: unknown): (Error & { code: string }) | undefined {
  return errorChain(err).find((e): e is Error & { code: string } => e instanceof Error && isLossCode(codeOf(e)));
}

/** The code of the connection loss behind `err` (e.g. "ECONNREFUSED", "57P01"), or undefined when it is none. */
export const connectionLossCode = (err: unknown): string | undefined => connectionLoss(err)?.code;
