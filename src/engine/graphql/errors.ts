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
  | 'SLOW_CONSUMER';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

export function clientError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extra, ...(status ? { http: { status } } : {}) },
  });
}

export const unauthenticated = (why: string) => clientError('UNAUTHENTICATED', why);
export const forbidden = (what = 'You are not allowed to do this') => clientError('FORBIDDEN', what);
export const notFound = (what: string, id: string) => clientError('NOT_FOUND', `${what} ${id} was not found`, { id });
export const badInput = (message: string, field?: string) =>
  clientError('BAD_USER_INPUT', message, field ? { field } : {});
