/**
 * The write-back path: a small GraphQL-over-HTTP client that calls the API
 * as the service role, continues the event's trace, and passes back the
 * trigger that caused the call (the `x-threefactor-trigger` header the
 * dispatcher delivered with), so events it writes are not routed to that same
 * trigger again (the loop guard).
 */
import { HEADER } from './contract.js';
import { ApiUnavailable, GraphqlRequestError } from './errors.js';

export interface ApiTarget {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  apiUrl: string;
  /** A JWT with role `service`. */
  serviceToken: string;
  /** Per-call deadline; the dispatcher's own timeout should be longer. */
  timeoutMs?: number;
}

export interface CallCause {
  trigger: string;
  traceparent: string;
  tracestate?: string;
  /** Aborts in-flight calls: the delivery timed out or its sender went away. */
  signal?: AbortSignal;
}

/**
 * The answer to a state change. The API's state-machine refusals come back as
 * values, because under at-least-once delivery they are often the good news:
 *   ILLEGAL_TRANSITION  the order is past this step: a redelivery finds its work done;
 *   CONFLICT            a concurrent change, or a row already settled (see the mutation).
 * The function decides what each means for it; every other error throws.
 */
export type Applied<T> = { applied: true; data: T } | { applied: false; code: Refusal; message: string };

export const REFUSALS = ['ILLEGAL_TRANSITION', 'CONFLICT'] as const;
export type Refusal = (typeof REFUSALS)[number];

export interface GraphqlClient {
  /** Run a query or mutation; throws GraphqlRequestError on any GraphQL error. */
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Run a state-changing mutation; ILLEGAL_TRANSITION / CONFLICT come back as `applied: false`. */
  apply<T>(mutation: string, variables?: Record<string, unknown>): Promise<Applied<T>>;
}

interface GraphqlResponse {
  data?: unknown;
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

export function createGraphqlClient(target: ApiTarget, cause: CallCause): GraphqlClient {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    authorization: `Bearer ${target.serviceToken}`,
    [HEADER.traceparent]: cause.traceparent,
    // The same header as on the delivery: the trigger travels unchanged from dispatcher to API.
    [HEADER.trigger]: cause.trigger,
    ...(cause.tracestate ? { [HEADER.tracestate]: cause.tracestate } : {}),
  };

  async function graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const timeout = AbortSignal.timeout(target.timeoutMs ?? 10_000);
    let res: Response;
    try {
      res = await fetch(target.apiUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
        signal: cause.signal ? AbortSignal.any([timeout, cause.signal]) : timeout,
      });
    } catch {
      const why = cause.signal?.aborted ? 'call was abandoned' : timeout.aborted ? 'timed out' : 'is unreachable';
      throw new ApiUnavailable(`GraphQL API ${why}`);
    }
    const body = await res.json().then(
      (b: unknown) => b as GraphqlResponse,
      () => undefined,
    );
    if (body?.errors?.length) {
      const codes = body.errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'UNKNOWN'));
      const messages = body.errors.map((e) => (typeof e.message === 'string' ? e.message : 'error'));
      throw new GraphqlRequestError(`GraphQL API answered ${codes.join(', ')}: ${messages.join('; ')}`, codes);
    }
    if (!res.ok || !body || body.data === undefined || body.data === null) {
      throw new ApiUnavailable(`GraphQL API answered HTTP ${res.status} without data`);
    }
    return body.data as T;
  }

  return {
    graphql,
    async apply<T>(mutation: string, variables?: Record<string, unknown>): Promise<Applied<T>> {
      try {
        return { applied: true, data: await graphql<T>(mutation, variables) };
      } catch (err) {
        const code = err instanceof GraphqlRequestError && err.codes.length === 1 ? err.codes[0] : undefined;
        if (code && (REFUSALS as readonly string[]).includes(code)) {
          return { applied: false, code: code as Refusal, message: (err as Error).message };
        }
        throw err;
      }
    },
  };
}
