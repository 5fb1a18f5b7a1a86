/**
 * What a client sees of an error it did not cause, for every transport
 * (HTTP, SSE and WebSocket all run through yoga's masking):
 * - a client error (a GraphQLError of ours, with a code) passes as it is;
 * - connection loss (src/engine/db/connectionLoss.ts) is UNAVAILABLE: HTTP
 *   503 with Retry-After, so a client can tell "retry in a second" from a bug;
 * - anything else stays "Unexpected error." (INTERNAL_SERVER_ERROR), logged
 *   at level error with its cause and an error id that the client gets in
 *   `extensions.errorId`, so a report can be matched to its log line.
 * The log gets the cause's type, message, code and stack frames, never
 * query parameters (drizzle writes them into its message).
 */
import { randomUUID } from 'node:crypto';
import { DrizzleQueryError } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { maskError, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { connectionLossCode } from '../db/connectionLoss.js';
import { unavailable } from '../graphql/errors.js';
import { errorMessage } from '../lib.js';
import type { Logger } from '../log.js';

/** An error's cause as logged: enough to find the bug, nothing a client sent as data. */
export interface LoggedCause {
  type: string;
  message: string;
  code?: string;
  /** The SQL of a failed drizzle query (placeholders, not values). */
  query?: string;
  /** Stack frames only (the first line repeats the message). */
  stack?: string;
  cause?: LoggedCause;
}

const MAX_MESSAGE = 2_000;
const MAX_CAUSES = 5;

function frames(stack: string | undefined): string | undefined {
  const lines = stack?.split('\n').filter((line) => /^\s+at /.test(line));
  return lines?.length ? lines.join('\n') : undefined;
}

export function loggedCause(err: unknown, depth = 0): LoggedCause {
  if (!(err instanceof Error)) return { type: typeof err, message: errorMessage(err).slice(0, MAX_MESSAGE) };
  const code = (err as { code?: unknown }).code;
  const query = err instanceof DrizzleQueryError ? err.query : undefined;
  const next = err instanceof GraphQLError ? err.originalError : err.cause;
  return {
    type: err.name,
    // drizzle's message is the query and its parameters: keep the query, drop the values.
    message: (query === undefined ? err.message : 'Failed query').slice(0, MAX_MESSAGE),
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    ...(query === undefined ? {} : { query: query.slice(0, MAX_MESSAGE) }),
    ...(frames(err.stack) ? { stack: frames(err.stack) } : {}),
    ...(next !== undefined && next !== null && depth < MAX_CAUSES ? { cause: loggedCause(next, depth + 1) } : {}),
  };
}

/** `template`'s message and extensions at the place in the operation where `at` happened. */
function located(template: GraphQLError, at: unknown, extensions: Record<string, unknown> = {}): GraphQLError {
  const where = at instanceof GraphQLError ? at : undefined;
  return new GraphQLError(template.message, {
    nodes: where?.nodes,
    source: where?.source,
    positions: where?.positions,
    path: where?.path,
    extensions: { ...template.extensions, ...extensions },
  });
}

/** The path in the result the error belongs to, for the log. */
const pathOf = (err: unknown) => (err instanceof GraphQLError && err.path ? err.path.join('.') : undefined);

/** The error the cause chain of a GraphQL error leads to: what a resolver threw. */
const thrown = (err: unknown): unknown => (err instanceof GraphQLError && err.originalError ? thrown(err.originalError) : err);

export function errorMasking(log: Logger): Partial<YogaMaskedErrorOpts> {
  return {
    maskError(error, message, isDev) {
      const masked = maskError(error, message, isDev);
      if (masked === error) return masked;
      const lost = connectionLossCode(error);
      if (lost) {
        log.warn({ code: lost, path: pathOf(error) }, 'database unavailable');
        return located(unavailable(), error);
      }
      const errorId = randomUUID();
      log.error({ errorId, path: pathOf(error), cause: loggedCause(thrown(error)) }, 'internal error');
      return masked instanceof GraphQLError ? located(masked, masked, { errorId }) : located(new GraphQLError(masked.message), error, { errorId });
    },
  };
}
