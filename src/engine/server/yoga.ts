/**
 * The GraphQL HTTP endpoint: graphql-yoga with composed plugins, not forks.
 * - authentication happens while building the context, so every operation,
 *   query, mutation or subscription, has a verified viewer or fails with 401;
 *   in production before the query is even validated, and with no
 *   introspection, no suggestions and same-origin CORS (./schemaExposure.ts,
 *   ./cors.ts: each a setting);
 * - graphql-armor bounds depth, cost and aliases; batching has a limit;
 * - a logging plugin writes one JSON line per operation with the request id
 *   and the ids of the events it wrote, and every mutation's result carries
 *   them and their cursor in `extensions.threefactor` (./mutationEvents.ts);
 * - a write-back's cause (x-threefactor-delivery, x-threefactor-event) is
 *   read with its trigger, for the service and admin roles (./writeCause.ts);
 * - with OpenTelemetry on, each query and mutation is a span (./tracing.ts);
 * - subscriptions run on graphql-js's `subscribe`, and an SSE stream ends
 *   when its token expires (./tokenExpiry.ts);
 * - with TRUSTED_DOCUMENTS, only the manifests' operations run
 *   (./trustedDocuments.ts).
 */
import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { getOperationAST, subscribe as graphqlSubscribe, type GraphQLSchema } from 'graphql';
import { useEngine } from '@envelop/core';
import { onInDevelopment, type Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Context } from '../graphql/context.js';
import { sessionVariables } from '../graphql/context.js';
import type { Logger } from '../log.js';
import type { Realtime } from '../realtime/realtime.js';
import { bearer, type Authenticator } from './auth.js';
import { corsPolicy } from './cors.js';
import { schemaExposure } from './schemaExposure.js';
import { endStreamsAtTokenExpiry } from './tokenExpiry.js';
import { capStreamsPerViewer } from './sseStreamCap.js';
import { refuseSseSingleConnection } from './sseSingleConnection.js';
import { rejectNulInput } from './rejectNulInput.js';
import { errorMasking } from './errorMasking.js';
import { graphqlDuration, graphqlOperations } from './metrics.js';
import { HEADER } from '../../kit/contract.js';
import { continueTrace } from '../../kit/trace.js';
import { TRIGGER_NAME } from '../events/triggers/triggerDefinition.js';
import { noteCallerTrace, operationTracing } from './tracing.js';
import { writeCause, type CauseInput } from './writeCause.js';
import { reportMutationEvents } from './mutationEvents.js';
import { loadTrustedDocuments, trustedDocumentsPlugins } from './trustedDocuments.js';

export interface ServerContext {
  requestId: string;
  /** A context already built by a transport that authenticates on its own (WebSocket). */
  transportContext?: Context;
}

export type Yoga = YogaServerInstance<ServerContext, Context>;

export interface YogaDeps {
  config: Config;
  schema: GraphQLSchema;
  database: Database;
  auth: Authenticator;
  log: Logger;
  realtime: Realtime;
}

/** Builds a context for any transport (HTTP, SSE, WebSocket) from its raw credentials. */
export async function buildContext(
  deps: Pick<YogaDeps, 'auth' | 'database' | 'log' | 'realtime'>,
  input: { token: string | undefined; traceparent?: string | null; tracestate?: string | null; requestId?: string; causedBy?: string | null; cause?: CauseInput },
): Promise<Context> {
  const viewer = await deps.auth.verify(input.token);
  // Refused (400) before anything runs; ignored for a client's roles (./writeCause.ts).
  const cause = writeCause(viewer.role, input.cause ?? {});
  const requestId = input.requestId ?? randomUUID();
  const context: Context = {
    viewer,
    database: deps.database,
    requestId,
    log: deps.log.child({ requestId, role: viewer.role, sub: viewer.sub }),
    events: {
      session: sessionVariables(viewer),
      traceContext: { ...continueTrace(input.traceparent, input.tracestate) },
      eventIds: [],
      // Loop guard: only a service (a handler writing back) may say which trigger its write is for.
      causedBy: viewer.role === 'service' || viewer.role === 'admin' ? causedByTrigger(input.causedBy) : null,
      cause,
      positions: new Map(),
    },
    realtime: deps.realtime,
  };
  // With OpenTelemetry on, the operation's span takes the caller's as its parent (./tracing.ts).
  noteCallerTrace(context.events, input.traceparent, input.tracestate);
  return context;
}

function causedByTrigger(value: string | null | undefined): string | null {
  return value && TRIGGER_NAME.test(value) ? value : null;
}

function bodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const length = request.headers.get('content-length');
      // Without a declared length the body could be unbounded: refuse it (411) rather than read it.
      if (length === null) {
        endResponse(new fetchAPI.Response('Content-Length required', { status: 411 }));
      } else if (Number(length) > maxBytes) {
        endResponse(new fetchAPI.Response(`Request body exceeds ${maxBytes} bytes`, { status: 413 }));
      }
    },
  };
}

/**
 * Subscriptions run on graphql-js's own `subscribe`. Yoga's default (graphql-tools'
 * normalizedExecutor) stacks map and flatten iterators for incremental delivery onto every
 * subscription, about 2.6 KB of closures per open one, measured; no subscription here uses
 * @defer/@stream. Queries and mutations keep yoga's executor. Envelop's hooks (masking, scopes,
 * armor, the operation log) wrap whichever engine runs, so nothing else changes.
 */
function subscriptionEngine() {
  return useEngine({ subscribe: graphqlSubscribe });
}

function operationLog(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const ctx = args.contextValue;
      const op = getOperationAST(args.document, args.operationName);
      const type = op?.operation ?? 'unknown';
      const name = op?.name?.value;
      return {
        onExecuteDone({ result }) {
          const ms = performance.now() - started;
          const errors = 'errors' in result && result.errors ? result.errors.length : 0;
          graphqlOperations.inc({ type, outcome: errors ? 'error' : 'ok' });
          graphqlDuration.observe({ type }, ms / 1000);
          ctx.log.info(
            {
              operation: name,
              type,
              ms: Math.round(ms * 100) / 100,
              errors,
              ...(ctx.events.eventIds.length ? { eventIds: ctx.events.eventIds } : {}),
            },
            'graphql',
          );
        },
      };
    },
  };
}

export function createGraphqlHandler(deps: YogaDeps): Yoga {
  const { config } = deps;
  // TRUSTED_DOCUMENTS: only the manifests' operations run, on HTTP, SSE and WebSocket (./trustedDocuments.ts).
  const trusted = config.TRUSTED_DOCUMENTS ? loadTrustedDocuments(config.TRUSTED_DOCUMENTS) : undefined;
  if (trusted) deps.log.info({ documents: trusted.size, files: trusted.files }, 'trusted documents only');
  return createYoga<ServerContext, Context>({
    schema: deps.schema,
    graphqlEndpoint: '/graphql',
    graphiql: onInDevelopment(config.GRAPHIQL, config) ? { title: 'threefactor' } : false,
    landingPage: false,
    batching: { limit: config.MAX_BATCH_SIZE },
    logging: false,
    cors: corsPolicy(config),
    maskedErrors: errorMasking(deps.log),
    context: ({ request, requestId, transportContext }) =>
      transportContext ??
      buildContext(deps, {
        token: bearer(request.headers.get('authorization')),
        traceparent: request.headers.get('traceparent'),
        tracestate: request.headers.get('tracestate'),
        causedBy: request.headers.get(HEADER.trigger),
        cause: { delivery: request.headers.get(HEADER.delivery), event: request.headers.get(HEADER.event) },
        requestId,
      }),
    plugins: [
      subscriptionEngine(),
      bodyLimit(config.MAX_BODY_BYTES),
      ...(trusted ? trustedDocumentsPlugins(trusted) : []),
      ...schemaExposure(config, deps.auth),
      EnvelopArmorPlugin({
        maxDepth: { n: config.MAX_QUERY_DEPTH },
        costLimit: { maxCost: config.MAX_QUERY_COST },
        maxAliases: { n: 15 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 2000 },
        // Suggestions are schemaExposure's (GRAPHQL_SUGGESTIONS): armor's mask misses enum values and variables.
        blockFieldSuggestion: { enabled: false },
      }),
      ...operationTracing(config),
      operationLog(),
      reportMutationEvents(),
      rejectNulInput(),
      endStreamsAtTokenExpiry(),
      capStreamsPerViewer(config.MAX_SSE_STREAMS_PER_VIEWER),
      refuseSseSingleConnection(),
    ],
  });
}

