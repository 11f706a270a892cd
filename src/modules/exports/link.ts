/**
 * Export downloads: a short-lived signed link per user, as evidence downloads have
 * (src/modules/evidence/download.ts): `GET /exports/<id>?u=<userId>&exp=<epoch ms>&sig=<HMAC>`.
 * The signature binds the export, the user and the expiry; the key is derived from the evidence
 * link key (HKDF, its own context), so neither kind of link can be forged from the other.
 */
import { hkdfSync } from 'node:crypto';
import { signLinkPath, verifyLink, type SignedLinkKind } from '../../lib/signed-link.ts';

export const EXPORT_PATH_PREFIX = '/exports/';
/** No link lives longer than this. */
export const MAX_EXPORT_LINK_TTL_MS = 300_000;
const EXPORT_LINK: SignedLinkKind = { prefix: EXPORT_PATH_PREFIX, context: 'arrears export download v1', maxTtlMs: MAX_EXPORT_LINK_TTL_MS, noun: 'export', renewFrom: 'Export.downloadUrl' };

export function exportSigningKey(evidenceKey: string | Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', evidenceKey, 'arrears', 'export download links v1', 32));
}

export function exportDownloadUrl(publicUrl: string, key: Uint8Array | string, exportId: string, userId: string, now: Date, ttlMs = MAX_EXPORT_LINK_TTL_MS): string {
  return `${publicUrl.replace(/\/$/, '')}${signLinkPath(EXPORT_LINK, key, exportId, userId, now, Math.min(ttlMs, MAX_EXPORT_LINK_TTL_MS))}`;
}

export type ExportLinkCheck =
  | { ok: true; exportId: string; userId: string }
  | { ok: false; status: 403 | 404 | 410; code: 'FORBIDDEN' | 'NOT_FOUND' | 'LINK_EXPIRED'; message: string };

export function verifyExportLink(key: Uint8Array | string, url: URL, now: Date): ExportLinkCheck {
  const check = verifyLink(EXPORT_LINK, key, url, now);
  return check.ok ? { ok: true, exportId: check.id, userId: check.userId } : check;
}
