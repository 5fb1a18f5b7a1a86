/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Where an order is in its lifecycle (see docs/architecture.md). */
export type OrderStatus =
  | 'approved'
  | 'declined'
  | 'delivered'
  | 'driver_assigned'
  | 'paid'
  | 'payment_failed'
  | 'picked_up'
  | 'placed'
  | 'rejected'
  | 'validated';

export type PaymentStatus =
  | 'failed'
  | 'pending'
  | 'succeeded';

export type AvailableDriversQueryVariables = Exact<{ [key: string]: never; }>;


export type AvailableDriversQuery = { drivers: Array<{ id: string }> };

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
    query AvailableDrivers {
  drivers(available: true) {
    id
  }
}
    `, {"hash":"sha256:8f739a73a13c9c6cd856872b6bf2aa4cef5c229038d4e85740ba3e7090da73e6"}) as unknown as TypedDocumentString<AvailableDriversQuery, AvailableDriversQueryVariables>;
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
export const RecordOrderValidationDocument = new TypedDocumentString(`
    mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {
  recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) {
    status
  }
}
    `, {"hash":"sha256:3d4f6d9c18e1986cc72212bc2e90518f6cc244ca20dd70722ef89478f020832b"}) as unknown as TypedDocumentString<RecordOrderValidationMutation, RecordOrderValidationMutationVariables>;