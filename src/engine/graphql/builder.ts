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
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
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

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});


