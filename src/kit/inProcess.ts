/**
 * `toInProcess`: the same function, called in the dispatcher's process (dev,
 * tests) with the identical Hasura body a webhook would carry. No signature:
 * nothing crosses a network. A failure throws a HandlerFailure whose `status`
 * and `retryable` follow the webhook convention (./errors.ts).
 */
import type { HasuraEventPayload } from '../engine/events/payload.js';
import type { InProcessHandler } from '../engine/events/triggers/triggerDefinition.js';
import { createLogger, type Logger } from '../engine/log.js';
import type { Handler } from './defineHandler.js';
import { HandlerFailure } from './errors.js';
import { checkEnvelope } from './event.js';

export interface InProcessOptions {
  apiUrl: string;
  serviceToken: string;
  log?: Logger;
  apiTimeoutMs?: number;
}

/** An InProcessHandler (the dispatcher's contract) that also stops when the attempt is aborted. */
export type AbortableInProcessHandler = InProcessHandler & ((payload: HasuraEventPayload, signal?: AbortSignal) => Promise<void>);

export function toInProcess(handler: Handler, opts: InProcessOptions): AbortableInProcessHandler {
  const log = (opts.log ?? createLogger()).child({ component: 'handlers', transport: 'in-process' });
  const api = { apiUrl: opts.apiUrl, serviceToken: opts.serviceToken, timeoutMs: opts.apiTimeoutMs };
  return async (payload: HasuraEventPayload, signal?: AbortSignal) => {
    // Same check as the HTTP edge, so a body that works in-process works as a webhook.
    const checked = checkEnvelope(payload);
    if (!checked.ok) throw new HandlerFailure(checked.message, 400);
    await handler.invoke(checked.payload, { api, log, signal });
  };
}
