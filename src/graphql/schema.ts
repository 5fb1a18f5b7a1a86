/**
 * Assembles the schema: importing a module registers its types and fields
 * on the one builder. Add a domain module by importing it here.
 */
import type { GraphQLSchema } from 'graphql';
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './modules/index.js';

let schema: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  schema ??= lexicographicSortSchema(builder.toSchema());
  return schema;
}
