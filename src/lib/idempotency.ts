import { createHash } from 'node:crypto';
import { DomainError } from './errors.ts';

/** An idempotency key: what the client sends to make a write happen once, however often it is sent. */
export const IDEMPOTENCY_KEY_LENGTH = { min: 8, max: 200 } as const;

export function idempotencyKeyOf(raw: string, field = 'idempotencyKey'): string {
  const key = raw.trim();
  if (key.length < IDEMPOTENCY_KEY_LENGTH.min || key.length > IDEMPOTENCY_KEY_LENGTH.max) {
    throw new DomainError('VALIDATION', `${field}: ${IDEMPOTENCY_KEY_LENGTH.min} to ${IDEMPOTENCY_KEY_LENGTH.max} characters`, field);
  }
  return key;
}

/** The fingerprint of a request: a retry has the same, another request under the same key has not. */
export function requestHash(parts: readonly unknown[]): string {
  return createHash('sha256')
    .update(JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v instanceof Date ? v.toISOString() : v)))
    .digest('hex');
}

/** A unique constraint refused a row: Prisma's P2002, or PostgreSQL's 23505 from a raw statement. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { kind?: string; code?: string } } }; cause?: unknown; message?: string } | null;
  if (!e) return false;
  if (e.code === 'P2002' || e.code === '23505' || e.meta?.code === '23505') return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind === 'UniqueConstraintViolation' || cause?.code === '23505') return true;
  if (e.cause && e.cause !== err && isUniqueViolation(e.cause)) return true;
  return /unique constraint|duplicate key value/i.test(e.message ?? '');
}

export interface Once<Row extends { requestHash: string | null }, R> {
  /** What the write is, for the DUPLICATE message ("another payment"). */
  what: string;
  field?: string;
  hash: string;
  /** The record already written under the key, if any. */
  find(): Promise<Row | null>;
  /** May this viewer see it? An invisible record under the key is a DUPLICATE, never a hint. */
  visible?(row: Row): Promise<boolean>;
  /** The answer of a replay. */
  replay(row: Row): Promise<R>;
  /** The write itself; its row carries the key under a unique constraint. */
  write(): Promise<R>;
}

/**
 * A write, once per idempotency key: a retry with the same request replays the first answer; the
 * key with another request is DUPLICATE. Concurrent duplicates race to the unique key: the losers
 * meet the constraint, and are answered from the winner's row as a replay (never an internal error).
 */
export async function once<Row extends { requestHash: string | null }, R>(o: Once<Row, R>): Promise<R> {
  const field = o.field ?? 'idempotencyKey';
  const answer = async (): Promise<R | null> => {
    const row = await o.find();
    if (!row) return null;
    if (row.requestHash !== o.hash || (o.visible && !(await o.visible(row)))) {
      throw new DomainError('DUPLICATE', `This idempotency key was used for ${o.what}`, field);
    }
    return o.replay(row);
  };
  const first = await answer();
  if (first !== null) return first;
  try {
    return await o.write();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const again = await answer();
      if (again !== null) return again;
    }
    throw err;
  }
}
