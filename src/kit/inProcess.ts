/**
 * `toInProcess`: the same function, called in the dispatcher's process (dev,
 * tests) with the identical Hasura body a webhook would carry, and the
 * delivery and event ids its headers would (passed back on the write-back as
 * its cause). No signature: nothing crosses a network. A failure throws a HandlerFailure whose `status`
 * and `retryable` follow the webhook convention (./contract.ts).
 */
import type { HasuraEventPayload } from './contract.js';
import type { Handler } from './defineHandler.js';
import { HandlerFailure } from './errors.js';
import { checkEnvelope } from './event.js';
import { createLogger, type Logger } from './log.js';

export interface InProcessOptions {
  apiUrl: string;
  serviceToken: string;
  log?: Logger;
  apiTimeoutMs?: number;
}

/** What the dispatcher says of the delivery, as a webhook's x-threefactor-delivery and x-threefactor-event headers do. */
export interface InProcessDelivery {
  id: string;
  eventId: string;
}

/**
 * The dispatcher's in-process handler shape, `(payload, signal, delivery) => Promise<unknown>`,
 * declared here rather than imported (the kit knows nothing of the engine);
 * the signal and delivery are optional so a direct call needs neither (its
 * write-back then has no cause). It resolves to the body a webhook would have answered when the handler returned
 * a result (`{ ok, outcome, result }`), else to undefined (the dispatcher then logs an empty body, as before).
 */
export type InProcessFunction = (payload: HasuraEventPayload, signal?: AbortSignal, delivery?: InProcessDelivery) => Promise<unknown>;

export function toInProcess(handler: Handler, opts: InProcessOptions): InProcessFunction {
  const log = (opts.log ?? createLogger()).child({ component: 'handlers', transport: 'in-process' });
  const api = { apiUrl: opts.apiUrl, serviceToken: opts.serviceToken, timeoutMs: opts.apiTimeoutMs };
  return async (payload, signal, delivery) => {
    // Same check as the HTTP edge, so a body that works in-process works as a webhook.
    const checked = checkEnvelope(payload);
    if (!checked.ok) throw new HandlerFailure(checked.message, 400);
    let result: unknown;
    const outcome = await handler.invoke(checked.payload, {
      api,
      log,
      signal,
      delivery: delivery && { id: delivery.id, eventId: delivery.eventId },
      onResult: (r) => (result = r),
    });
    return result === undefined ? undefined : { ok: true, outcome, result };
  };
}
