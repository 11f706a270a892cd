/**
 * Short-lived signed download links for one user (evidence, exports):
 * `GET <prefix><id>?u=<userId>&exp=<epoch ms>&sig=<HMAC-SHA256 base64url>`. The signature binds
 * the kind of link (its context), the record, the user and the expiry; each kind has its own key
 * (derived with HKDF by its module), so no kind of link can be forged from another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedLinkKind {
  /** The path before the id, e.g. `/evidence/`. */
  prefix: string;
  /** Signed with the rest: a link of one kind never verifies as another. */
  context: string;
  /** No link lives longer than this. */
  maxTtlMs: number;
  /** How a refusal names what it is about, e.g. `evidence`, and where a new link comes from. */
  noun: string;
  renewFrom: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Tolerated clock difference between the instances that sign and serve a link. */
const CLOCK_SKEW_MS = 30_000;

function signature(kind: SignedLinkKind, key: string | Uint8Array, id: string, userId: string, exp: number): string {
  return createHmac('sha256', key).update(`${kind.context}\n${id.toLowerCase()}\n${userId.toLowerCase()}\n${exp}`).digest('base64url');
}

/** The path and query of a link to `id` for `userId`, valid `ttlMs` (at most the kind's maximum) from `now`. */
export function signLinkPath(kind: SignedLinkKind, key: string | Uint8Array, id: string, userId: string, now: Date, ttlMs: number): string {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > kind.maxTtlMs) throw new RangeError(`ttlMs must be from 1 to ${kind.maxTtlMs}`);
  if (!UUID.test(id) || !UUID.test(userId)) throw new RangeError(`${kind.noun} and user ids are UUIDs`);
  const exp = now.getTime() + ttlMs;
  const query = new URLSearchParams({ u: userId, exp: String(exp), sig: signature(kind, key, id, userId, exp) });
  return `${kind.prefix}${id}?${query.toString()}`;
}

export type SignedLinkCheck =
  | { ok: true; id: string; userId: string; expiresAt: Date }
  | { ok: false; status: 403 | 404 | 410; code: 'FORBIDDEN' | 'NOT_FOUND' | 'LINK_EXPIRED'; message: string };

/** Checks a link's path, signature and expiry (no database): the first gate of a download. */
export function verifyLink(kind: SignedLinkKind, key: string | Uint8Array, url: URL, now: Date): SignedLinkCheck {
  const id = url.pathname.slice(kind.prefix.length);
  if (!url.pathname.startsWith(kind.prefix) || !UUID.test(id)) return { ok: false, status: 404, code: 'NOT_FOUND', message: `No such ${kind.noun}.` };
  const userId = url.searchParams.get('u') ?? '';
  const expRaw = url.searchParams.get('exp') ?? '';
  const sig = url.searchParams.get('sig') ?? '';
  const forbidden = { ok: false, status: 403, code: 'FORBIDDEN', message: `This link is not valid: ask for a new one (${kind.renewFrom}).` } as const;
  if (!UUID.test(userId) || !/^\d{1,16}$/.test(expRaw) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return forbidden;
  const exp = Number(expRaw);
  const expected = Buffer.from(signature(kind, key, id, userId, exp), 'base64url');
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return forbidden;
  // A genuine signature with a life longer than any link is issued for: the key has leaked, or a clock is wrong.
  if (exp - now.getTime() > kind.maxTtlMs + CLOCK_SKEW_MS) return forbidden;
  if (exp <= now.getTime()) return { ok: false, status: 410, code: 'LINK_EXPIRED', message: `This link has expired: ask for a new one (${kind.renewFrom}).` };
  return { ok: true, id: id.toLowerCase(), userId: userId.toLowerCase(), expiresAt: new Date(exp) };
}
