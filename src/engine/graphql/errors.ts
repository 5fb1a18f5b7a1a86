/**
 * The client-facing error vocabulary. Every expected failure is a
 * GraphQLError with a stable `extensions.code`; anything else is masked by
 * yoga, so internals and secrets never reach a client.
 */
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'ILLEGAL_TRANSITION'
  | 'CONFLICT'
  /** A subscriber fell too far behind its stream; `extensions.cursor` says where to resume. */
  | 'SLOW_CONSUMER'
  /** The database is out of reach for now (a restart, a failover): retry after `Retry-After` seconds. */
  | 'UNAVAILABLE'
  /** Over a per-connection or per-viewer cap (operations on a socket, SSE streams): end one first. */
  | 'TOO_MANY_OPERATIONS'
  /** A request the server does not take in that form (e.g. graphql-sse's single connection mode). */
  | 'BAD_REQUEST';

/** Seconds a client waits before retrying an UNAVAILABLE operation: about how long a PostgreSQL restart takes. */
export const RETRY_AFTER_SECONDS = 1;

/** What HTTP says besides the body (yoga applies it, and strips it from the response). */
const HTTP: Partial<Record<ErrorCode, { status: number; headers?: Record<string, string> }>> = {
  UNAUTHENTICATED: { status: 401 },
  UNAVAILABLE: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
  TOO_MANY_OPERATIONS: { status: 429 },
  BAD_REQUEST: { status: 400 },
};

export function clientError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  const http = HTTP[code];
  return new GraphQLError(message, {
    extensions: { code, ...extra, ...(http ? { http } : {}) },
  });
}

export const unauthenticated = (why: string) => clientError('UNAUTHENTICATED', why);
export const forbidden = (what = 'You are not allowed to do this') => clientError('FORBIDDEN', what);
export const notFound = (what: string, id: string) => clientError('NOT_FOUND', `${what} ${id} was not found`, { id });
export const badInput = (message: string, field?: string) =>
  clientError('BAD_USER_INPUT', message, field ? { field } : {});
export const unavailable = () => clientError('UNAVAILABLE', `The database is unavailable; retry in ${RETRY_AFTER_SECONDS} s`, { retryAfter: RETRY_AFTER_SECONDS });
