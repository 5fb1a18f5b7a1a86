/**
 * What a client may learn about the schema, as yoga/envelop plugins, each
 * behind a setting whose default is safe in production:
 * - GRAPHQL_INTROSPECTION: `__schema` and `__type` (graphql-js's own
 *   NoSchemaIntrospectionCustomRule when off; `__typename` stays);
 * - GRAPHQL_SUGGESTIONS: "Did you mean …" stripped from every error message,
 *   validation (fields, arguments, types, enum values, input fields) and
 *   variable coercion alike;
 * - AUTH_BEFORE_VALIDATION: an HTTP request is authenticated before its
 *   query is parsed or validated, so an anonymous client gets 401 and nothing
 *   else. (WebSocket authenticates at connection_init, before any operation.)
 */
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { bearer, type Authenticator } from './auth.js';

type ExposureConfig = Pick<Config, 'NODE_ENV' | 'GRAPHQL_INTROSPECTION' | 'GRAPHQL_SUGGESTIONS' | 'AUTH_BEFORE_VALIDATION'>;

/** The plugins the settings ask for (none outside production by default). */
export function schemaExposure(config: ExposureConfig, auth: Authenticator): Plugin[] {
  const production = config.NODE_ENV === 'production';
  return [
    ...((config.AUTH_BEFORE_VALIDATION ?? production) ? [authenticateFirst(auth)] : []),
    ...((config.GRAPHQL_INTROSPECTION ?? !production) ? [] : [noIntrospection()]),
    ...((config.GRAPHQL_SUGGESTIONS ?? !production) ? [] : [noSuggestions()]),
  ];
}

function authenticateFirst(auth: Authenticator): Plugin {
  return {
    // Before parse and validation; the context builder's own verify then hits the token cache.
    async onParams({ request }) {
      await auth.verify(bearer(request.headers.get('authorization')));
    },
  };
}

function noIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** graphql-js appends every suggestion to the end of its message (didYouMean). */
const SUGGESTION = /\s*Did you mean .*$/s;

function noSuggestions(): Plugin {
  const stripResult = (result: ExecutionResult, setResult: (r: ExecutionResult) => void) => {
    if (result.errors?.some((e) => SUGGESTION.test(e.message))) setResult({ ...result, errors: result.errors.map(stripped) });
  };
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.some((e) => SUGGESTION.test(e.message))) setResult(result.map(stripped));
      };
    },
    // Variables are coerced when execution starts: an enum value or input field misspelled there is answered here.
    onExecute() {
      return { onExecuteDone: ({ result, setResult }) => void ('errors' in result && stripResult(result, setResult)) };
    },
    onSubscribe() {
      return { onSubscribeResult: ({ result, setResult }) => void ('errors' in result && stripResult(result, setResult)) };
    },
  };
}

/** A copy without the suggestion: a validation result may be cached and shared, so it is never changed in place. */
function stripped<E extends Error>(error: E): E | GraphQLError {
  if (!(error instanceof GraphQLError) || !SUGGESTION.test(error.message)) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}
