/**
 * Where a rule's refusal becomes what a client sees, once: a DomainError
 * turns into the engine's client error with the same code, message and
 * details as extensions (`status`, `paymentId`, `id`, `field`). Resolvers
 * run their domain call through `fromDomain`; any other error passes
 * untouched, and yoga masks it.
 */
import type { GraphQLError } from 'graphql';
import { clientError } from '../../../engine/index.js';
import { DomainError } from '../domain/errors.js';

export interface EdgeOptions {
  /** The argument holding the operation's input: a refusal's `field` is reported under it (`input.items.0.menuItemId`). */
  inputArg?: string;
}

export function toClientError(err: DomainError, { inputArg }: EdgeOptions = {}): GraphQLError {
  const { field, ...details } = err.details;
  const at = field !== undefined && inputArg ? `${inputArg}.${field}` : field;
  return clientError(err.code, err.message, { ...details, ...(at !== undefined ? { field: at } : {}) });
}

/** Runs a domain call for a resolver (or a subscription's start), mapping its refusals. */
export async function fromDomain<T>(work: () => Promise<T>, options?: EdgeOptions): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof DomainError ? toClientError(err, options) : err;
  }
}
