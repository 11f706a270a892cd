import { createHash, hkdfSync } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { canSeeCase, inAgencyEra } from '../../auth/scopes.ts';
import { REVEAL_ROLES } from '../cases/service.ts';
import { viewerOf } from '../../auth/viewer.ts';
import { recordAudit, type AuditActor } from '../audit/service.ts';
import { signLinkPath, verifyLink, type SignedLinkKind } from '../../lib/signed-link.ts';
import type { BlobStore } from './blob-store.ts';

/**
 * Evidence downloads: a short-lived signed link per viewer, checked again at download.
 *
 * `GET /evidence/<id>?u=<userId>&exp=<epoch ms>&sig=<HMAC-SHA256, base64url>`. The signature
 * binds the evidence, the user and the expiry, so the link is its own credential (a browser
 * can follow it without an Authorization header) but only for the user it was made for, for at
 * most five minutes. At download the user must still be active and still see the case **now**
 * (an agency that lost the case loses its links at once); the file's SHA-256 is recomputed before
 * a byte is sent. Answers, as JSON `{ errors: [{ message, extensions: { code } }] }`:
 * - 403 FORBIDDEN: no, malformed or wrong signature (a changed id, user or expiry), an expiry
 *   further ahead than any link is issued for, an unknown or inactive user;
 * - 410 LINK_EXPIRED: a genuine link past its expiry (checked after the signature, so that a
 *   forged link never learns more than 403): ask `Evidence.downloadUrl` for a fresh one;
 * - 404 NOT_FOUND: no such evidence, or the user may not see its case: the same answer, so that
 *   a link reveals nothing about a case that is no longer the user's;
 * - 409 TAMPERED: the stored bytes no longer hash to the recorded SHA-256 (or are missing):
 *   nothing is served, a TAMPER_DETECTED custody entry and an `evidence.tamperDetected` audit
 *   event are written. Not a 5xx: retrying cannot help, and clients should not retry;
 * - 405 for any method but GET.
 * A served download writes a DOWNLOADED custody entry and an `evidence.download` audit event
 * before the first byte goes out: no download is unrecorded.
 */

/** No link lives longer than this (DOMAIN: short-lived). */
export const MAX_LINK_TTL_MS = 300_000;
export const DOWNLOAD_PATH_PREFIX = '/evidence/';
const EVIDENCE_LINK: SignedLinkKind = { prefix: DOWNLOAD_PATH_PREFIX, context: 'arrears evidence download v1', maxTtlMs: MAX_LINK_TTL_MS, noun: 'evidence', renewFrom: 'Evidence.downloadUrl' };

/** The link key, derived from the JWT secret (HKDF) so that neither key can be computed from the other's use. */
export function evidenceSigningKey(jwtSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', jwtSecret, 'arrears', 'evidence download links v1', 32));
}

/** The path and query of a download link for one viewer, valid `ttlMs` (at most five minutes) from `now`. */
export function signEvidenceUrl(secret: string | Uint8Array, evidenceId: string, viewerUserId: string, now: Date, ttlMs: number = MAX_LINK_TTL_MS): string {
  return signLinkPath(EVIDENCE_LINK, secret, evidenceId, viewerUserId, now, ttlMs);
}

/** The full download link: `publicUrl` (config) and the signed path. */
export function evidenceDownloadUrl(publicUrl: string, secret: string | Uint8Array, evidenceId: string, viewerUserId: string, now: Date, ttlMs?: number): string {
  return publicUrl.replace(/\/$/, '') + signEvidenceUrl(secret, evidenceId, viewerUserId, now, ttlMs);
}

export type LinkCheck =
  | { ok: true; evidenceId: string; userId: string; expiresAt: Date }
  | { ok: false; status: 403 | 404 | 410; code: 'FORBIDDEN' | 'NOT_FOUND' | 'LINK_EXPIRED'; message: string };

/** Checks a link's path, signature and expiry (no database): the first gate of a download. */
export function verifyEvidenceLink(secret: string | Uint8Array, url: URL, now: Date): LinkCheck {
  const check = verifyLink(EVIDENCE_LINK, secret, url, now);
  return check.ok ? { ok: true, evidenceId: check.id, userId: check.userId, expiresAt: check.expiresAt } : check;
}

export interface EvidenceDownloadDeps {
  prisma: PrismaClient;
  clock: Clock;
  blobs: BlobStore;
  /** The HMAC key of the links (e.g. `evidenceSigningKey(jwtSecret)`). */
  secret: string | Uint8Array;
  logger: Logger;
  /** The id of the request being served (server.ts `currentRequestId`), for custody and audit. */
  requestId?: () => string | undefined;
}

/** `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 8187). */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The Yoga plugin that serves `GET /evidence/<id>` (give it to createApp's `plugins`). */
export function useEvidenceDownloads(deps: EvidenceDownloadDeps): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(DOWNLOAD_PATH_PREFIX)) return;
      endResponse(await serveEvidence(deps, request, url, fetchAPI.Response));
    },
  };
}

type ResponseClass = typeof Response;

function errorResponse(R: ResponseClass, status: number, code: string, message: string, requestId: string | undefined, headers: Record<string, string> = {}): Response {
  return new R(JSON.stringify({ errors: [{ message, extensions: { code, ...(requestId ? { requestId } : {}) } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers },
  });
}

export async function serveEvidence(deps: EvidenceDownloadDeps, request: Request, url: URL, R: ResponseClass = Response): Promise<Response> {
  const requestId = deps.requestId?.();
  if (request.method !== 'GET') return errorResponse(R, 405, 'METHOD_NOT_ALLOWED', 'Evidence is downloaded with GET.', requestId, { allow: 'GET' });
  const now = deps.clock.now();
  const link = verifyEvidenceLink(deps.secret, url, now);
  if (!link.ok) return errorResponse(R, link.status, link.code, link.message, requestId);

  const user = await deps.prisma.user.findUnique({ where: { id: link.userId } });
  if (!user || !user.active) return errorResponse(R, 403, 'FORBIDDEN', 'This link is not valid: ask for a new one (Evidence.downloadUrl).', requestId);
  const viewer: Viewer = viewerOf(user);

  // Access is decided now, on the case's current placement: not when the link was made.
  const evidence = await deps.prisma.evidence.findUnique({
    where: { id: link.evidenceId },
    include: { case: { select: { id: true, assignedAgencyId: true, assignedCollectorId: true } } },
  });
  // The case must be the viewer's now, and the record of the viewer's era (no agency reads another's).
  if (!evidence || !canSeeCase(viewer, evidence.case) || !inAgencyEra(viewer, evidence)) return errorResponse(R, 404, 'NOT_FOUND', 'No such evidence.', requestId);
  // A visit document printed with the full national ID (issue 18) is for roles that may reveal it only.
  if (!(REVEAL_ROLES as readonly string[]).includes(viewer.role) && (await deps.prisma.visitDocument.count({ where: { evidenceId: evidence.id, nationalIdRevealed: true } })) > 0) {
    return errorResponse(R, 404, 'NOT_FOUND', 'No such evidence.', requestId);
  }

  const who: AuditActor = { userId: user.id, role: user.role, agencyId: user.agencyId, requestId: requestId ?? null };
  const tampered = async (actual: string | null, when: string) => {
    deps.logger.error({ evidenceId: evidence.id, expected: evidence.sha256, actual, when, requestId }, 'evidence file does not match its hash');
    const at = deps.clock.now();
    await deps.prisma.$transaction(async (tx) => {
      await tx.evidenceCustody.create({
        data: {
          evidenceId: evidence.id,
          action: 'TAMPER_DETECTED',
          agencyId: evidence.case.assignedAgencyId, // the era of whoever holds the case now
          actorId: user.id,
          at,
          requestId: requestId ?? null,
          detail: actual === null ? `Stored file missing (${when})` : `Stored file hashes to ${actual}, not ${evidence.sha256} (${when})`,
        },
      });
      await recordAudit(tx, who, at, {
        action: 'evidence.tamperDetected',
        entityType: 'Evidence',
        entityId: evidence.id,
        caseId: evidence.caseId,
        data: { expected: evidence.sha256, actual, when },
      });
    });
  };

  const actual = await deps.blobs.hash(evidence.sha256);
  const stream = actual === evidence.sha256 ? await deps.blobs.get(evidence.sha256) : null;
  if (!stream) {
    await tampered(actual, 'before serving');
    return errorResponse(R, 409, 'TAMPERED', 'The stored file no longer matches its recorded SHA-256: it is not served, and the finding is in the audit log.', requestId);
  }

  try {
    await deps.prisma.$transaction(async (tx) => {
      await tx.evidenceCustody.create({
        data: {
          evidenceId: evidence.id,
          action: 'DOWNLOADED',
          agencyId: evidence.case.assignedAgencyId, // the era of whoever holds the case now
          actorId: user.id,
          at: now,
          requestId: requestId ?? null,
          detail: `${evidence.fileName} (${evidence.sizeBytes} bytes) downloaded by ${user.role}`,
        },
      });
      await recordAudit(tx, who, now, {
        action: 'evidence.download',
        entityType: 'Evidence',
        entityId: evidence.id,
        caseId: evidence.caseId,
        data: { sha256: evidence.sha256, sizeBytes: evidence.sizeBytes, contentType: evidence.contentType },
      });
    });
  } catch (err) {
    stream.destroy();
    throw err;
  }

  const body = verifyWhileServing(stream, evidence.sha256, evidence.sizeBytes, (got) => {
    tampered(got, 'while serving').catch((err) => deps.logger.error({ err, evidenceId: evidence.id }, 'could not record tampering'));
  });
  return new R(body as unknown as BodyInit, {
    status: 200,
    headers: {
      'content-type': evidence.contentType,
      'content-length': String(evidence.sizeBytes),
      'content-disposition': contentDisposition(evidence.fileName),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; sandbox",
      'referrer-policy': 'no-referrer',
      // RFC 9530: the client can check what it received.
      'repr-digest': `sha-256=:${Buffer.from(evidence.sha256, 'hex').toString('base64')}:`,
    },
  });
}

/**
 * Hashes the bytes again as they go out and holds back the last chunk until the hash is known:
 * a file changed between the check and the read ends in a broken download, never a complete
 * wrong one.
 */
function verifyWhileServing(source: Readable, sha256: string, size: number, onMismatch: (actual: string) => void): Readable {
  const hash = createHash('sha256');
  let held: Buffer | null = null;
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      seen += chunk.length;
      const previous = held;
      held = chunk;
      callback(null, previous ?? undefined);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      if (actual !== sha256 || seen !== size) {
        onMismatch(actual);
        callback(new Error('evidence file changed while being served'));
        return;
      }
      callback(null, held ?? undefined);
    },
  });
  source.on('error', (err) => out.destroy(err));
  return source.pipe(out);
}
