/**
 * The write-back path: a small GraphQL-over-HTTP client that calls the API
 * as the service role, continues the event's trace (each call a client
 * span, ./telemetry.ts, whose context is that call's traceparent), and passes back the
 * cause the dispatcher delivered with (./contract.ts): the trigger
 * (`x-threefactor-trigger`), so events it writes are not routed to that same
 * trigger again (the loop guard), and the delivery and event
 * (`x-threefactor-delivery`, `x-threefactor-event`), which those events record
 * as what caused them.
 */
import { HEADER } from './contract.js';
import { ApiUnavailable, GraphqlRequestError } from './errors.js';
import { ATTR, endSpan, serverAttributes, SpanKind, startSpan, type Span } from './telemetry.js';

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
  /** The delivery being handled, and its event: absent when the transport did not say (a direct call). */
  delivery?: { id: string; eventId: string };
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
    // The same headers as on the delivery: the cause travels unchanged from dispatcher to API.
    [HEADER.trigger]: cause.trigger,
    ...(cause.delivery ? { [HEADER.delivery]: cause.delivery.id, [HEADER.event]: cause.delivery.eventId } : {}),
    ...(cause.tracestate ? { [HEADER.tracestate]: cause.tracestate } : {}),
  };

  const server = serverAttributes(target.apiUrl);

  /** One call, one client span (./telemetry.ts): its context is the call's traceparent, the API's span its child. */
  async function graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const operation = operationOf(query);
    const { span, context } = startSpan(operation.name ? `${operation.type} ${operation.name}` : operation.type, cause, {
      kind: SpanKind.CLIENT,
      attributes: {
        'graphql.operation.type': operation.type,
        ...(operation.name ? { 'graphql.operation.name': operation.name } : {}),
        'http.request.method': 'POST',
        ...server,
        [ATTR.trigger]: cause.trigger,
        ...(cause.delivery ? { [ATTR.delivery]: cause.delivery.id } : {}),
      },
    });
    const traced = context ? { ...headers, [HEADER.traceparent]: context.traceparent } : headers;
    try {
      const data = await call<T>(query, variables, traced, span);
      endSpan(span);
      return data;
    } catch (err) {
      const codes = err instanceof GraphqlRequestError ? err.codes : [];
      endSpan(span, { message: (err as Error).message, type: codes.length === 1 ? codes[0]! : (err as Error).name });
      throw err;
    }
  }

  async function call<T>(query: string, variables: Record<string, unknown> | undefined, headers: Record<string, string>, span: Span): Promise<T> {
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
    span.setAttribute('http.response.status_code', res.status);
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

/** The operation's type and name as the document's first definition states them (a span's name, not a parse). */
function operationOf(query: string): { type: string; name?: string } {
  const match = /^\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(query);
  if (!match) return { type: /^\s*\{/.test(query) ? 'query' : 'graphql' };
  return match[2] ? { type: match[1]!, name: match[2] } : { type: match[1]! };
}

