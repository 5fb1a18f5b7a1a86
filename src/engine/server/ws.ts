/**
 * GraphQL over WebSocket (the graphql-ws protocol) at /graphql on the API's
 * HTTP server. Same authentication and authorization as HTTP:
 * - the JWT comes in `connectionParams.authorization` ("Bearer <token>" or
 *   the bare token) and is verified before the connection is acknowledged;
 *   a missing or bad token closes the socket with 4401 and the reason, and
 *   so does the token's expiry, within a second (./tokenExpiry.ts);
 * - every operation gets its own context from `buildContext` (the token is
 *   verified again, so an expired token cannot start new operations; a
 *   write-back's trace and cause, HTTP headers there, are read from the
 *   operation's `extensions` or the connection params, under the header names), and
 *   runs through yoga's envelop: the same schema, scopes, armor limits,
 *   error masking and operation log as HTTP;
 * - identical live subscriptions (same document, variables and viewer) share
 *   an execution from the second one on (./sharedSubscriptions.ts), so a
 *   change to a feed watched by a thousand clients of one restaurant is
 *   executed twice, not 1,000 times;
 * - what one viewer holds is capped per process: MAX_CONNECTIONS_PER_VIEWER
 *   sockets (the next is closed with 4429 and the reason) and
 *   MAX_OPERATIONS_PER_CONNECTION operations on each (the next gets
 *   TOO_MANY_OPERATIONS, the socket stays open);
 * - an operation that fails to start (over a limit, bad variables, anything
 *   thrown) gets an error on that operation alone: it never closes the
 *   socket and the other subscriptions on it.
 * While draining, upgrades are refused; on drain every socket is closed with
 * 1001 (going away), so clients reconnect elsewhere and resume.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { replacePayload, spliceOnSend } from './sharedPayloads.js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Viewer } from '../graphql/context.js';
import { clientError } from '../graphql/errors.js';
import type { Logger } from '../log.js';
import { bearer } from './auth.js';
import type { Readiness } from './health.js';
import { createSharedSubscriptions, shareKey, shareRuleOf, type ShareRule } from './sharedSubscriptions.js';
import { ExpiryReaper } from './tokenExpiry.js';
import { ViewerSlots } from './viewerSlots.js';
import { errorMasking } from './errorMasking.js';
import { buildContext, type Yoga, type YogaDeps } from './yoga.js';
import { HEADER } from '../../kit/contract.js';

export const GRAPHQL_PATH = '/graphql';

/** graphql-ws close code for a connection that failed authentication. */
export const CLOSE_UNAUTHENTICATED = 4401;

/**
 * Close code for a connection over MAX_CONNECTIONS_PER_VIEWER: "too many", as
 * HTTP's 429 (graphql-ws uses it for too many connection_init messages). Its
 * client does not retry it, so a full quota is not hammered.
 */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;

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
  /** The viewer (token `sub`) this socket holds a connection slot of, given back on close. */
  viewer?: string;
  /** Operations open on this socket: counted up when onSubscribe admits one, down on its onComplete. */
  operations: number;
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

  // What one viewer may hold in this process: sockets, and operations on each.
  const connectionSlots = new ViewerSlots(deps.config.MAX_CONNECTIONS_PER_VIEWER);
  const maxOperations = deps.config.MAX_OPERATIONS_PER_CONNECTION;
  const operationEnded = (extra: Partial<ConnectionExtra>) => {
    extra.operations = (extra.operations ?? 1) - 1;
  };
  // What fails outside yoga's execution is masked (and logged) as yoga masks what fails in it.
  const { maskError } = errorMasking(log);
  const masked = (err: unknown): GraphQLError => {
    const error = maskError ? maskError(err, 'Unexpected error.', false) : err;
    return error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.');
  };
  /** An operation that throws as it starts fails alone, with its error: graphql-ws would close the socket (4500). */
  async function alone<T>(start: () => Promise<T> | T): Promise<T | ExecutionResult> {
    try {
      return await start();
    } catch (err) {
      return { errors: [masked(err)] };
    }
  }

  /** Everything an operation needs before it runs; anything thrown here is that operation's error alone. */
  async function prepare(
    token: string | undefined,
    connectionParams: Record<string, unknown> | undefined,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const requestId = randomUUID();
    // What HTTP sends as headers comes in the operation's extensions, or the connection's params, under the same names.
    const given = (name: string): unknown => payload.extensions?.[name] ?? connectionParams?.[name];
    const traceparent = given(HEADER.traceparent);
    const trigger = given(HEADER.trigger);
    const context = await buildContext(deps, {
      token,
      traceparent: typeof traceparent === 'string' ? traceparent : null,
      causedBy: typeof trigger === 'string' ? trigger : null,
      cause: { delivery: given(HEADER.delivery), event: given(HEADER.event) },
      requestId,
    });
    const enveloped = yoga.getEnveloped({ requestId, transportContext: context, params: payload });
    const document = enveloped.parse(payload.query);
    // graphql-armor's limits (depth, aliases, directives, cost) throw from here.
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length) return errors;
    // Checked here, not left to graphql-ws: its refusal would skip onComplete, and the count with it.
    if (!getOperationAST(document, payload.operationName)) return [new GraphQLError('Unable to identify operation')];
    const args: ExecutionArgs = {
      schema: enveloped.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue: await enveloped.contextFactory(),
    };
    envelopes.set(args, enveloped);
    const rule = shareRuleOf(enveloped.schema, document, payload.operationName);
    if (rule) shares.set(args, { key: shareKey(context.viewer, payload), rule });
    return args;
  }

  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      isProd: true,
      async onConnect(ctx) {
        const { socket } = ctx.extra;
        const token = connectionToken(ctx.connectionParams);
        let viewer: Viewer;
        try {
          if (!token) throw new GraphQLError('Authentication required: send connectionParams.authorization = "Bearer <token>"');
          viewer = await deps.auth.verify(token);
        } catch (err) {
          const reason = err instanceof GraphQLError ? err.message : 'Authentication failed';
          // Close with our own code and reason; graphql-ws's close after `false` is then ignored.
          socket.close(CLOSE_UNAUTHENTICATED, reason.slice(0, 123));
          return false;
        }
        // Gone while the token was verified: its onClose has run, so it must take no slot.
        if (socket.readyState === socket.CLOSED) return false;
        if (!connectionSlots.take(viewer.sub)) {
          socket.close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections for this viewer (at most ${connectionSlots.max} per server)`);
          return false;
        }
        spliceOnSend(socket);
        ctx.extra.viewer = viewer.sub;
        ctx.extra.operations = 0;
        ctx.extra.token = token;
        ctx.extra.expiresAt = viewer.expiresAt;
        expiry.watch(socket, viewer.expiresAt);
        // graphql-ws keeps the upgrade request (headers and all, ~1.3 KB) for the life of the
        // socket; nothing here reads it after authentication, and idle sockets are the bulk of memory.
        // Overwritten, not deleted: a delete turns the object into a slow dictionary (+256 B).
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        const { extra } = ctx;
        const open = extra.operations ?? 0;
        if (open >= maxOperations) {
          return [clientError('TOO_MANY_OPERATIONS', `Too many operations on this connection (at most ${maxOperations}): complete one first`)];
        }
        extra.operations = open + 1;
        try {
          const prepared = await prepare(extra.token, ctx.connectionParams, payload);
          // Refused: graphql-ws sends the errors and calls no onComplete.
          if (Array.isArray(prepared)) operationEnded(extra);
          return prepared;
        } catch (err) {
          operationEnded(extra);
          return [masked(err)];
        }
      },
      execute: (args) => alone(() => envelopes.get(args)!.execute(args)),
      subscribe: (args) =>
        alone(() => {
          const share = shares.get(args);
          const run = () => envelopes.get(args)!.subscribe(args);
          return share ? sharing.subscribe(share.key, share.rule, run) : run();
        }),
      // Yoga's errors carry `extensions.http` (status, headers) for its HTTP answer; a WebSocket has no use for it.
      // Returned as is when it has no errors, so a shared result stays one object and is serialized once (./sharedPayloads.ts).
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map(withoutHttpExtension) } : result),
      jsonMessageReplacer: replacePayload,
      onError: (_ctx, _id, _payload, errors) => errors.map(withoutHttpExtension),
      // Every operation onSubscribe admitted ends here once: done, failed, completed by the client, or its socket closed.
      onComplete(ctx) {
        operationEnded(ctx.extra);
      },
      onClose(ctx, code) {
        expiry.unwatch(ctx.extra.socket, ctx.extra.expiresAt);
        if (ctx.extra.viewer !== undefined) connectionSlots.release(ctx.extra.viewer);
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

/** An error as the client sees it, without yoga's HTTP-only `extensions.http`. */
function withoutHttpExtension(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  const formatted = error instanceof GraphQLError ? error.toJSON() : error;
  if (!formatted.extensions || !('http' in formatted.extensions)) return formatted;
  const { http: _http, ...extensions } = formatted.extensions;
  const { extensions: _all, ...rest } = formatted;
  return Object.keys(extensions).length ? { ...rest, extensions } : rest;
}
