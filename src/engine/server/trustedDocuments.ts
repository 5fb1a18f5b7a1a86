/**
 * Trusted documents (TRUSTED_DOCUMENTS): with it set, the API runs only the
 * operations in its manifests, on every transport. Off by default.
 *
 * A manifest is `{"<id>": "<document>"}`, graphql-codegen's persisted
 * documents (this repository's is schema/trusted-documents.json, collected by
 * `npm run codegen` from the web demo and the handler functions). A client
 * sends either
 * - an id, as `documentId` or Apollo's `extensions.persistedQuery.sha256Hash`
 *   (HTTP and SSE: yoga's persisted-operations plugin reads the request's
 *   parameters and runs the manifest's document); or
 * - the document itself, which runs if the manifest holds the same
 *   operation: compared after parsing, so whitespace, commas, comments, the
 *   order of fields, arguments, variables and definitions, and `__typename`
 *   (which urql adds) do not matter, and nothing else may differ.
 * The second rule is checked where every transport parses, in envelop's
 * parse (HTTP, SSE, and graphql-ws, whose operations ./ws.ts parses through
 * the same envelop), so no transport gets around it; a plugin that only sees
 * HTTP parameters would leave WebSocket open. A refused operation gets
 * BAD_REQUEST (HTTP 400) and runs nothing. Introspection is refused with
 * the rest, unless a manifest holds it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { Kind, parse, print, visit, type ArgumentNode, type ASTNode, type DocumentNode, type SelectionNode } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { clientError } from '../graphql/errors.js';
import { errorMessage } from '../lib.js';

export interface TrustedDocuments {
  /** Manifest files loaded, and the documents in them. */
  readonly files: readonly string[];
  readonly size: number;
  /** The document an id names. */
  byId(id: string): string | undefined;
  /** Whether the manifest holds this operation (in the sense above). */
  allows(document: DocumentNode): boolean;
}

export const NOT_TRUSTED = 'Only trusted documents run on this server (TRUSTED_DOCUMENTS), and this operation is not one of them';
export const UNKNOWN_DOCUMENT_ID = 'No trusted document has this id (TRUSTED_DOCUMENTS)';
export const NO_DOCUMENT = 'Send a query, or the id of a trusted document as documentId or extensions.persistedQuery.sha256Hash';

const byText = <T extends ASTNode>(nodes: readonly T[]): T[] => [...nodes].map((node) => [print(node), node] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, node]) => node);
const byName = (args: readonly ArgumentNode[] | undefined) => (args ? [...args].sort((a, b) => (a.name.value < b.name.value ? -1 : 1)) : args);
const isBareTypename = (node: SelectionNode) => node.kind === Kind.FIELD && node.name.value === '__typename' && !node.alias && !node.directives?.length;

/** One text per operation, whatever its layout: what "the same operation" means here. */
export function canonicalDocument(document: DocumentNode): string {
  const normal = visit(document, {
    Field: { leave: (node) => ({ ...node, arguments: byName(node.arguments) }) },
    Directive: { leave: (node) => ({ ...node, arguments: byName(node.arguments) }) },
    SelectionSet: {
      leave(node) {
        const kept = node.selections.filter((s) => !isBareTypename(s));
        return { ...node, selections: byText(kept.length ? kept : node.selections) };
      },
    },
    OperationDefinition: {
      leave: (node) => ({ ...node, variableDefinitions: node.variableDefinitions && [...node.variableDefinitions].sort((a, b) => (a.variable.name.value < b.variable.name.value ? -1 : 1)) }),
    },
  });
  return byText(normal.definitions)
    .map((definition) => print(definition))
    .join('\n');
}

/** Reads every manifest TRUSTED_DOCUMENTS names (comma-separated); a bad one stops the process with one line. */
export function loadTrustedDocuments(setting: string, cwd = process.cwd()): TrustedDocuments {
  const files = setting
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => path.resolve(cwd, f));
  if (!files.length) throw new Error('TRUSTED_DOCUMENTS names no file');
  const ids = new Map<string, string>();
  const canonical = new Set<string>();
  for (const file of files) {
    const where = `TRUSTED_DOCUMENTS: ${path.relative(cwd, file) || file}`;
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${where}: ${errorMessage(err)}`);
    }
    if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error(`${where}: must be a JSON object of {"<id>": "<document>"}`);
    for (const [id, text] of Object.entries(manifest)) {
      if (typeof text !== 'string') throw new Error(`${where}: document ${id} is not a string`);
      const known = ids.get(id);
      if (known !== undefined && known !== text) throw new Error(`${where}: id ${id} names two different documents`);
      let document: DocumentNode;
      try {
        document = parse(text, { noLocation: true });
      } catch (err) {
        throw new Error(`${where}: document ${id} does not parse: ${errorMessage(err)}`);
      }
      ids.set(id, text);
      canonical.add(canonicalDocument(document));
    }
  }
  // Yoga's parse cache hands the same DocumentNode to every request with the same text: each is compared once.
  const verdicts = new WeakMap<DocumentNode, boolean>();
  return {
    files,
    size: ids.size,
    byId: (id) => ids.get(id),
    allows(document) {
      let verdict = verdicts.get(document);
      if (verdict === undefined) verdicts.set(document, (verdict = canonical.has(canonicalDocument(document))));
      return verdict;
    },
  };
}

/** The id a request names: `documentId` (the GraphQL over HTTP draft's) or Apollo's persisted-query hash. */
function documentIdOf(params: GraphQLParams): string | null {
  const documentId = (params as GraphQLParams & { documentId?: unknown }).documentId;
  if (typeof documentId === 'string' && documentId) return documentId;
  const persisted = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === 'string') {
    // codegen's ids carry their algorithm ("sha256:<hex>"); Apollo clients send the bare hex.
    return persisted.sha256Hash.includes(':') ? persisted.sha256Hash : `sha256:${persisted.sha256Hash}`;
  }
  return null;
}

export function trustedDocumentsPlugins(trusted: TrustedDocuments): Plugin[] {
  return [
    usePersistedOperations({
      getPersistedOperation: (id) => trusted.byId(id) ?? null,
      extractPersistedOperationId: documentIdOf,
      // A query's text is not refused here but at parse, below, where every transport passes.
      allowArbitraryOperations: true,
      customErrors: {
        notFound: () => clientError('BAD_REQUEST', UNKNOWN_DOCUMENT_ID),
        keyNotFound: () => clientError('BAD_REQUEST', NO_DOCUMENT),
      },
    }),
    {
      onParse() {
        return ({ result, replaceParseResult }) => {
          if (result && !(result instanceof Error) && !trusted.allows(result)) replaceParseResult(clientError('BAD_REQUEST', NOT_TRUSTED));
        };
      },
    },
  ];
}
