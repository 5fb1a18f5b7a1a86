/**
 * The one place a domain refusal becomes a client error: code, message and
 * details carried over as extensions (a field under the argument that holds
 * the input), and anything that is not a DomainError passed through
 * untouched for yoga to mask.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/apps/food-delivery/domain/errors.js';
import { fromDomain, toClientError } from '../../src/apps/food-delivery/graphql/errors.js';

describe('toClientError', () => {
  it('keeps the code and message, and the details as extensions', () => {
    const cases: Array<[DomainError, Record<string, unknown>]> = [
      [DomainError.notFound('Order', 'o1'), { code: 'NOT_FOUND', id: 'o1' }],
      [DomainError.forbidden('Order o1 is not yours'), { code: 'FORBIDDEN' }],
      [DomainError.illegalTransition('Order o1 is placed; approveOrder needs status paid', 'placed'), { code: 'ILLEGAL_TRANSITION', status: 'placed' }],
      [DomainError.conflict('Payment p1 is already succeeded', { status: 'succeeded' }), { code: 'CONFLICT', status: 'succeeded' }],
      [DomainError.conflict('Order o1 already has payment p2 pending', { paymentId: 'p2' }), { code: 'CONFLICT', paymentId: 'p2' }],
      [DomainError.badInput('Restaurant r1 does not exist', 'restaurantId'), { code: 'BAD_USER_INPUT', field: 'restaurantId' }],
    ];
    for (const [domain, extensions] of cases) {
      const client = toClientError(domain);
      expect(client).toBeInstanceOf(GraphQLError);
      expect(client.message).toBe(domain.message);
      expect(client.extensions).toEqual(extensions);
    }
  });

  it('reports a field under the argument that holds the input', () => {
    const error = DomainError.badInput('Menu item m1 does not exist', 'items.0.menuItemId');
    expect(toClientError(error, { inputArg: 'input' }).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.items.0.menuItemId' });
    expect(toClientError(DomainError.notFound('Customer', 'c1'), { inputArg: 'input' }).extensions).toEqual({ code: 'NOT_FOUND', id: 'c1' });
  });
});

describe('fromDomain', () => {
  it('returns the result, maps a DomainError, and rethrows anything else as it is', async () => {
    expect(await fromDomain(async () => 42)).toBe(42);
    const mapped = await fromDomain(async () => {
      throw DomainError.forbidden('nope');
    }).catch((e: unknown) => e);
    expect(mapped).toBeInstanceOf(GraphQLError);
    expect((mapped as GraphQLError).extensions.code).toBe('FORBIDDEN');
    const internal = new Error('connection reset');
    await expect(fromDomain(async () => Promise.reject(internal))).rejects.toBe(internal);
  });
});
