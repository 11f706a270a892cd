import { randomBytes } from 'node:crypto';

/** Human case numbers: C-000123. */
export function formatCaseNumber(caseNo: number): string {
  return `C-${String(caseNo).padStart(6, '0')}`;
}

/** "C-000123", "c-123" or "000123" → 123; anything else → null. */
export function parseCaseNumber(input: string): number | null {
  const m = /^(?:C-?)?(\d{1,12})$/i.exec(input.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 && n <= 2_147_483_647 ? n : null;
}


/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Time-ordered, so
 * ids made by the application (for bulk inserts that link rows) index as well as the database's.
 */
export function uuidv7(at: number = Date.now()): string {
  const b = randomBytes(16);
  const ms = BigInt(at);
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
