/**
 * GraphQL over WebSocket (the graphql-ws protocol) at /graphql on the API's
 * HTTP server. Same authentication and authorization as HTTP:
 * - the JWT comes in `connectionParams.authorization` ("Bearer <token>" or
 *   the bare token) and is verified before the connection is acknowledged;
 *   a missing or bad token closes the socket with 4401 and the reason, and
 *   so does the token's expiry, within a second (./tokenExpiry.ts);
 * - every operation gets its own context from `buildContext` (the token is
 *   verified again, so an expired token cannot start new operations), and
 *   runs through yoga's envelop: the same schema, scopes, armor limits,
 *   error masking and operation log as HTTP;
 * - identical live subscriptions (same document, variables and viewer) share
 *   an execution from the second one on (./sharedSubscriptions.ts), so a
 *   change to a feed watched by a thousand clients of one restaurant is
 *   executed twice, not 1,000 times.
 * While draining, upgrades are refused; on drain every socket is closed with
 * 1001 (going away), so clients reconnect elsewhere and resume.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { bearer } from './auth.js';
import type { Readiness } from './health.js';
import { createSharedSubscriptions, shareRuleOf, type ShareRule } from './sharedSubscriptions.js';
import { ExpiryReaper } from './tokenExpiry.js';
import { buildContext, type Yoga, type YogaDeps } from './yoga.js';

export const GRAPHQL_PATH = '/graphql';

/** graphql-ws close code for a connection that failed authentication. */
export const CLOSE_UNAUTHENTICATED = 4401;

export interface WebSocketTransport {
  /** Close every socket (1001) and stop accepting. */
  close(): Promise<void>;
  readonly connections: number;
  /** Shared executions of identical live subscriptions, the subscribers attached to them, and those running solo. */
  sharing(): { groups: number; subscribers: number; solo: number };
}

type Enveloped = ReturnType<Yoga['getEnveloped']>;

interface ConnectionExtra extends Record<PropertyKey, unknown> {
  token: string;
  /** When the token expires (epoch ms): the socket is closed then (4401). */
  expiresAt?: number;
}

/** Close reason when a connection's token expires; the client reconnects with a fresh one and resumes. */
export const TOKEN_EXPIRED_REASON = 'Authentication expired: reconnect with a fresh token';

/** The token from connectionParams: "Bearer <token>" or the bare token. */
export function connectionToken(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  if (typeof value !== 'string' || !value.trim()) return undefined;
  return bearer(value) ?? (/\s/.test(value.trim()) ? undefined : value.trim());
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachWebSocket(opts: {
  server: Server;
  yoga: Yoga;
  deps: YogaDeps;
  readiness: Readiness;
  log: Logger;
}): WebSocketTransport {
  const { yoga, deps, readiness } = opts;
  const log = opts.log.child({ transport: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.config.MAX_BODY_BYTES });

  opts.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.split('?')[0] !== GRAPHQL_PATH) return refuse(socket, 404, 'Not Found');
    if (readiness.draining) return refuse(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // The enveloped execute/subscribe of each operation, found again from its args.
  const envelopes = new WeakMap<ExecutionArgs, Enveloped>();
  // Identical live subscriptions (same document, variables and viewer) share an execution (from the second on).
  const sharing = createSharedSubscriptions(deps.realtime);
  const shares = new WeakMap<ExecutionArgs, { key: string; rule: ShareRule }>();
  // A connection lives no longer than its token: new operations re-verify it, open ones end here.
  const expiry = new ExpiryReaper<WebSocket>((socket) => socket.close(CLOSE_UNAUTHENTICATED, TOKEN_EXPIRED_REASON));

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      isProd: true,
      async onConnect(ctx) {
        const token = connectionToken(ctx.connectionParams);
        let expiresAt: number | undefined;
        try {
          if (!token) throw new GraphQLError('Authentication required: send connectionParams.authorization = "Bearer <token>"');
          ({ expiresAt } = await deps.auth.verify(token));
        } catch (err) {
          const reason = err instanceof GraphQLError ? err.message : 'Authentication failed';
          // Close with our own code and reason; graphql-ws's close after `false` is then ignored.
          ctx.extra.socket.close(CLOSE_UNAUTHENTICATED, reason.slice(0, 123));
          return false;
        }
        ctx.extra.token = token;
        ctx.extra.expiresAt = expiresAt;
        expiry.watch(ctx.extra.socket, expiresAt);
        // graphql-ws keeps the upgrade request (headers and all, ~1.3 KB) for the life of the
        // socket; nothing here reads it after authentication, and idle sockets are the bulk of memory.
        // Overwritten, not deleted: a delete turns the object into a slow dictionary (+256 B).
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        const requestId = randomUUID();
        let context;
        try {
          const traceparent = payload.extensions?.traceparent ?? ctx.connectionParams?.traceparent;
          context = await buildContext(deps, {
            token: ctx.extra.token,
            traceparent: typeof traceparent === 'string' ? traceparent : null,
            requestId,
          });
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        const enveloped = yoga.getEnveloped({ requestId, transportContext: context, params: payload });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
        };
        envelopes.set(args, enveloped);
        const rule = shareRuleOf(enveloped.schema, document, payload.operationName);
        if (rule) {
          const key = JSON.stringify([context.viewer.role, context.viewer.sub, payload.operationName ?? null, payload.query, payload.variables ?? null]);
          shares.set(args, { key, rule });
        }
        return args;
      },
      execute: (args) => envelopes.get(args)!.execute(args),
      subscribe: (args) => {
        const share = shares.get(args);
        const run = () => envelopes.get(args)!.subscribe(args);
        return share ? sharing.subscribe(share.key, share.rule, run) : run();
      },
      onClose(ctx, code) {
        expiry.unwatch(ctx.extra.socket, ctx.extra.expiresAt);
        log.debug({ code }, 'websocket closed');
      },
    },
    wss,
  );

  let closing: Promise<void> | undefined;
  return {
    get connections() {
      return wss.clients.size;
    },
    sharing: () => sharing.stats(),
    close() {
      expiry.close();
      closing ??= Promise.resolve(server.dispose());
      return closing;
    },
  };
}
