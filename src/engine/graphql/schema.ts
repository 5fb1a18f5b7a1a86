/**
 * Assembles the schema: importing a module registers its types and fields
 * on the one builder. The engine's modules are always there; an app's are
 * registered by loading the app (src/apps/), which must happen before the
 * schema is first built.
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
