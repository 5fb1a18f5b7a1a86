/**
 * NUL characters (U+0000) in an operation's input: refused before anything
 * executes, as BAD_USER_INPUT naming the argument path they came in.
 * PostgreSQL stores no NUL in text or jsonb, so any string could otherwise
 * reach it and fail as a masked internal error. Every string is checked, in
 * the document's literals and in the variables (JSON values and keys too), so
 * no field has to remember it; over HTTP, SSE and WebSocket alike, since all
 * of them run through envelop's execute and subscribe.
 */
import { Kind, type ArgumentNode, type DirectiveNode, type DocumentNode, type ExecutionArgs, type ExecutionResult, type SelectionSetNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../graphql/errors.js';

const NUL = '\u0000';

/** A path segment as a client reads it: a NUL in a JSON key is shown escaped, never sent back raw. */
const shown = (segment: string) => segment.replaceAll(NUL, '\\u0000');

interface DocumentScan {
  /** The argument path of the first literal holding a NUL. */
  literal?: string[];
  /** Each variable's argument path where the document first uses it. */
  uses: Map<string, string[]>;
}

function scanDocument(document: DocumentNode): DocumentScan {
  const scan: DocumentScan = { uses: new Map() };
  const value = (node: ValueNode, path: string[]): void => {
    if (scan.literal) return;
    if (node.kind === Kind.STRING && node.value.includes(NUL)) scan.literal = path;
    else if (node.kind === Kind.LIST) node.values.forEach((item, i) => value(item, [...path, String(i)]));
    else if (node.kind === Kind.OBJECT) for (const field of node.fields) value(field.value, [...path, field.name.value]);
    else if (node.kind === Kind.VARIABLE && !scan.uses.has(node.name.value)) scan.uses.set(node.name.value, path);
  };
  const argumentList = (list: readonly ArgumentNode[] | undefined, prefix: string[] = []) => {
    for (const arg of list ?? []) value(arg.value, [...prefix, arg.name.value]);
  };
  const directiveList = (list: readonly DirectiveNode[] | undefined) => {
    for (const directive of list ?? []) argumentList(directive.arguments, [`@${directive.name.value}`]);
  };
  const selections = (set: SelectionSetNode | undefined): void => {
    for (const selection of set?.selections ?? []) {
      directiveList(selection.directives);
      if (selection.kind === Kind.FIELD) argumentList(selection.arguments);
      if (selection.kind !== Kind.FRAGMENT_SPREAD) selections(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      for (const variable of definition.variableDefinitions ?? []) {
        if (variable.defaultValue) value(variable.defaultValue, [`$${variable.variable.name.value}`]);
      }
    }
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) {
      directiveList(definition.directives);
      selections(definition.selectionSet);
    }
  }
  return scan;
}

/**
 * The path to the first NUL in a JSON value, or undefined. Iterative: a
 * variable may be nested thousands of levels deep.
 */
function nulIn(root: unknown): string[] | undefined {
  const stack: Array<[unknown, string[]]> = [[root, []]];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, String(i)]]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes(NUL)) return [...path, key];
        stack.push([item, [...path, key]]);
      }
    }
  }
  return undefined;
}

/**
 * Yoga's parse cache hands the same DocumentNode to every request with the
 * same query text, so a document is scanned once, not on every operation.
 */
const scans = new WeakMap<DocumentNode, DocumentScan>();

function scanOf(document: DocumentNode): DocumentScan {
  let scan = scans.get(document);
  if (!scan) scans.set(document, (scan = scanDocument(document)));
  return scan;
}

/** The argument path of the first NUL in an operation's input, or undefined when there is none. */
export function nulInputPath(args: Pick<ExecutionArgs, 'document' | 'variableValues'>): string | undefined {
  const scan = scanOf(args.document);
  if (scan.literal) return scan.literal.map(shown).join('.');
  for (const [name, value] of Object.entries(args.variableValues ?? {})) {
    const inside = nulIn(value);
    if (inside) return [...(scan.uses.get(name) ?? [`$${name}`]), ...inside].map(shown).join('.');
  }
  return undefined;
}

function refusal(path: string): ExecutionResult {
  return { errors: [badInput(`${path}: must not contain NUL characters (\\u0000)`, path)] };
}

export function rejectNulInput(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const path = nulInputPath(args);
      if (path !== undefined) setResultAndStopExecution(refusal(path));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const path = nulInputPath(args);
      if (path !== undefined) setResultAndStopExecution(refusal(path));
    },
  };
}
