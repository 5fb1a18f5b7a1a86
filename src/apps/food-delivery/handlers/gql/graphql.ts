/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Where an order is in its lifecycle (see docs/architecture.md). */
export type OrderStatus =
  | 'approved'
  | 'cancelled'
  | 'declined'
  | 'delivered'
  | 'driver_assigned'
  | 'paid'
  | 'payment_failed'
  | 'picked_up'
  | 'placed'
  | 'refunded'
  | 'refunding'
  | 'rejected'
  | 'validated';

export type PaymentStatus =
  | 'failed'
  | 'pending'
  | 'refunded'
  | 'succeeded';

/** Why an order's payment was refunded: its statusReason once refunded. */
export type RefundReason =
  | 'customer_cancel'
  | 'declined'
  | 'no_driver'
  | 'restaurant_timeout';

export type AvailableDriversQueryVariables = Exact<{
  orderId: string | number;
}>;


export type AvailableDriversQuery = { order: { status: OrderStatus } | null, drivers: Array<{ id: string }> };

export type AssignDriverMutationVariables = Exact<{
  orderId: string | number;
  driverId: string | number;
}>;


export type AssignDriverMutation = { assignDriver: { status: OrderStatus } };

export type RecordPaymentResultMutationVariables = Exact<{
  paymentId: string | number;
  succeeded: boolean;
  providerRef?: string | null | undefined;
  reason?: string | null | undefined;
}>;


export type RecordPaymentResultMutation = { recordPaymentResult: { status: OrderStatus } };

export type ChargePaymentReadQueryVariables = Exact<{
  orderId: string | number;
}>;


export type ChargePaymentReadQuery = { order: { payments: Array<{ id: string, status: PaymentStatus }> } | null };

export type DeclineUnansweredMutationVariables = Exact<{
  orderId: string | number;
}>;


export type DeclineUnansweredMutation = { declineOrder: { status: OrderStatus } };

export type DeclineUnansweredReadQueryVariables = Exact<{
  orderId: string | number;
}>;


export type DeclineUnansweredReadQuery = { order: { status: OrderStatus } | null };

export type RefundPaymentReadQueryVariables = Exact<{
  orderId: string | number;
}>;


export type RefundPaymentReadQuery = { order: { status: OrderStatus, payments: Array<{ id: string, status: PaymentStatus, amountCents: number, providerRef: string | null, refundKey: string | null }> } | null };

export type ReserveRefundMutationVariables = Exact<{
  orderId: string | number;
  idempotencyKey: string;
  reason?: RefundReason | null | undefined;
}>;


export type ReserveRefundMutation = { reserveRefund: { status: OrderStatus } };

export type RecordRefundMutationVariables = Exact<{
  orderId: string | number;
  idempotencyKey: string;
  refundRef: string;
}>;


export type RecordRefundMutation = { recordRefund: { status: OrderStatus, statusReason: string | null } };

export type RecordOrderValidationMutationVariables = Exact<{
  orderId: string | number;
  valid: boolean;
  reason?: string | null | undefined;
}>;


export type RecordOrderValidationMutation = { recordOrderValidation: { status: OrderStatus } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const AvailableDriversDocument = new TypedDocumentString(`
    query AvailableDrivers($orderId: ID!) {
  order(id: $orderId) {
    status
  }
  drivers(available: true) {
    id
  }
}
    `, {"hash":"sha256:112de79abee89b0b5579872974e61d2eec4966c22bb2018a9234ba35a9eb7f7d"}) as unknown as TypedDocumentString<AvailableDriversQuery, AvailableDriversQueryVariables>;
export const AssignDriverDocument = new TypedDocumentString(`
    mutation AssignDriver($orderId: ID!, $driverId: ID!) {
  assignDriver(orderId: $orderId, driverId: $driverId) {
    status
  }
}
    `, {"hash":"sha256:2f2e616691d05dd628c8ac5d1c62745d5e38eed49c743c7f1f3bac350f429cd4"}) as unknown as TypedDocumentString<AssignDriverMutation, AssignDriverMutationVariables>;
export const RecordPaymentResultDocument = new TypedDocumentString(`
    mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {
  recordPaymentResult(
    paymentId: $paymentId
    succeeded: $succeeded
    providerRef: $providerRef
    reason: $reason
  ) {
    status
  }
}
    `, {"hash":"sha256:871f7236550135a1a7d12faa5b6356588a25f2304d3db683ed5f3bc2f5f09075"}) as unknown as TypedDocumentString<RecordPaymentResultMutation, RecordPaymentResultMutationVariables>;
export const ChargePaymentReadDocument = new TypedDocumentString(`
    query ChargePaymentRead($orderId: ID!) {
  order(id: $orderId) {
    payments {
      id
      status
    }
  }
}
    `, {"hash":"sha256:de16b17a616d7a8475611a172bf384721b019d8a9c06e80725e636f055b9d6ad"}) as unknown as TypedDocumentString<ChargePaymentReadQuery, ChargePaymentReadQueryVariables>;
export const DeclineUnansweredDocument = new TypedDocumentString(`
    mutation DeclineUnanswered($orderId: ID!) {
  declineOrder(orderId: $orderId, reason: "restaurant_timeout") {
    status
  }
}
    `, {"hash":"sha256:46a1f88beccfd973b47b5c79b546dfa93b01ce629f85b86ffe49787ab4762a24"}) as unknown as TypedDocumentString<DeclineUnansweredMutation, DeclineUnansweredMutationVariables>;
export const DeclineUnansweredReadDocument = new TypedDocumentString(`
    query DeclineUnansweredRead($orderId: ID!) {
  order(id: $orderId) {
    status
  }
}
    `, {"hash":"sha256:2502397893424e1d4667f6e6b76d808fa835f9a7c21328687f79b177fd049c87"}) as unknown as TypedDocumentString<DeclineUnansweredReadQuery, DeclineUnansweredReadQueryVariables>;
export const RefundPaymentReadDocument = new TypedDocumentString(`
    query RefundPaymentRead($orderId: ID!) {
  order(id: $orderId) {
    status
    payments {
      id
      status
      amountCents
      providerRef
      refundKey
    }
  }
}
    `, {"hash":"sha256:456e0fefac052b458c422dcc3a427824dac34ea3d32b54c6bcfff4c95d33ba43"}) as unknown as TypedDocumentString<RefundPaymentReadQuery, RefundPaymentReadQueryVariables>;
export const ReserveRefundDocument = new TypedDocumentString(`
    mutation ReserveRefund($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {
  reserveRefund(
    orderId: $orderId
    idempotencyKey: $idempotencyKey
    reason: $reason
  ) {
    status
  }
}
    `, {"hash":"sha256:f101f47873fd754bed0ed58514f7b82509b0942688b7a7820805c9768bfa03cd"}) as unknown as TypedDocumentString<ReserveRefundMutation, ReserveRefundMutationVariables>;
export const RecordRefundDocument = new TypedDocumentString(`
    mutation RecordRefund($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {
  recordRefund(
    orderId: $orderId
    idempotencyKey: $idempotencyKey
    refundRef: $refundRef
  ) {
    status
    statusReason
  }
}
    `, {"hash":"sha256:225f015e686b1b50188226fe3f06086c57e8403f171a555c9acd14ea62d74576"}) as unknown as TypedDocumentString<RecordRefundMutation, RecordRefundMutationVariables>;
export const RecordOrderValidationDocument = new TypedDocumentString(`
    mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {
  recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) {
    status
  }
}
    `, {"hash":"sha256:3d4f6d9c18e1986cc72212bc2e90518f6cc244ca20dd70722ef89478f020832b"}) as unknown as TypedDocumentString<RecordOrderValidationMutation, RecordOrderValidationMutationVariables>;