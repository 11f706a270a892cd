// The GraphQL client without the generated operations: requests (GraphQL over HTTP, JSON or
// multipart uploads), retries with backoff, timeouts, typed errors, user errors, pagination of
// connections and subscriptions over server-sent events. `createArrearsClient` (client.ts) adds
// one method per operation on top. Only web-platform globals (fetch, AbortController, FormData,
// Blob, TextDecoder when present): the same code runs in browsers, React Native and Node.
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import {
  ArrearsError,
  AuthenticationError,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
  UserErrorsError,
  parseRetryAfter,
  type ArrearsErrorDetails,
  type GraphQLErrorEntry,
  type UserError,
} from './errors.ts';
import { sourceOf, type DocumentSource, type OperationType, type UntypedDocument } from './document.ts';
import type { DocumentNodeLike } from './print.ts';
import { eventParser, utf8Decoder } from './sse.ts';
import { extractFiles, multipartBody } from './upload.ts';

// ------------------------------------------------------------------ types

/** The part of a fetch Response the client reads. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** Read for subscriptions (server-sent events): a fetch that streams bodies is needed there. */
  readonly body?: ReadableStream<Uint8Array> | null;
}

/** What the client passes to fetch. */
export interface FetchRequestInit {
  method: 'POST';
  headers: Record<string, string>;
  /** JSON text, or FormData for a request that carries files (multipart). */
  body: string | FormData;
  signal?: AbortSignal | undefined;
}

/** The global `fetch` fits, and so do its polyfills and test doubles. */
export type FetchFunction = (url: string, init: FetchRequestInit) => Promise<FetchResponse>;

/** Returns the bearer token for the next request; nothing (null, undefined, '') sends none. */
export type TokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

export interface RetryOptions {
  /** Retries after the first try, 0 to 3 (default 3). */
  max?: number;
  /** The first backoff, doubled at each retry, with jitter (default 300 ms). */
  baseDelayMs?: number;
  /** The longest backoff (default 10 s). */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown at once (default 60 s). */
  maxRetryAfterMs?: number;
}

/** One attempt about to be sent, as `onRequest` sees it. */
export interface OutgoingRequest {
  readonly url: string;
  readonly operationName: string | null;
  readonly operationType: OperationType;
  readonly variables: unknown;
  /** The headers of this attempt, Authorization included: add or change entries here (tracing, signing). */
  readonly headers: Record<string, string>;
  /** 1 for the first try, 2 and more for retries (for a subscription: each connection). */
  readonly attempt: number;
  /** The request carries files (multipart). */
  readonly upload: boolean;
}

export interface ClientOptions {
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
  /**
   * Retries of queries (and of mutations whose variables carry an `idempotencyKey`) after a network
   * failure, a timeout, HTTP 429 or 503 (`UNAVAILABLE`: the database is unreachable); and of any
   * operation answered `RETRY` (the server rolled it back: a lock wait, a conflict, a timeout):
   * a number (0–3, default 3) or the full options.
   */
  retries?: number | RetryOptions;
  /**
   * The time one attempt may take, answer read included (default 30 s; 0: no limit). A request
   * that carries files has 10 minutes unless the request itself says otherwise.
   */
  timeoutMs?: number;
  /** Called before each attempt is sent (retries and subscription connections included); may be async. */
  onRequest?: (request: OutgoingRequest) => void | Promise<void>;
  /** Throw a `UserErrorsError` when a payload has `userErrors`, instead of returning them (default false). */
  throwOnUserErrors?: boolean;
  /**
   * `hash-only`: send the hash of a generated document (`documentId`, and the
   * `extensions.persistedQuery` of automatic persisted queries) instead of its text; the server
   * must know the manifest (persisted-documents.json). `off` (default): send the text.
   */
  persistedDocuments?: 'hash-only' | 'off';
  /** Called with the cost of every answered operation and the budget left (pace a batch job with it). */
  onCost?: (cost: QueryCost, operationName: string | null) => void;
}

export interface RequestOptions {
  /** Cancels the request: the promise then rejects with the signal's reason (e.g. an AbortError). */
  signal?: AbortSignal;
  /** Extra headers for this request only (e.g. `x-request-id` to correlate with server logs). */
  headers?: Record<string, string>;
  /** Overrides the client's `throwOnUserErrors` for this request. */
  throwOnUserErrors?: boolean;
  /** Overrides the client's `timeoutMs` for this request (each attempt). */
  timeoutMs?: number;
  /** Overrides the client's number of retries for this request (0–3). */
  retries?: number;
}

export interface PaginateOptions<TPath extends readonly string[] = readonly string[]> extends RequestOptions {
  /**
   * Where the connection is in the result, e.g. `['viewer', 'workQueue']`. Without it the client
   * looks for the one object with a `pageInfo` in the result.
   */
  path?: TPath;
}

export interface ReconnectOptions {
  /** Reconnections in a row without an event in between before giving up (default: no limit). */
  maxAttempts?: number;
  /** The first wait, doubled at each failure in a row, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** The longest wait (default 30 s). */
  maxDelayMs?: number;
}

export interface SubscribeOptions {
  /** Ends the subscription (the iterator finishes, as after `return()`). */
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** After a dropped connection (network failure, 429, 502–504, silence): connect again (default true). */
  reconnect?: boolean | ReconnectOptions;
  /** No byte for this long (the server pings every 12 s) counts as a dropped connection (default 45 s; 0: never). */
  idleTimeoutMs?: number;
  /** Called each time the stream is open (the first time, and after each reconnection). */
  onConnected?: (info: { attempt: number }) => void;
}

/** A document as generated in string mode (TypedDocumentString): its text, with the types attached. */
export type DocumentString<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & { toString(): string };

/** A parsed document (TypedDocumentNode, e.g. from graphql-js or codegen's documentNode mode). */
export type DocumentNode<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & DocumentNodeLike;

export type ArrearsDocument<TResult, TVariables> = DocumentString<TResult, TVariables> | DocumentNode<TResult, TVariables>;

/** Variables may be left out when the operation requires none. */
export type OperationArgs<TVariables, TOptions = RequestOptions> = {} extends TVariables
  ? [variables?: TVariables, options?: TOptions]
  : [variables: TVariables, options?: TOptions];

/** The type found at `TPath` in `T`: nulls dropped, unions narrowed to the members that have the key. */
export type ConnectionAt<T, TPath extends readonly string[]> = TPath extends readonly [infer Head extends string, ...infer Rest extends readonly string[]]
  ? ConnectionAt<Step<NonNullable<T>, Head>, Rest>
  : NonNullable<T>;
type Step<T, K extends string> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;

/** The node type of a connection (`nodes`, else `edges.node`). */
export type NodeOf<TConnection> = TConnection extends { readonly nodes: ReadonlyArray<infer N> }
  ? N
  : TConnection extends { readonly edges: ReadonlyArray<{ readonly node: infer N }> }
    ? N
    : unknown;

/** Every page of a connection, in order: `for await (const page of paginator)`, or `.nodes()` for the items. */
export interface Paginator<TConnection> extends AsyncIterable<TConnection> {
  /** Every node of every page, in order. */
  nodes(): AsyncIterable<NodeOf<TConnection>>;
}

/** A live subscription: `for await (const event of subscription)`; `return()` or `close()` ends it. */
export interface ArrearsSubscription<T> extends AsyncIterableIterator<T, undefined, undefined> {
  next(): Promise<IteratorResult<T, undefined>>;
  return(): Promise<IteratorResult<T, undefined>>;
  /** Ends the subscription and closes the connection (same as `return()`). */
  close(): void;
}

export interface GraphQLClient {
  /** The endpoint this client talks to. */
  readonly url: string;
  /** Sends any document (generated string or parsed node) and returns its typed data. */
  request<TResult, TVariables>(document: ArrearsDocument<TResult, TVariables>, ...args: OperationArgs<TVariables>): Promise<TResult>;
  /** Every page of the connection that the document pages with its `$after` variable. */
  paginate<TResult, TVariables, const TPath extends readonly string[] = readonly []>(
    document: ArrearsDocument<TResult, TVariables>,
    ...args: OperationArgs<TVariables, PaginateOptions<TPath>>
  ): Paginator<TPath extends readonly [] ? AnyConnection : ConnectionAt<TResult, TPath>>;
  /** A subscription document's events, over server-sent events, reconnecting after a dropped connection. */
  subscribe<TResult, TVariables>(document: ArrearsDocument<TResult, TVariables>, ...args: OperationArgs<TVariables, SubscribeOptions>): ArrearsSubscription<TResult>;
}

/** A connection of unknown type (paginate without a path). */
export interface AnyConnection {
  readonly nodes?: readonly unknown[];
  readonly edges?: ReadonlyArray<{ readonly node: unknown; readonly cursor?: string }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor?: string | null };
  readonly totalCount?: number;
}

interface GraphQLResponse {
  data?: unknown;
  errors?: GraphQLErrorEntry[];
  extensions?: { cost?: QueryCost };
}

/**
 * What an operation cost and what is left of the caller's budget (`extensions.cost`, in Shopify's
 * shape): `requested` points of the server's `limit` per operation; the budget is a leaky bucket
 * of `maximumAvailable` points restored at `restoreRate` a second.
 */
export interface QueryCost {
  requested: number;
  limit: number;
  throttle: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

// ------------------------------------------------------------------ constants

const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';
const MAX_RETRIES = 3;
const DEFAULT_TIMEOUT_MS = 30_000;
const UPLOAD_TIMEOUT_MS = 600_000;
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

interface RetryPolicy {
  max: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

function retryPolicy(value: number | RetryOptions | undefined): RetryPolicy {
  const options = typeof value === 'number' ? { max: value } : (value ?? {});
  const max = options.max ?? MAX_RETRIES;
  if (!Number.isInteger(max) || max < 0 || max > MAX_RETRIES) {
    throw new RangeError(`retries: from 0 to ${MAX_RETRIES} (a request is sent at most ${MAX_RETRIES + 1} times); got ${max}.`);
  }
  return {
    max,
    baseDelayMs: options.baseDelayMs ?? 300,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
  };
}

/**
 * The wait before retry number `retry` (1, 2, 3): exponential backoff with jitter (between half
 * and all of base·2^(retry−1), capped), and never less than the server's Retry-After. Null when
 * the server asks for longer than `maxRetryAfterMs`.
 */
export function backoffDelay(retry: number, retryAfterMs: number | null, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'>, random: () => number = Math.random): number | null {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const backoff = ceiling / 2 + (random() * ceiling) / 2;
  if (retryAfterMs === null) return Math.round(backoff);
  if (retryAfterMs > policy.maxRetryAfterMs) return null;
  // Clients told the same Retry-After do not all come back at the same instant.
  return Math.round(Math.max(backoff, retryAfterMs + random() * Math.min(1000, policy.baseDelayMs)));
}

function hasIdempotencyKey(variables: unknown): boolean {
  if (typeof variables !== 'object' || variables === null) return false;
  const key = (v: unknown) => typeof v === 'object' && v !== null && typeof (v as { idempotencyKey?: unknown }).idempotencyKey === 'string' && (v as { idempotencyKey: string }).idempotencyKey !== '';
  return key(variables) || key((variables as { input?: unknown }).input);
}

// ------------------------------------------------------------------ the client

export function createGraphQLClient(options: ClientOptions): GraphQLClient {
  const { url, token, getToken, onRequest } = options;
  if (typeof url !== 'string' || url === '') throw new TypeError('createArrearsClient: `url` is required.');
  if (token !== undefined && getToken !== undefined) {
    throw new TypeError('createArrearsClient: pass either `token` or `getToken`, not both.');
  }
  const persisted = options.persistedDocuments ?? 'off';
  if (persisted !== 'off' && persisted !== 'hash-only') throw new TypeError(`persistedDocuments: 'hash-only' or 'off'; got ${String(persisted)}.`);
  const policy = retryPolicy(options.retries);
  const clientTimeoutMs = options.timeoutMs;
  // Called as a plain function: browsers refuse `fetch` invoked on another object.
  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseHeaders = lowerCaseKeys(options.headers);

  /** The JSON request: the text, or the hash of a generated document in hash-only mode. */
  function payloadOf(source: DocumentSource, variables: unknown): Record<string, unknown> {
    const common = { ...(source.operationName ? { operationName: source.operationName } : {}), ...(variables ? { variables } : {}) };
    if (persisted === 'hash-only' && source.hash) {
      const sha256Hash = source.hash.replace(/^sha256:/, '');
      return { documentId: source.hash, ...common, extensions: { persistedQuery: { version: 1, sha256Hash } } };
    }
    return { query: source.query, ...common };
  }

  async function headersFor(extra: Record<string, string> | undefined, accept: string, json: boolean): Promise<Record<string, string>> {
    const headers: Record<string, string> = { ...baseHeaders, ...lowerCaseKeys(extra), accept };
    if (json) headers['content-type'] = 'application/json';
    else {
      delete headers['content-type']; // multipart: fetch sets it, with the boundary
      // A multipart post is a "simple" request a browser sends without a preflight: the server
      // wants this header, which only a script can set (CSRF prevention).
      headers['x-graphql-yoga-csrf'] = '1';
    }
    const bearer = getToken ? await getToken() : token;
    if (bearer) headers['authorization'] = `Bearer ${bearer}`;
    return headers;
  }

  async function request(document: UntypedDocument, variables: unknown, requestOptions: RequestOptions = {}): Promise<unknown> {
    const source = sourceOf(document);
    const operationName = source.operationName ?? null;
    const files = extractFiles(variables);
    const payload = payloadOf(source, files ? files.variables : variables);
    const { signal } = requestOptions;
    const timeoutMs = requestOptions.timeoutMs ?? (files ? UPLOAD_TIMEOUT_MS : (clientTimeoutMs ?? DEFAULT_TIMEOUT_MS));
    const retriable = source.operationType === 'query' || (source.operationType === 'mutation' && hasIdempotencyKey(variables));
    const allowed = requestOptions.retries === undefined ? policy.max : retryPolicy(requestOptions.retries).max;
    const retries = retriable ? allowed : 0;

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      const headers = await headersFor(requestOptions.headers, ACCEPT, !files);
      await onRequest?.({ url, operationName, operationType: source.operationType, variables, headers, attempt, upload: files !== null });
      const body = files ? multipartBody(payload, files.files) : JSON.stringify(payload);
      const result = await attemptOnce(body, headers, signal, timeoutMs, operationName);
      if (result.ok) {
        const throwOnUserErrors = requestOptions.throwOnUserErrors ?? options.throwOnUserErrors ?? false;
        if (throwOnUserErrors) throwUserErrors(result.data, { operationName, status: result.status, requestId: result.requestId, attempts: attempt });
        return result.data;
      }
      const { error } = result;
      error.attempts = attempt;
      // RETRY: the server rolled the attempt back (a lock wait, a conflict, a timeout): nothing
      // was done, so any operation may be sent again, mutations without a key included.
      const limit = result.rolledBack ? allowed : retries;
      if (!result.retryable || attempt > limit) throw error;
      const wait = backoffDelay(attempt, result.retryAfterMs, policy);
      if (wait === null) throw error;
      await sleep(wait, signal);
    }
  }

  type Attempt =
    | { ok: true; data: unknown; status: number; requestId: string | null }
    | { ok: false; error: ArrearsError; retryable: boolean; retryAfterMs: number | null; rolledBack?: boolean };

  async function attemptOnce(
    body: string | FormData,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    operationName: string | null,
  ): Promise<Attempt> {
    const deadline = withDeadline(signal, timeoutMs);
    const failed = { operationName };
    let response: FetchResponse;
    let text: string;
    try {
      try {
        response = await untilAborted(fetchFn(url, { method: 'POST', headers, body, signal: deadline.signal }), deadline.signal);
      } catch (cause) {
        return transportFailure(cause, signal, deadline, `Could not reach ${url}${describe(operationName)}`, failed);
      }
      try {
        text = await untilAborted(response.text(), deadline.signal);
      } catch (cause) {
        return transportFailure(cause, signal, deadline, `The response from ${url} broke off${describe(operationName)}`, { ...failed, status: response.status });
      }
    } finally {
      deadline.clear();
    }
    try {
      const parsed = parseResponse(text);
      const cost = parsed?.extensions?.cost;
      if (cost && options.onCost) options.onCost(cost, operationName);
      const data = interpret(response.status, response.headers, parsed, operationName);
      return { ok: true, data, status: response.status, requestId: response.headers.get('x-request-id') || null };
    } catch (error) {
      if (!(error instanceof ArrearsError)) throw error;
      const retryAfterMs = error instanceof RateLimitedError ? error.retryAfterMs : parseRetryAfter(response.headers.get('retry-after'));
      const codes = new Set((error.errors ?? []).map((e) => e.extensions?.['code']));
      const rolledBack = codes.has('RETRY');
      const retryable = error instanceof RateLimitedError || error.status === 503 || codes.has('UNAVAILABLE') || rolledBack;
      return { ok: false, error, retryable, retryAfterMs, rolledBack };
    }
  }

  function transportFailure(cause: unknown, signal: AbortSignal | undefined, deadline: Deadline, message: string, details: ArrearsErrorDetails): Attempt {
    // A cancelled request rejects as the caller's own abort does, not as a network failure.
    if (signal?.aborted) throw abortReason(signal, cause);
    if (deadline.timedOut) {
      const error = new TimeoutError(`No answer within ${deadline.timeoutMs} ms from ${url}${describe(details.operationName)}`, { ...details, cause, timeoutMs: deadline.timeoutMs });
      return { ok: false, error, retryable: true, retryAfterMs: null };
    }
    const why = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
    return { ok: false, error: new NetworkError(message + why, { ...details, cause }), retryable: true, retryAfterMs: null };
  }

  // ---------------------------------------------------------------- pagination

  function paginate(document: UntypedDocument, variables?: unknown, paginateOptions: PaginateOptions = {}): Paginator<unknown> {
    const { path, ...requestOptions } = paginateOptions;
    const pages = async function* (): AsyncGenerator<AnyConnection> {
      const given = (variables ?? {}) as Record<string, unknown>;
      let after = (given['after'] as string | null | undefined) ?? null;
      const seen = new Set<string>();
      for (;;) {
        const { after: _ignored, ...rest } = given;
        const data = await request(document, after === null ? rest : { ...rest, after }, requestOptions);
        const connection = (path ? valueAt(data, path) : findConnection(data)) as AnyConnection | null | undefined;
        if (connection === null || connection === undefined) return; // e.g. node(id:) found nothing
        yield connection;
        const endCursor = connection.pageInfo?.endCursor ?? null;
        if (!connection.pageInfo?.hasNextPage || endCursor === null) return;
        if (seen.has(endCursor)) throw new Error(`paginate: the server returned the cursor ${endCursor} twice${describe(sourceOf(document).operationName)}`);
        seen.add(endCursor);
        after = endCursor;
      }
    };
    return {
      [Symbol.asyncIterator]: pages,
      async *nodes() {
        for await (const page of pages()) yield* page.nodes ?? (page.edges ?? []).map((e) => e.node);
      },
    };
  }

  // ---------------------------------------------------------------- subscriptions

  function subscribe(document: UntypedDocument, variables?: unknown, subscribeOptions: SubscribeOptions = {}): ArrearsSubscription<unknown> {
    const source = sourceOf(document);
    const operationName = source.operationName ?? null;
    const body = JSON.stringify(payloadOf(source, variables));
    const controller = new AbortController();
    const stop = () => controller.abort(subscribeOptions.signal?.reason);
    if (subscribeOptions.signal?.aborted) stop();
    subscribeOptions.signal?.addEventListener('abort', stop, { once: true });
    const reconnect = subscribeOptions.reconnect ?? true;
    const again: Required<ReconnectOptions> = {
      maxAttempts: Number.POSITIVE_INFINITY,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      ...(typeof reconnect === 'object' ? reconnect : {}),
    };
    const idleTimeoutMs = subscribeOptions.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const connectTimeoutMs = clientTimeoutMs ?? DEFAULT_TIMEOUT_MS;

    async function* run(): AsyncGenerator<unknown, undefined> {
      let failures = 0;
      // The id of the last event received: sent as Last-Event-ID on reconnect, so that the server
      // replays what was missed while the connection was down.
      let lastEventId: string | null = null;
      for (let attempt = 1; !controller.signal.aborted; attempt++) {
        let retryAfterMs: number | null = null;
        let lastError: ArrearsError;
        // One connection: aborted when the subscription ends, when connecting takes too long, or
        // after a silence; its end (whatever the cause) closes the response body.
        const connection = new AbortController();
        const onStop = () => connection.abort(controller.signal.reason);
        controller.signal.addEventListener('abort', onStop, { once: true });
        let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
        try {
          const headers = await headersFor(subscribeOptions.headers, 'text/event-stream', true);
          if (lastEventId !== null) headers['last-event-id'] = lastEventId;
          await onRequest?.({ url, operationName, operationType: source.operationType, variables, headers, attempt, upload: false });
          const deadline = withDeadline(connection.signal, connectTimeoutMs);
          let response: FetchResponse;
          try {
            response = await untilAborted(fetchFn(url, { method: 'POST', headers, body, signal: connection.signal }), deadline.signal);
          } catch (cause) {
            if (controller.signal.aborted) return undefined;
            if (deadline.timedOut) throw new TimeoutError(`No answer within ${connectTimeoutMs} ms from ${url}${describe(operationName)}`, { operationName, cause, timeoutMs: connectTimeoutMs });
            const why = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
            throw new NetworkError(`Could not reach ${url}${describe(operationName)}${why}`, { operationName, cause });
          } finally {
            deadline.clear();
          }
          const type = response.headers.get('content-type') ?? '';
          if (!/^text\/event-stream/i.test(type) || response.status < 200 || response.status > 299) {
            // Not a stream: an error (401, 429, a proxy's 502…) or a single result.
            retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
            const text = await untilAborted(response.text(), connection.signal);
            const data = interpret(response.status, response.headers, parseResponse(text), operationName);
            yield data;
            return undefined;
          }
          if (!response.body || typeof response.body.getReader !== 'function') {
            throw new TypeError(
              'subscribe: this fetch does not stream response bodies (React Native’s built-in fetch does not): pass `fetch` from expo/fetch or react-native-fetch-api (textStreaming).',
            );
          }
          subscribeOptions.onConnected?.({ attempt });
          reader = response.body.getReader();
          const decode = utf8Decoder();
          const parse = eventParser();
          for (;;) {
            const chunk = await readWithin(reader, connection.signal, idleTimeoutMs);
            if (chunk === null) break; // the stream ended without `complete`: dropped
            for (const event of parse(decode(chunk))) {
              if (event.event === 'complete') return undefined;
              if (event.event !== 'next') continue;
              const data = interpret(response.status, response.headers, parseResponse(event.data), operationName);
              failures = 0;
              if (event.id !== undefined && event.id !== '') lastEventId = event.id;
              yield data;
            }
          }
          lastError = new NetworkError(`The event stream from ${url} ended without completing${describe(operationName)}`, { operationName, status: response.status });
        } catch (error) {
          if (controller.signal.aborted) return undefined;
          if (!(error instanceof ArrearsError) || !droppedConnection(error)) throw error;
          lastError = error;
          if (error instanceof RateLimitedError) retryAfterMs = error.retryAfterMs;
        } finally {
          controller.signal.removeEventListener('abort', onStop);
          connection.abort();
          reader?.cancel().catch(() => {});
        }
        failures++;
        if (!reconnect || failures > again.maxAttempts) {
          lastError.attempts = attempt;
          throw lastError;
        }
        const wait = backoffDelay(failures, retryAfterMs, { ...again, maxRetryAfterMs: Number.POSITIVE_INFINITY }) ?? again.maxDelayMs;
        try {
          await sleep(wait, controller.signal);
        } catch {
          return undefined;
        }
      }
      return undefined;
    }

    const generator = run();
    const finish = () => {
      subscribeOptions.signal?.removeEventListener('abort', stop);
      if (!controller.signal.aborted) controller.abort();
    };
    const subscription: ArrearsSubscription<unknown> = {
      next: () =>
        generator.next().then(
          (result) => {
            if (result.done) finish();
            return result;
          },
          (error: unknown) => {
            finish();
            throw error;
          },
        ),
      return: () => {
        finish();
        return generator.return(undefined);
      },
      throw: (error?: unknown) => {
        finish();
        return generator.throw(error);
      },
      close: () => {
        void subscription.return();
      },
      [Symbol.asyncIterator]() {
        return subscription;
      },
    };
    return subscription;
  }

  return {
    url,
    request: ((document: UntypedDocument, variables?: unknown, requestOptions?: RequestOptions) => request(document, variables, requestOptions)) as GraphQLClient['request'],
    paginate: paginate as GraphQLClient['paginate'],
    subscribe: subscribe as GraphQLClient['subscribe'],
  };
}

/** A subscription's connection failed in a way that reconnecting may fix. */
function droppedConnection(error: ArrearsError): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError || error instanceof RateLimitedError) return true;
  return (error instanceof HttpError || error instanceof GraphQLRequestError) && error.status !== null && error.status >= 502 && error.status <= 504;
}

// ------------------------------------------------------------------ responses

/** The data of a response, or the error it stands for. */
function interpret(status: number, headers: FetchResponse['headers'], body: GraphQLResponse | null, operationName: string | null): unknown {
  const errors = body?.errors ?? [];
  const codes = new Set(errors.map((e) => e.extensions?.['code']));
  const details: ArrearsErrorDetails = { status, errors, operationName, requestId: requestIdOf(errors, headers) };
  const reason = errors.length > 0 ? errors.map((e) => e.message).join('; ') : undefined;

  if (status === 429 || codes.has('RATE_LIMITED') || codes.has('THROTTLED')) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
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
    const type = headers.get('content-type') ?? 'no content type';
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
  const { data, errors, extensions } = value as { data?: unknown; errors?: unknown; extensions?: GraphQLResponse['extensions'] };
  if (data === undefined && errors === undefined) return null;
  if (errors !== undefined && !Array.isArray(errors)) return null;
  const entries = (errors ?? []).map((e: unknown): GraphQLErrorEntry =>
    typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'
      ? (e as GraphQLErrorEntry)
      : { message: 'Malformed GraphQL error', extensions: { original: e } },
  );
  const cost = typeof extensions === 'object' && extensions !== null && typeof extensions.cost === 'object' ? extensions.cost : undefined;
  return { data, errors: entries, ...(cost ? { extensions: { cost } } : {}) };
}

function requestIdOf(errors: readonly GraphQLErrorEntry[], headers: FetchResponse['headers']): string | null {
  for (const e of errors) {
    const id = e.extensions?.['requestId'];
    if (typeof id === 'string' && id !== '') return id;
  }
  return headers.get('x-request-id') || null;
}

/** Throws a UserErrorsError when a root field of `data` is a payload with user errors. */
function throwUserErrors(data: unknown, details: ArrearsErrorDetails): void {
  if (typeof data !== 'object' || data === null) return;
  const userErrors: UserError[] = [];
  for (const payload of Object.values(data)) {
    const list = typeof payload === 'object' && payload !== null ? (payload as { userErrors?: unknown }).userErrors : undefined;
    if (Array.isArray(list)) userErrors.push(...(list as UserError[]));
  }
  if (userErrors.length === 0) return;
  const message = userErrors.map((e) => `${e.code}: ${e.message}`).join('; ');
  throw new UserErrorsError(`${message}${describe(details.operationName)}`, { ...details, userErrors, data });
}

/** The value at `path` (response keys); null when a step is missing. */
function valueAt(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return value ?? null;
}

/** The one connection (an object with `pageInfo`) in the result, when no path is given. */
function findConnection(data: unknown): unknown {
  const found: unknown[] = [];
  const walk = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    if ('pageInfo' in value) {
      found.push(value);
      return;
    }
    for (const item of Object.values(value)) walk(item);
  };
  walk(data);
  if (found.length > 1) throw new TypeError('paginate: the result has several connections; say which with { path: [...] }.');
  return found[0] ?? null;
}

// ------------------------------------------------------------------ time and cancellation

interface Deadline {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly timedOut: boolean;
  clear(): void;
}

/** A signal that aborts when `signal` does or after `timeoutMs` (0: never). */
function withDeadline(signal: AbortSignal | undefined, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs > 0 && Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new TimeoutError(`Timed out after ${timeoutMs} ms`, { timeoutMs }));
        }, timeoutMs)
      : undefined;
  return {
    signal: controller.signal,
    timeoutMs,
    get timedOut() {
      return timedOut;
    },
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** `promise`, or a rejection as soon as `signal` aborts: also for fetches that ignore their signal. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The next chunk of the stream; null at its end. A NetworkError after `idleTimeoutMs` of silence. */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, signal: AbortSignal, idleTimeoutMs: number): Promise<Uint8Array | null> {
  const deadline = withDeadline(signal, idleTimeoutMs);
  try {
    const { value, done } = await untilAborted(reader.read(), deadline.signal);
    return done ? null : (value ?? new Uint8Array());
  } catch (cause) {
    if (deadline.timedOut) throw new NetworkError(`No data for ${idleTimeoutMs} ms: the connection is taken as dropped`, { cause });
    if (signal.aborted) throw abortReason(signal);
    const why = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
    throw new NetworkError(`The event stream broke off${why}`, { cause });
  } finally {
    deadline.clear();
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason a signal was aborted with (some polyfills keep none). */
function abortReason(signal: AbortSignal, fallback?: unknown): unknown {
  return signal.reason ?? fallback ?? new Error('The request was aborted.');
}

function describe(operationName: string | null | undefined): string {
  return operationName ? ` (${operationName})` : '';
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

// The `@arrears/sdk/core` entry point has the errors too.
export {
  ArrearsError,
  AuthenticationError,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
  UserErrorsError,
  isArrearsError,
  type AnyArrearsError,
  type ArrearsErrorKind,
  type GraphQLErrorEntry,
  type UserError,
} from './errors.ts';
