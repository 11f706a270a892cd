/**
 * `GET /exports/<id>?u=…&exp=…&sig=…`: the file of a finished export, to the user who asked for
 * it, through a link from `Export.downloadUrl` (link.ts). Like evidence downloads: 403 for a bad
 * link or an inactive user, 410 for a link past its expiry, 404 for an export that is not the
 * user's, not finished, or whose file has expired; each download is audited before a byte goes out.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import { recordAudit } from '../audit/service.ts';
import { contentDisposition } from '../evidence/download.ts';
import { EXPORT_PATH_PREFIX, verifyExportLink } from './link.ts';
import { exportFilePath } from './service.ts';

export interface ExportDownloadDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  dir: string;
  key: Uint8Array | string;
  requestId?: () => string | undefined;
}

const CONTENT_TYPE = { CSV: 'text/csv; charset=utf-8', XLSX: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;

export function useExportDownloads(deps: ExportDownloadDeps): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(EXPORT_PATH_PREFIX)) return;
      endResponse(await serveExport(deps, request, url, fetchAPI.Response));
    },
  };
}

function error(R: typeof Response, status: number, code: string, message: string, requestId?: string, headers: Record<string, string> = {}): Response {
  return new R(JSON.stringify({ errors: [{ message, extensions: { code, ...(requestId ? { requestId } : {}) } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers },
  });
}

export async function serveExport(deps: ExportDownloadDeps, request: Request, url: URL, R: typeof Response = Response): Promise<Response> {
  const requestId = deps.requestId?.();
  if (request.method !== 'GET') return error(R, 405, 'METHOD_NOT_ALLOWED', 'Exports are downloaded with GET.', requestId, { allow: 'GET' });
  const now = deps.clock.now();
  const link = verifyExportLink(deps.key, url, now);
  if (!link.ok) return error(R, link.status, link.code, link.message, requestId);
  const user = await deps.prisma.user.findUnique({ where: { id: link.userId } });
  if (!user || !user.active) return error(R, 403, 'FORBIDDEN', 'This link is not valid: ask for a new one (Export.downloadUrl).', requestId);
  const row = await deps.prisma.export.findUnique({ where: { id: link.exportId } });
  const missing = () => error(R, 404, 'NOT_FOUND', 'No such export.', requestId);
  if (!row || row.requestedById !== user.id || row.status !== 'COMPLETED' || !row.fileName || !row.expiresAt || row.expiresAt <= now) return missing();
  const file = exportFilePath(deps.dir, row);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return missing();
  }
  try {
    await deps.prisma.$transaction((tx) =>
      recordAudit(tx, { userId: user.id, role: user.role, agencyId: user.agencyId, requestId: requestId ?? null }, now, {
        action: 'export.download',
        entityType: 'Export',
        entityId: row.id,
        data: { kind: row.kind, format: row.format, sha256: row.sha256, rows: row.rowsWritten },
      }),
    );
  } catch (err) {
    await handle.close();
    throw err;
  }
  const body = Readable.toWeb(handle.createReadStream()) as unknown as BodyInit;
  return new R(body, {
    status: 200,
    headers: {
      'content-type': CONTENT_TYPE[row.format],
      ...(row.sizeBytes !== null ? { 'content-length': String(row.sizeBytes) } : {}),
      'content-disposition': contentDisposition(row.fileName),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      ...(row.sha256 ? { 'repr-digest': `sha-256=:${Buffer.from(row.sha256, 'hex').toString('base64')}:` } : {}),
    },
  });
}
