/**
 * graphql-codegen: every GraphQL document the web demo and the food-delivery
 * handler functions send is typed from schema/schema.graphql, and collected
 * into the trusted-documents manifest (schema/trusted-documents.json, by
 * scripts/trustedDocuments.mjs after codegen). `npm run codegen` regenerates
 * all of it; test/web/codegen.test.ts fails when anything is stale.
 *
 * Two targets because the two sides differ: the browser hands urql a
 * DocumentNode, the handler kit sends a string (documentMode 'string').
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const shared = {
  // Imports end in .js (NodeNext) and are type-only where they can be (verbatimModuleSyntax).
  emitLegacyCommonJSImports: false,
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
};

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'web-demo/src/gql/': {
      preset: 'client',
      documents: ['web-demo/src/**/*.ts', '!web-demo/src/gql/**'],
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: shared,
    },
    'src/apps/food-delivery/handlers/gql/': {
      preset: 'client',
      documents: ['src/apps/food-delivery/handlers/*.ts'],
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: { ...shared, documentMode: 'string' },
    },
  },
};

export default config;
