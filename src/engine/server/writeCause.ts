/**
 * The cause a write-back passes back (src/kit/contract.ts): the delivery its
 * handler is running and that delivery's event, which every event the write
 * commits records (caused_by_delivery, caused_by_event). Read the same way
 * for every transport (HTTP headers, graphql-ws payload extensions or
 * connection params). Only the roles handlers write back with may name a
 * cause, as only they may name the loop guard's trigger: a client's own
 * action is caused by nothing but the client, whatever it sends.
 */
import { HEADER } from '../../kit/contract.js';
import type { Role } from '../graphql/context.js';
import { clientError } from '../graphql/errors.js';
import { uuid } from '../graphql/modules/validators.js';
import type { EventContext } from '../events/transaction.js';

export type WriteCause = NonNullable<EventContext['cause']>;

/** The raw values as the transport carries them (a header's text, or anything from JSON). */
export interface CauseInput {
  delivery?: unknown;
  event?: unknown;
}

const mayName = (role: Role): boolean => role === 'service' || role === 'admin';

/**
 * The cause of a write, or null for none. A malformed value, or one header
 * without the other, is the caller's mistake and refused with BAD_REQUEST
 * (HTTP 400) naming the header: a cause silently dropped would leave a hole
 * in the causal tree that nobody notices.
 */
export function writeCause(role: Role, input: CauseInput): WriteCause | null {
  if (!mayName(role)) return null;
  const delivery = present(input.delivery);
  const event = present(input.event);
  if (delivery === undefined && event === undefined) return null;
  if (delivery === undefined) throw missing(HEADER.delivery, HEADER.event);
  if (event === undefined) throw missing(HEADER.event, HEADER.delivery);
  check(HEADER.delivery, delivery);
  check(HEADER.event, event);
  return { delivery: delivery.toLowerCase(), event: event.toLowerCase() };
}

/** Absent or empty is "not sent"; anything else must be a string. */
function present(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : String(JSON.stringify(value));
}

function check(header: string, value: string): void {
  if (!uuid.safeParse(value).success) throw clientError('BAD_REQUEST', `${header} must be a UUID`, { header });
}

function missing(header: string, given: string): Error {
  return clientError('BAD_REQUEST', `${header} is required with ${given}: a write-back passes both back, or neither`, { header });
}
