/**
 * How a food-delivery rule says no: a plain error with a stable code and the
 * details a caller acts on (the order's current status, the pending
 * payment's id, the input field at fault, the missing row's id). It knows
 * nothing of GraphQL; the GraphQL edge turns it into a client error, once
 * (graphql/errors.ts), and what clients see is documented in
 * docs/architecture.md ("What a caller can rely on").
 */

export type DomainErrorCode = 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'ILLEGAL_TRANSITION' | 'CONFLICT';

/**
 * What a refusal carries besides its message. `field` is a path in the
 * operation's input (e.g. `items.0.menuItemId`); the edge prefixes the
 * argument that holds the input.
 */
export interface DomainErrorDetails {
  /** NOT_FOUND: the id that matched nothing. */
  id?: string;
  /** BAD_USER_INPUT: the input field at fault. */
  field?: string;
  /** ILLEGAL_TRANSITION: the order's status; CONFLICT on a settled payment: the payment's. */
  status?: string;
  /** CONFLICT on payOrder: the payment already pending. */
  paymentId?: string;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<DomainErrorDetails> = {},
  ) {
    super(message);
  }

  static forbidden(message: string): DomainError {
    return new DomainError('FORBIDDEN', message);
  }

  static notFound(what: string, id: string): DomainError {
    return new DomainError('NOT_FOUND', `${what} ${id} was not found`, { id });
  }

  static badInput(message: string, field: string): DomainError {
    return new DomainError('BAD_USER_INPUT', message, { field });
  }

  static illegalTransition(message: string, status: string): DomainError {
    return new DomainError('ILLEGAL_TRANSITION', message, { status });
  }

  static conflict(message: string, details: Pick<DomainErrorDetails, 'status' | 'paymentId'> = {}): DomainError {
    return new DomainError('CONFLICT', message, details);
  }
}
