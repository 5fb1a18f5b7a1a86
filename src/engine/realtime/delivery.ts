/**
 * What a live-state subscription yields: a fresh state (with when its cause
 * was written, for the delivery-latency metric), or a final error that ends
 * it. The field's resolver unwraps it, so errors reach the client as a
 * regular GraphQL error on that field, over WebSocket and SSE alike.
 */
import type { GraphQLError } from 'graphql';
import { deliverySeconds } from './metrics.js';

export type Delivery<T> = { value: T; causedAt?: Date } | { error: GraphQLError };

/** `kind`: the subscription's metric label. */
export function unwrapDelivery<T>(delivery: Delivery<T>, kind: string): T {
  if ('error' in delivery) throw delivery.error;
  if (delivery.causedAt) deliverySeconds.observe({ kind }, (Date.now() - delivery.causedAt.getTime()) / 1000);
  return delivery.value;
}
