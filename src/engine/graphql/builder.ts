/**
 * The one Pothos builder. Plugins: scope-auth first (so nothing resolves
 * before authorization, subscriptions included), then relay for connections
 * and global ids, validation for input checks, dataloader for batched reads.
 */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';
import { errorMessage } from '../lib.js';
import type { Context, Role } from './context.js';
import { badInput, forbidden } from './errors.js';

export interface AuthScopes {
  /** The viewer has one of these roles (the engine's or the app's). Admin is not implied: list it. */
  role: Role | readonly Role[];
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    /** Any JSON value (a workflow step's result: whatever its handler answered). */
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, ValidationPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      role: (allowed) => (typeof allowed === 'string' ? allowed === ctx.viewer.role : allowed.includes(ctx.viewer.role)),
    }),
    unauthorizedError: () => forbidden(),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  validation: {
    validationError: (failure) => {
      const issue = failure.issues[0];
      const field = issue?.path?.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.');
      return badInput(issue ? `${field ? `${field}: ` : ''}${issue.message}` : 'Invalid input', field);
    },
  },
});

/** PostgreSQL's timestamptz has no year 0 (nor before), which a DateTime can name: refuse it as the caller's error. */
function storableDate(date: Date): Date {
  if (date.getUTCFullYear() < 1) throw badInput(`DateTime ${date.toISOString()} is out of range: the year must be 0001 or later`);
  return date;
}

/** graphql-scalars' own refusals carry no code; a malformed DateTime is BAD_USER_INPUT like any other input. */
function parseDateTime(parse: () => unknown): Date {
  let date: Date;
  try {
    date = parse() as Date;
  } catch (err) {
    throw err instanceof GraphQLError && err.extensions.code ? err : badInput(errorMessage(err));
  }
  return storableDate(date);
}

builder.addScalarType('DateTime', DateTimeResolver, {
  parseValue: (value) => parseDateTime(() => DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => parseDateTime(() => DateTimeResolver.parseLiteral(ast, variables)),
});
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.addScalarType('JSON', JSONResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});


