// The Arrears client: one POST per operation (GraphQL over HTTP), authenticated with a bearer
// token, answers typed by the generated documents, failures thrown as the classes of errors.ts.
// Only web-platform globals (fetch, AbortSignal): the same code runs in browsers, React Native
// and Node.
import type { DocumentTypeDecoration, ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import {
  AuthenticationError,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  parseRetryAfter,
  type ArrearsErrorDetails,
  type GraphQLErrorEntry,
} from './errors.ts';
import { operationNameOf, printDocument, type DocumentNodeLike } from './print.ts';
import { operations } from './operations.ts';

/** The part of a fetch Response the client reads. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** What the client passes to fetch. */
export interface FetchRequestInit {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal | undefined;
}

/** The global `fetch` fits, and so do its polyfills and test doubles. */
export type FetchFunction = (url: string, init: FetchRequestInit) => Promise<FetchResponse>;

/** Returns the bearer token for the next request; nothing (null, undefined, '') sends none. */
export type TokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

export interface ArrearsClientOptions {
  /** The GraphQL endpoint, e.g. `https://arrears.example/graphql`. */
  url: string;
  /** A fixed bearer token: a user's JWT or a partner system's API key (`ak_…`). */
  token?: string;
  /** Called before every request (may be async), e.g. to refresh a short-lived JWT. Not with `token`. */
  getToken?: TokenProvider;
  /** Default: the global `fetch`, looked up at each request. */
  fetch?: FetchFunction;
  /** Sent with every request (e.g. `x-client-name`); per-request headers and Authorization win. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Cancels the request: the promise then rejects with the signal's reason (e.g. an AbortError). */
  signal?: AbortSignal;
  /** Extra headers for this request only (e.g. `x-request-id` to correlate with server logs). */
  headers?: Record<string, string>;
}

/** A document as generated in string mode (TypedDocumentString): its text, with the types attached. */
export type DocumentString<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & { toString(): string };

/** A parsed document (TypedDocumentNode, e.g. from graphql-js or codegen's documentNode mode). */
export type DocumentNode<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & DocumentNodeLike;

export type ArrearsDocument<TResult, TVariables> = DocumentString<TResult, TVariables> | DocumentNode<TResult, TVariables>;

/** Variables may be left out when the operation requires none. */
export type OperationArgs<TVariables> = {} extends TVariables
  ? [variables?: TVariables, options?: RequestOptions]
  : [variables: TVariables, options?: RequestOptions];

type Operations = typeof operations;

/** One typed method per operation of operations.ts: `client.cases({ first: 10 })`. */
export type OperationMethods = {
  readonly [K in keyof Operations]: (...args: OperationArgs<VariablesOf<Operations[K]>>) => Promise<ResultOf<Operations[K]>>;
};

export interface ArrearsClient extends OperationMethods {
  /** Sends any document (generated string or parsed node) and returns its typed data. */
  request<TResult, TVariables>(document: ArrearsDocument<TResult, TVariables>, ...args: OperationArgs<TVariables>): Promise<TResult>;
  /** The endpoint this client talks to. */
  readonly url: string;
}

interface GraphQLResponse {
  data?: unknown;
  errors?: GraphQLErrorEntry[];
}

const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

export function createArrearsClient(options: ArrearsClientOptions): ArrearsClient {
  const { url, token, getToken } = options;
  if (typeof url !== 'string' || url === '') throw new TypeError('createArrearsClient: `url` is required.');
  if (token !== undefined && getToken !== undefined) {
    throw new TypeError('createArrearsClient: pass either `token` or `getToken`, not both.');
  }
  // Called as a plain function: browsers refuse `fetch` invoked on another object.
  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseHeaders = lowerCaseKeys(options.headers);

  async function request(document: UntypedDocument, variables: unknown, requestOptions: RequestOptions = {}): Promise<unknown> {
    const { query, operationName } = sourceOf(document);
    const bearer = getToken ? await getToken() : token;
    const headers: Record<string, string> = {
      ...baseHeaders,
      ...lowerCaseKeys(requestOptions.headers),
      'content-type': 'application/json',
      accept: ACCEPT,
    };
    if (bearer) headers['authorization'] = `Bearer ${bearer}`;
    const body = JSON.stringify({ query, ...(operationName ? { operationName } : {}), ...(variables ? { variables } : {}) });
    const { signal } = requestOptions;
    const failed = { operationName: operationName ?? null };

    let response: FetchResponse;
    let text: string;
    try {
      response = await fetchFn(url, { method: 'POST', headers, body, signal });
    } catch (cause) {
      throw networkFailure(cause, signal, `Could not reach ${url}${describe(operationName)}`, failed);
    }
    try {
      text = await response.text();
    } catch (cause) {
      throw networkFailure(cause, signal, `The response from ${url} broke off${describe(operationName)}`, { ...failed, status: response.status });
    }
    return outcome(response, text, failed.operationName);
  }

  const client: Record<string, unknown> = {
    url,
    request: (document: UntypedDocument, variables?: unknown, requestOptions?: RequestOptions) => request(document, variables, requestOptions),
  };
  for (const [method, document] of Object.entries(operations)) {
    if (method in client) throw new Error(`operations.ts: "${method}" is a name the client already uses.`);
    client[method] = (variables?: unknown, requestOptions?: RequestOptions) => request(document, variables, requestOptions);
  }
  return Object.freeze(client) as unknown as ArrearsClient;
}

// ------------------------------------------------------------------ documents

/** Any document, its types erased: what the implementation handles. */
type UntypedDocument = { toString(): string } | DocumentNodeLike;

const printed = new WeakMap<object, { query: string; operationName: string | undefined }>();

function sourceOf(document: UntypedDocument): { query: string; operationName: string | undefined } {
  if (isDocumentNode(document)) {
    let source = printed.get(document);
    if (!source) {
      source = { query: printDocument(document), operationName: operationNameOf(document) };
      printed.set(document, source);
    }
    return source;
  }
  const query = document.toString();
  return { query, operationName: operationNameInText(query) };
}

function isDocumentNode(document: UntypedDocument): document is DocumentNodeLike {
  return typeof document === 'object' && document !== null && (document as { kind?: unknown }).kind === 'Document';
}

const OPERATION_HEAD = /(?:^|[\s}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g;

/** The operation's name, when the text holds exactly one named operation (as generated documents do). */
function operationNameInText(text: string): string | undefined {
  const names = [...text.matchAll(OPERATION_HEAD)].map((m) => m[1]);
  return names.length === 1 ? names[0] : undefined;
}

// ------------------------------------------------------------------ responses

function outcome(response: FetchResponse, text: string, operationName: string | null): unknown {
  const { status } = response;
  const body = parseResponse(text);
  const errors = body?.errors ?? [];
  const codes = new Set(errors.map((e) => e.extensions?.['code']));
  const details: ArrearsErrorDetails = { status, errors, operationName, requestId: requestIdOf(errors, response) };
  const reason = errors.length > 0 ? errors.map((e) => e.message).join('; ') : undefined;

  if (status === 429 || codes.has('RATE_LIMITED')) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const wait = retryAfterMs === null ? '' : `; retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    throw new RateLimitedError(`Rate limited${describe(operationName)}${wait}`, { ...details, retryAfterMs });
  }
  if (status === 401 || codes.has('UNAUTHENTICATED')) {
    throw new AuthenticationError(reason ?? `Authentication required (HTTP ${status})${describe(operationName)}`, details);
  }
  if (codes.has('FORBIDDEN') || (status === 403 && errors.length === 0)) {
    throw new ForbiddenError(reason ?? `Forbidden (HTTP 403)${describe(operationName)}`, details);
  }
  if (errors.length > 0) {
    throw new GraphQLRequestError(reason!, { ...details, partialData: body?.data ?? null });
  }
  if (body === null || body.data === undefined || body.data === null) {
    const type = response.headers.get('content-type') ?? 'no content type';
    throw new HttpError(`Not a GraphQL response: HTTP ${status}, ${type}${describe(operationName)}`, details);
  }
  if (status < 200 || status > 299) {
    throw new HttpError(`Unexpected HTTP ${status}${describe(operationName)}`, details);
  }
  return body.data;
}

/** The body as a GraphQL response (`data` and/or `errors`), or null when it is not one. */
function parseResponse(text: string): GraphQLResponse | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { data, errors } = value as { data?: unknown; errors?: unknown };
  if (data === undefined && errors === undefined) return null;
  if (errors !== undefined && !Array.isArray(errors)) return null;
  const entries = (errors ?? []).map((e: unknown): GraphQLErrorEntry =>
    typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'
      ? (e as GraphQLErrorEntry)
      : { message: 'Malformed GraphQL error', extensions: { original: e } },
  );
  return { data, errors: entries };
}

function requestIdOf(errors: readonly GraphQLErrorEntry[], response: FetchResponse): string | null {
  for (const e of errors) {
    const id = e.extensions?.['requestId'];
    if (typeof id === 'string' && id !== '') return id;
  }
  return response.headers.get('x-request-id') || null;
}

function networkFailure(cause: unknown, signal: AbortSignal | undefined, message: string, details: ArrearsErrorDetails): unknown {
  // A cancelled request rejects as the caller's own abort does, not as a network failure.
  if (signal?.aborted) return signal.reason ?? cause;
  const why = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  return new NetworkError(message + why, { ...details, cause });
}

function describe(operationName: string | null | undefined): string {
  return operationName ? ` (${operationName})` : '';
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}
