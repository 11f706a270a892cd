// What the client sends for a document: its text, the name and type of its operation, and the
// hash that codegen embedded (persisted documents). Documents come as generated strings
// (TypedDocumentString), parsed ASTs (TypedDocumentNode) or plain text.
import { operationNameOf, printDocument, type DocumentNodeLike } from './print.ts';

export type OperationType = 'query' | 'mutation' | 'subscription';

/** Any document, its types erased: what the implementation handles. */
export type UntypedDocument = { toString(): string } | DocumentNodeLike;

export interface DocumentSource {
  /** The text to send. */
  readonly query: string;
  /** The operation's name, when the document holds exactly one named operation. */
  readonly operationName: string | undefined;
  readonly operationType: OperationType;
  /** `sha256:<hex>` from codegen's persisted documents (`__meta__.hash`), when there is one. */
  readonly hash: string | undefined;
}

const sources = new WeakMap<object, DocumentSource>();

export function sourceOf(document: UntypedDocument): DocumentSource {
  if (typeof document !== 'object' || document === null) return fromText(String(document), undefined);
  let source = sources.get(document);
  if (!source) {
    source = isDocumentNode(document) ? fromNode(document) : fromText(document.toString(), hashOf(document));
    sources.set(document, source);
  }
  return source;
}

function hashOf(document: object): string | undefined {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof hash === 'string' && hash !== '' ? hash : undefined;
}

function isDocumentNode(document: UntypedDocument): document is DocumentNodeLike {
  return typeof document === 'object' && document !== null && (document as { kind?: unknown }).kind === 'Document';
}

function fromNode(document: DocumentNodeLike): DocumentSource {
  const operationName = operationNameOf(document);
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  const operation = operations.find((d) => d.name?.value === operationName) ?? operations[0];
  return {
    query: printDocument(document),
    operationName,
    operationType: asOperationType(operation?.operation),
    hash: hashOf(document),
  };
}

function fromText(query: string, hash: string | undefined): DocumentSource {
  const operations = scanDefinitions(query).filter((d) => d.kind !== 'fragment');
  const named = operations.filter((d) => d.name !== undefined);
  const operationName = operations.length === 1 ? named[0]?.name : undefined;
  return { query, operationName, operationType: asOperationType(operations[0]?.kind), hash };
}

function asOperationType(kind: string | undefined): OperationType {
  return kind === 'mutation' || kind === 'subscription' ? kind : 'query';
}

interface Definition {
  kind: 'query' | 'mutation' | 'subscription' | 'fragment';
  name?: string;
}

const KEYWORDS = new Set(['query', 'mutation', 'subscription', 'fragment']);
const NAME_START = /[_A-Za-z]/;
const NAME_CHAR = /[_0-9A-Za-z]/;

/**
 * The top-level definitions of a GraphQL text (kind and name), without a parser: comments and
 * strings skipped, nesting of { } ( ) [ ] tracked. `{ … }` alone is an anonymous query.
 */
export function scanDefinitions(text: string): Definition[] {
  const definitions: Definition[] = [];
  let pending: Definition | null = null;
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (c === '"') {
      if (text.startsWith('"""', i)) {
        i += 3;
        while (i < text.length && !text.startsWith('"""', i)) i += text.startsWith('\\"""', i) ? 4 : 1;
        i += 3;
      } else {
        i++;
        while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
        i++;
      }
    } else if (c === '{' || c === '(' || c === '[') {
      if (depth === 0 && c === '{') {
        definitions.push(pending ?? { kind: 'query' });
        pending = null;
      }
      depth++;
      i++;
    } else if (c === '}' || c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (c === '@' || c === '$') {
      // A directive or a variable: its name is not the definition's.
      i++;
      while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
    } else if (NAME_START.test(c)) {
      const start = i;
      while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
      if (depth > 0) continue;
      const word = text.slice(start, i);
      if (!pending && KEYWORDS.has(word)) pending = { kind: word as Definition['kind'] };
      else if (pending && pending.name === undefined) pending.name = word;
    } else {
      i++;
    }
  }
  return definitions;
}
