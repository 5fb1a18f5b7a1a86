/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query AvailableDrivers($orderId: ID!) {\n    order(id: $orderId) { status }\n    drivers(available: true) { id }\n  }\n": typeof types.AvailableDriversDocument,
    "\n  mutation AssignDriver($orderId: ID!, $driverId: ID!) {\n    assignDriver(orderId: $orderId, driverId: $driverId) { status }\n  }\n": typeof types.AssignDriverDocument,
    "\n  mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {\n    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { status }\n  }\n": typeof types.RecordPaymentResultDocument,
    "\n  query ChargePaymentRead($orderId: ID!) {\n    order(id: $orderId) { payments { id status } }\n  }\n": typeof types.ChargePaymentReadDocument,
    "\n  mutation DeclineUnanswered($orderId: ID!) {\n    declineOrder(orderId: $orderId, reason: \"restaurant_timeout\") { status }\n  }\n": typeof types.DeclineUnansweredDocument,
    "\n  query DeclineUnansweredRead($orderId: ID!) {\n    order(id: $orderId) { status }\n  }\n": typeof types.DeclineUnansweredReadDocument,
    "\n  query RefundPaymentRead($orderId: ID!) {\n    order(id: $orderId) { status payments { id status amountCents providerRef refundKey } }\n  }\n": typeof types.RefundPaymentReadDocument,
    "\n  mutation ReserveRefund($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {\n    reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { status }\n  }\n": typeof types.ReserveRefundDocument,
    "\n  mutation RecordRefund($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {\n    recordRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, refundRef: $refundRef) { status statusReason }\n  }\n": typeof types.RecordRefundDocument,
    "\n  mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {\n    recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { status }\n  }\n": typeof types.RecordOrderValidationDocument,
};
const documents: Documents = {
    "\n  query AvailableDrivers($orderId: ID!) {\n    order(id: $orderId) { status }\n    drivers(available: true) { id }\n  }\n": types.AvailableDriversDocument,
    "\n  mutation AssignDriver($orderId: ID!, $driverId: ID!) {\n    assignDriver(orderId: $orderId, driverId: $driverId) { status }\n  }\n": types.AssignDriverDocument,
    "\n  mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {\n    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { status }\n  }\n": types.RecordPaymentResultDocument,
    "\n  query ChargePaymentRead($orderId: ID!) {\n    order(id: $orderId) { payments { id status } }\n  }\n": types.ChargePaymentReadDocument,
    "\n  mutation DeclineUnanswered($orderId: ID!) {\n    declineOrder(orderId: $orderId, reason: \"restaurant_timeout\") { status }\n  }\n": types.DeclineUnansweredDocument,
    "\n  query DeclineUnansweredRead($orderId: ID!) {\n    order(id: $orderId) { status }\n  }\n": types.DeclineUnansweredReadDocument,
    "\n  query RefundPaymentRead($orderId: ID!) {\n    order(id: $orderId) { status payments { id status amountCents providerRef refundKey } }\n  }\n": types.RefundPaymentReadDocument,
    "\n  mutation ReserveRefund($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {\n    reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { status }\n  }\n": types.ReserveRefundDocument,
    "\n  mutation RecordRefund($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {\n    recordRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, refundRef: $refundRef) { status statusReason }\n  }\n": types.RecordRefundDocument,
    "\n  mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {\n    recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { status }\n  }\n": types.RecordOrderValidationDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AvailableDrivers($orderId: ID!) {\n    order(id: $orderId) { status }\n    drivers(available: true) { id }\n  }\n"): typeof import('./graphql.js').AvailableDriversDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AssignDriver($orderId: ID!, $driverId: ID!) {\n    assignDriver(orderId: $orderId, driverId: $driverId) { status }\n  }\n"): typeof import('./graphql.js').AssignDriverDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordPaymentResult($paymentId: ID!, $succeeded: Boolean!, $providerRef: String, $reason: String) {\n    recordPaymentResult(paymentId: $paymentId, succeeded: $succeeded, providerRef: $providerRef, reason: $reason) { status }\n  }\n"): typeof import('./graphql.js').RecordPaymentResultDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ChargePaymentRead($orderId: ID!) {\n    order(id: $orderId) { payments { id status } }\n  }\n"): typeof import('./graphql.js').ChargePaymentReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeclineUnanswered($orderId: ID!) {\n    declineOrder(orderId: $orderId, reason: \"restaurant_timeout\") { status }\n  }\n"): typeof import('./graphql.js').DeclineUnansweredDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeclineUnansweredRead($orderId: ID!) {\n    order(id: $orderId) { status }\n  }\n"): typeof import('./graphql.js').DeclineUnansweredReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RefundPaymentRead($orderId: ID!) {\n    order(id: $orderId) { status payments { id status amountCents providerRef refundKey } }\n  }\n"): typeof import('./graphql.js').RefundPaymentReadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReserveRefund($orderId: ID!, $idempotencyKey: String!, $reason: RefundReason) {\n    reserveRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, reason: $reason) { status }\n  }\n"): typeof import('./graphql.js').ReserveRefundDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordRefund($orderId: ID!, $idempotencyKey: String!, $refundRef: String!) {\n    recordRefund(orderId: $orderId, idempotencyKey: $idempotencyKey, refundRef: $refundRef) { status statusReason }\n  }\n"): typeof import('./graphql.js').RecordRefundDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordOrderValidation($orderId: ID!, $valid: Boolean!, $reason: String) {\n    recordOrderValidation(orderId: $orderId, valid: $valid, reason: $reason) { status }\n  }\n"): typeof import('./graphql.js').RecordOrderValidationDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
