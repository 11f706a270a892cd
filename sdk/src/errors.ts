// The errors the client throws: one class per way a request can fail, so that a caller can
// `switch (error.kind)` (or use instanceof) and act — sign in again, back off, retry, report.
import type { UserErrorCode } from './generated/graphql.ts';

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorEntry {
  readonly message: string;
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>;
  readonly path?: ReadonlyArray<string | number>;
  /** `code` (e.g. UNAUTHENTICATED, FORBIDDEN, INTERNAL_SERVER_ERROR) and `requestId` among others. */
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export type ArrearsErrorKind = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'NETWORK' | 'TIMEOUT' | 'GRAPHQL' | 'HTTP' | 'USER_ERRORS';

/**
 * An expected refusal of a mutation (`userErrors` of its payload): nothing was changed. Switch on
 * `code`; `field` is the path of the input at fault (e.g. ['input', 'amount']).
 */
export interface UserError<TCode extends string = UserErrorCode> {
  readonly code: TCode;
  readonly field?: ReadonlyArray<string> | null;
  readonly message: string;
}

export interface ArrearsErrorDetails {
  /** HTTP status of the response; null when none arrived. */
  status?: number | null;
  errors?: readonly GraphQLErrorEntry[];
  requestId?: string | null;
  operationName?: string | null;
  cause?: unknown;
  /** How many times the request was sent (1 when it was not retried). */
  attempts?: number;
}

/** Base of every error the client throws. */
export abstract class ArrearsError extends Error {
  abstract readonly kind: ArrearsErrorKind;
  /** HTTP status of the response; null when none arrived (network failure). */
  readonly status: number | null;
  /** The GraphQL errors of the response (empty when there were none). */
  readonly errors: readonly GraphQLErrorEntry[];
  /** The server's id of the request (`extensions.requestId`, else the `x-request-id` header): quote it to support. */
  readonly requestId: string | null;
  /** The name of the operation sent, when known. */
  readonly operationName: string | null;
  /** How many times the request was sent before this error was thrown (retries included). */
  attempts: number;

  constructor(message: string, details: ArrearsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? null;
    this.errors = details.errors ?? [];
    this.requestId = details.requestId ?? null;
    this.operationName = details.operationName ?? null;
    this.attempts = details.attempts ?? 1;
  }
}

/** No valid credentials: HTTP 401 or `extensions.code` UNAUTHENTICATED. Sign in again or fix the token. */
export class AuthenticationError extends ArrearsError {
  readonly kind = 'UNAUTHENTICATED' as const;
  override readonly name = 'AuthenticationError';
}

/** Signed in, but not allowed: `extensions.code` FORBIDDEN (or HTTP 403). Retrying will not help. */
export class ForbiddenError extends ArrearsError {
  readonly kind = 'FORBIDDEN' as const;
  override readonly name = 'ForbiddenError';
}

/** Too many requests (HTTP 429): wait `retryAfterMs` (when the server said) before trying again. */
export class RateLimitedError extends ArrearsError {
  readonly kind = 'RATE_LIMITED' as const;
  override readonly name = 'RateLimitedError';
  /** From the Retry-After header (seconds or an HTTP date); null when absent or unreadable. */
  readonly retryAfterMs: number | null;

  constructor(message: string, details: ArrearsErrorDetails & { retryAfterMs?: number | null } = {}) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

/** The request did not complete: fetch threw (offline, DNS, TLS, connection reset). `cause` holds the original error. */
export class NetworkError extends ArrearsError {
  readonly kind = 'NETWORK' as const;
  override readonly name = 'NetworkError';
}

/**
 * No answer within `timeoutMs` (the client's option, or the request's): the request was
 * cancelled. Queries (and mutations with an idempotency key) were retried first.
 */
export class TimeoutError extends ArrearsError {
  readonly kind = 'TIMEOUT' as const;
  override readonly name = 'TimeoutError';
  /** The limit that was reached, for one attempt. */
  readonly timeoutMs: number;

  constructor(message: string, details: ArrearsErrorDetails & { timeoutMs?: number } = {}) {
    super(message, details);
    this.timeoutMs = details.timeoutMs ?? 0;
  }
}

/**
 * The server answered with GraphQL errors other than the above: validation, BAD_USER_INPUT,
 * INTERNAL_SERVER_ERROR… `errors` lists them; `partialData` holds whatever data came with them.
 */
export class GraphQLRequestError extends ArrearsError {
  readonly kind = 'GRAPHQL' as const;
  override readonly name = 'GraphQLRequestError';
  readonly partialData: unknown;

  constructor(message: string, details: ArrearsErrorDetails & { partialData?: unknown } = {}) {
    super(message, details);
    this.partialData = details.partialData ?? null;
  }
}

/** The response was not a GraphQL response (e.g. a proxy's 502 page) or had an unexpected HTTP status. */
export class HttpError extends ArrearsError {
  readonly kind = 'HTTP' as const;
  override readonly name = 'HttpError';
}

/**
 * A mutation answered with `userErrors` (an expected refusal: validation, state, contact policy,
 * stale version…), thrown only when the client or the request has `throwOnUserErrors: true`.
 * Without it, the payload comes back with its `userErrors` array as any other data.
 */
export class UserErrorsError<TCode extends string = UserErrorCode> extends ArrearsError {
  readonly kind = 'USER_ERRORS' as const;
  override readonly name = 'UserErrorsError';
  /** Every user error of the answer, typed by code. */
  readonly userErrors: ReadonlyArray<UserError<TCode>>;
  /** The whole answer (`data`), user errors included. */
  readonly data: unknown;

  constructor(message: string, details: ArrearsErrorDetails & { userErrors: ReadonlyArray<UserError<TCode>>; data?: unknown }) {
    super(message, details);
    this.userErrors = details.userErrors;
    this.data = details.data ?? null;
  }

  /** Whether one of the user errors has this code. */
  has(code: TCode): boolean {
    return this.userErrors.some((e) => e.code === code);
  }
}

/** Every error the client throws; `switch (error.kind)` narrows to the class. */
export type AnyArrearsError =
  | AuthenticationError
  | ForbiddenError
  | RateLimitedError
  | NetworkError
  | TimeoutError
  | GraphQLRequestError
  | HttpError
  | UserErrorsError;

export function isArrearsError(error: unknown): error is AnyArrearsError {
  return error instanceof ArrearsError;
}

/**
 * Milliseconds to wait from a Retry-After header: either delay-seconds or an HTTP date
 * (RFC 9110 §10.2.3). Null when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
