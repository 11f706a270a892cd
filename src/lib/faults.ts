/**
 * Which failures a client may simply retry (API.md "Limits, throttling and failures"), decided in
 * this one place for the server's error masking, the jobs and the outbox relay.
 *
 * - UNAVAILABLE: the database cannot be reached right now (connection refused or reset, the
 *   server shutting down or starting, no connection free in the pool in time). Nothing the
 *   request asked for can be assumed done or undone: HTTP 503 with Retry-After; the SDK retries
 *   queries and idempotent mutations.
 * - RETRY: the database refused this attempt and rolled it back (lock wait or transaction
 *   timeout, serialization failure, deadlock): the same request sent again may succeed.
 * - null: not a fault of this kind (a bug, bad data…): the caller masks it as usual.
 *
 * The errors come in several shapes: pg's own (`code` = SQLSTATE or a socket errno), Prisma's
 * driver-adapter errors (`cause.kind` / `cause.originalCode`), Prisma's known request errors
 * (`code` = P…), pg-pool's timeouts (only a message). The cause chain is walked.
 */

import { GraphQLError } from 'graphql';

export type FaultKind = 'UNAVAILABLE' | 'RETRY';

export interface Fault {
  kind: FaultKind;
  /** What it was, for the log and the client's message. */
  reason: string;
  /** UNAVAILABLE: how long a client should wait before trying again. */
  retryAfterSeconds: number;
}

/** SQLSTATEs of a server that is going away or not there yet, or of a broken connection. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '08P01',
]);

/** SQLSTATEs of an attempt the server refused and rolled back: the same request may succeed. */
const RETRY_SQLSTATES = new Set([
  '55P03', // lock_not_available (lock_timeout)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57014', // query_canceled (statement_timeout)
  '25P03', // idle_in_transaction_session_timeout
]);

const SOCKET_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);

/** Prisma's own codes: can't reach (P1001), timed out (P1002, P1008), closed (P1017), pool timeout (P2024). */
const UNAVAILABLE_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection (?:is )?(?:closed|refused|reset)/i,
  /terminating connection due to administrator command/i,
  /the database system is (?:starting up|shutting down|in recovery mode)/i,
  /Client has encountered a connection error/i,
  /Unable to start a transaction in the given time/i,
  /can't reach database server/i,
  /server closed the connection unexpectedly/i,
];

const RETRY_MESSAGES = [/expired transaction/i, /could not obtain lock/i, /deadlock detected/i, /could not serialize access/i, /canceling statement due to (?:lock|statement) timeout/i];

export const DEFAULT_RETRY_AFTER_SECONDS = 2;

function unavailable(reason: string): Fault {
  return { kind: 'UNAVAILABLE', reason, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
}
function retry(reason: string): Fault {
  return { kind: 'RETRY', reason, retryAfterSeconds: 0 };
}

function classifyOne(e: Record<string, unknown>): Fault | null {
  const code = typeof e['code'] === 'string' ? e['code'] : undefined;
  const message = typeof e['message'] === 'string' ? e['message'] : '';
  const kind = typeof e['kind'] === 'string' ? e['kind'] : undefined;
  const originalCode = typeof e['originalCode'] === 'string' ? e['originalCode'] : undefined;
  // A driver adapter's error description ({ kind, originalCode, … }).
  if (kind) {
    if (UNAVAILABLE_KINDS.has(kind)) return unavailable(`database ${kind}`);
    if (kind === 'TransactionWriteConflict') return retry('write conflict or deadlock');
    const sqlstate = kind === 'postgres' ? (code ?? originalCode) : originalCode;
    if (sqlstate && RETRY_SQLSTATES.has(sqlstate)) return retry(`SQLSTATE ${sqlstate}`);
    if (sqlstate && UNAVAILABLE_SQLSTATES.has(sqlstate)) return unavailable(`SQLSTATE ${sqlstate}`);
  }
  if (code) {
    if (RETRY_SQLSTATES.has(code)) return retry(`SQLSTATE ${code}`);
    if (UNAVAILABLE_SQLSTATES.has(code)) return unavailable(`SQLSTATE ${code}`);
    if (SOCKET_ERRNOS.has(code)) return unavailable(`database connection ${code}`);
    if (UNAVAILABLE_PRISMA.has(code)) return unavailable(`Prisma ${code}`);
    if (code === 'P2034') return retry('write conflict or deadlock (P2034)');
    if (code === 'P2028') {
      // The transaction manager: an expired (timed-out, rolled back) transaction is retryable;
      // no connection in time means the pool or the server is saturated.
      if (/in the given time/i.test(message)) return unavailable('no database connection in time');
      if (/expired|rolled back|timed out/i.test(message)) return retry('transaction timed out (P2028)');
    }
  }
  for (const re of RETRY_MESSAGES) if (re.test(message)) return retry(message.slice(0, 120));
  for (const re of UNAVAILABLE_MESSAGES) if (re.test(message)) return unavailable(message.slice(0, 120));
  return null;
}

/** UNAVAILABLE, RETRY, or null: see the module's comment. Walks `cause` (and AggregateError's errors). */
export function classifyFault(err: unknown): Fault | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const found = classifyOne(e as Record<string, unknown>);
    if (found) return found;
    const r = e as { cause?: unknown; originalError?: unknown; errors?: unknown; meta?: unknown };
    queue.push(r.cause, r.originalError);
    if (r.meta && typeof r.meta === 'object') queue.push((r.meta as { driverAdapterError?: unknown }).driverAdapterError);
    if (Array.isArray(r.errors)) queue.push(...r.errors);
  }
  return null;
}

/** The message a client reads for a fault. */
export function faultMessage(fault: Fault): string {
  return fault.kind === 'UNAVAILABLE'
    ? `The database is unavailable right now; retry after ${fault.retryAfterSeconds} s.`
    : 'The database could not complete this request in time (a lock wait, a conflict or a timeout); nothing was changed: send it again.';
}

/**
 * The GraphQL error a client gets for a fault: `extensions.code` UNAVAILABLE (HTTP 503 and
 * Retry-After) or RETRY, with the request id; the location of the original error is kept.
 */
export function faultError(fault: Fault, requestId: string | undefined, at?: GraphQLError): GraphQLError {
  const http = fault.kind === 'UNAVAILABLE' ? { status: 503, headers: { 'Retry-After': String(fault.retryAfterSeconds) } } : undefined;
  return new GraphQLError(faultMessage(fault), {
    ...(at ? { nodes: at.nodes, path: at.path } : {}),
    extensions: { code: fault.kind, ...(requestId ? { requestId } : {}), ...(http ? { http } : {}) },
  });
}
