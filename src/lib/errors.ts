import { GraphQLError } from 'graphql';

/**
 * Two kinds of failure (API.md, "Mutations"):
 * - expected refusals are user errors in a payload: a typed code, the input field, a message;
 * - authentication and authorization failures are GraphQL errors with extensions.code.
 * Anything else is masked by the server (INTERNAL_SERVER_ERROR with a request id).
 */
export const USER_ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'INVALID_TRANSITION',
  'STALE_VERSION',
  'DUPLICATE',
  'CONSENT_REQUIRED',
  'OUTSIDE_CONTACT_HOURS',
  'CONTACT_LIMIT_REACHED',
  'DO_NOT_CONTACT',
  'CREDENTIAL_INVALID',
  'FILE_REJECTED',
  'APPROVAL_REQUIRED',
  'ON_HOLD',
  'CASE_ENDED',
  'FORBIDDEN_ACTION',
  'VERIFICATION_REQUIRED',
  'LIMIT_EXCEEDED',
] as const;

export type UserErrorCode = (typeof USER_ERROR_CODES)[number];

export interface UserError {
  code: UserErrorCode;
  field: string[] | null;
  message: string;
}

/** Thrown inside a service to refuse: the transaction rolls back and the resolver returns it as a user error. */
export class DomainError extends Error {
  readonly code: UserErrorCode;
  readonly field: string[] | null;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: UserErrorCode, message: string, field?: string[] | string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.field = field === undefined ? null : Array.isArray(field) ? field : [field];
    this.details = details;
  }
  toUserError(): UserError {
    return { code: this.code, field: this.field, message: this.message };
  }
}

export function unauthenticated(message = 'Authentication required: send Authorization: Bearer <token>.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message = 'Not allowed for this viewer.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

export function badUserInput(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...extensions } });
}

/**
 * A dependency is down or full (the evidence store, the database): nothing was written, and the
 * same request may succeed later. HTTP 503 with Retry-After; the SDK retries it.
 */
export function unavailable(message: string, retryAfterSeconds = 5): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAVAILABLE', retryAfterSeconds, http: { status: 503, headers: { 'Retry-After': String(retryAfterSeconds) } } },
  });
}
