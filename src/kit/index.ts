/**
 * The handler kit's public surface: define a function, serve functions over
 * signed webhooks, or hand them to the dispatcher in-process.
 */
export { defineHandler, type Handler, type HandlerSpec, type HandlerTools, type Outcome } from './defineHandler.js';
export type { HandlerEvent } from './event.js';
export { ApiUnavailable, GraphqlRequestError, HandlerFailure, isRetryableStatus, PermanentFailure, RetryLater } from './errors.js';
export type { Applied } from './graphqlClient.js';
export { toInProcess, type InProcessOptions } from './inProcess.js';
export { serveHandlers, type HandlerServer, type ServeOptions } from './server.js';
