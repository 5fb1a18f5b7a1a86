/**
 * The handler functions' write-backs and reads, typed: the kit's client takes
 * a document's text, these take the documents graphql-codegen generates from
 * schema/schema.graphql into ./gql/ (`npm run codegen`), so a schema change
 * that breaks a write-back fails the type check instead of a delivery. The
 * same documents are in the trusted-documents manifest, so the API can run
 * with only them allowed (TRUSTED_DOCUMENTS).
 */
import type { Applied, HandlerTools } from '../../../kit/index.js';
import type { TypedDocumentString } from './gql/graphql.js';

type Client = Pick<HandlerTools, 'graphql' | 'apply'>;

/** A query (or a mutation whose refusal is an error): throws on any GraphQL error. */
export function read<R, V extends Record<string, unknown>>(client: Client, document: TypedDocumentString<R, V>, variables: V): Promise<R> {
  return client.graphql<R>(document.toString(), variables);
}

/** A state change: ILLEGAL_TRANSITION and CONFLICT come back as `applied: false` (see the kit's `apply`). */
export function apply<R, V extends Record<string, unknown>>(client: Client, document: TypedDocumentString<R, V>, variables: V): Promise<Applied<R>> {
  return client.apply<R>(document.toString(), variables);
}
