/**
 * The webhook body, in Hasura Event Triggers' exact shape: defined once, in
 * the handler kit's wire contract (src/kit/contract.ts), which both the
 * dispatcher and the functions speak; re-exported for the engine's modules.
 */
export type { EventOp, HasuraEventPayload, Row } from '../../kit/contract.js';
