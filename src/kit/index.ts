/**
 * The handler kit's public surface, the same on every platform: define a
 * function, serve functions as a web-standard fetch handler, or hand them to
 * the dispatcher in-process; and the wire contract both sides speak. Node's
 * HTTP server is a separate entry (./node.ts), so this one loads where no
 * node:http exists.
 */
export { defineHandler, type Handler, type HandlerReply, type HandlerSpec, type HandlerTools, type Outcome } from './defineHandler.js';
export { defineStep, type StepEvent, type StepSpec } from './defineStep.js';
export type { HandlerEvent } from './event.js';
export { ApiUnavailable, GraphqlRequestError, HandlerFailure, PermanentFailure, RetryLater } from './errors.js';
export type { Applied } from './graphqlClient.js';
export {
  HEADER,
  isRetryableStatus,
  SIGNATURE_HEADERS,
  SIGNATURE_TOLERANCE_SEC,
  STEP_EVENT_TYPE,
  type EventOp,
  type StepPayload,
  type HasuraEventPayload,
  type Row,
} from './contract.js';
export { createFetchHandler, type FetchHandler, type FetchHandlerOptions } from './fetchHandler.js';
export { toInProcess, type InProcessFunction, type InProcessOptions } from './inProcess.js';
