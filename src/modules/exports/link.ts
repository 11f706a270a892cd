/**
 * Export downloads: a short-lived signed link per user, as evidence downloads have
 * (src/modules/evidence/download.ts): `GET /exports/<id>?u=<userId>&exp=<epoch ms>&sig=<HMAC>`.
 * The signature binds the export, the user and the expiry; the key is derived from the evidence
 * link key (HKDF, its own context), so neither kind of link can be forged from the other.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const EXPORT_PATH_PREFIX = '/exports/';
/** No link lives longer than this. */
export const MAX_EXPORT_LINK_TTL_MS = 300_000;
const CONTEXT = 'arrears export download v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLOCK_SKEW_MS = 30_000;

export function exportSigningKey(evidenceKey: string | Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', evidenceKey, 'arrears', 'export download links v1', 32));
}

function signature(key: Uint8Array | string, exportId: string, userId: string, exp: number): string {
  return createHmac('sha256', key).update(`${CONTEXT}\n${exportId.toLowerCase()}\n${userId.toLowerCase()}\n${exp}`).digest('base64url');
}

export function exportDownloadUrl(publicUrl: string, key: Uint8Array | string, exportId: string, userId: string, now: Date, ttlMs = MAX_EXPORT_LINK_TTL_MS): string {
  if (!UUID.test(exportId) || !UUID.test(userId)) throw new RangeError('export and user ids are UUIDs');
  const exp = now.getTime() + Math.min(ttlMs, MAX_EXPORT_LINK_TTL_MS);
  const q = new URLSearchParams({ u: userId, exp: String(exp), sig: signature(key, exportId, userId, exp) });
  return `${publicUrl.replace(/\/$/, '')}${EXPORT_PATH_PREFIX}${exportId}?${q.toString()}`;
}

export type ExportLinkCheck =
  | { ok: true; exportId: string; userId: string }
  | { ok: false; status: 403 | 404 | 410; code: 'FORBIDDEN' | 'NOT_FOUND' | 'LINK_EXPIRED'; message: string };

export function verifyExportLink(key: Uint8Array | string, url: URL, now: Date): ExportLinkCheck {
  const exportId = url.pathname.slice(EXPORT_PATH_PREFIX.length);
  if (!url.pathname.startsWith(EXPORT_PATH_PREFIX) || !UUID.test(exportId)) return { ok: false, status: 404, code: 'NOT_FOUND', message: 'No such export.' };
  const userId = url.searchParams.get('u') ?? '';
  const expRaw = url.searchParams.get('exp') ?? '';
  const sig = url.searchParams.get('sig') ?? '';
  const forbidden = { ok: false, status: 403, code: 'FORBIDDEN', message: 'This link is not valid: ask for a new one (Export.downloadUrl).' } as const;
  if (!UUID.test(userId) || !/^\d{1,16}$/.test(expRaw) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return forbidden;
  const exp = Number(expRaw);
  const expected = Buffer.from(signature(key, exportId, userId, exp), 'base64url');
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return forbidden;
  if (exp - now.getTime() > MAX_EXPORT_LINK_TTL_MS + CLOCK_SKEW_MS) return forbidden;
  if (exp <= now.getTime()) return { ok: false, status: 410, code: 'LINK_EXPIRED', message: 'This link has expired: ask for a new one (Export.downloadUrl).' };
  return { ok: true, exportId: exportId.toLowerCase(), userId: userId.toLowerCase() };
}
