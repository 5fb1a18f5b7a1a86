import { describe, expect, it } from 'vitest';
import { charge } from '../../src/apps/food-delivery/handlers/fakePaymentProvider.js';
import { checkOrder } from '../../src/apps/food-delivery/handlers/orderRules.js';

const order = (over: Partial<Parameters<typeof checkOrder>[0]> = {}) => ({
  deliveryAddress: '12 Harbour St',
  totalCents: 2_000,
  items: [{ quantity: 2 }],
  ...over,
});

describe('order rules', () => {
  it('accepts an ordinary order', () => {
    expect(checkOrder(order())).toEqual({ valid: true });
  });

  it.each([
    ['no items', { items: [] }, 'the order has no items'],
    ['too many items', { items: [{ quantity: 20 }, { quantity: 11 }] }, 'the order has 31 items; at most 30 fit one delivery'],
    ['a total over the limit', { totalCents: 500_01 }, 'the order total $500.01 exceeds the $500.00 limit'],
    ['an address without a street number', { deliveryAddress: 'Harbour Street' }, 'the delivery address has no street number'],
    ['a PO box', { deliveryAddress: 'P.O. Box 42' }, 'we cannot deliver to a PO box'],
  ])('rejects %s', (_what, over, reason) => {
    expect(checkOrder(order(over))).toEqual({ valid: false, reason });
  });

  it('accepts the limits themselves', () => {
    expect(checkOrder(order({ items: [{ quantity: 30 }], totalCents: 500_00 }))).toEqual({ valid: true });
  });
});

describe('fake payment provider', () => {
  it('declines amounts ending in 13 cents and succeeds otherwise', () => {
    expect(charge({ paymentId: 'p1', amountCents: 1013 })).toMatchObject({ succeeded: false, reason: 'card declined' });
    expect(charge({ paymentId: 'p1', amountCents: 13 })).toMatchObject({ succeeded: false, reason: 'card declined' });
    expect(charge({ paymentId: 'p1', amountCents: 1113 + 100 })).toMatchObject({ succeeded: false });
    expect(charge({ paymentId: 'p1', amountCents: 1014 })).toMatchObject({ succeeded: true, reason: null });
    expect(charge({ paymentId: 'p1', amountCents: 0 })).toMatchObject({ succeeded: false, reason: 'invalid amount' });
  });

  it('returns the same provider reference for the same payment, a different one for another', () => {
    const first = charge({ paymentId: 'p1', amountCents: 1000 });
    expect(charge({ paymentId: 'p1', amountCents: 1000 }).providerRef).toBe(first.providerRef);
    expect(charge({ paymentId: 'p2', amountCents: 1000 }).providerRef).not.toBe(first.providerRef);
    expect(first.providerRef).toMatch(/^fakepay_[0-9a-f]{24}$/);
  });
});
