/**
 * Exports (issue 14, item 6): `requestExport` records what to export (audited) and the export
 * job writes the file: CSV or XLSX, a batch of rows at a time (flat memory), with its progress on
 * the Export row, to the exports folder; a signed short-lived link downloads it (download.ts).
 *
 * - The rows are those the requester may see when the job runs (their scope and era then: a case
 *   recalled from an agency in between is not in the agency's file).
 * - National ID numbers are masked, unless a role that may reveal identity (supervisor, admin)
 *   asked for them in full: that request is part of the audit event.
 * - A file lives EXPORT_TTL_MS after it is written; then the job deletes it.
 * - One runner at a time per export: it is claimed with a lease; a runner that died leaves an
 *   expired lease, and the next run starts it again from the beginning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient, Export } from '../../generated/prisma/client.ts';
import type { ExportFormat, ExportKind } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import type { Pii } from '../../lib/pii.ts';
import type { Logger } from '../../lib/logger.ts';
import { DomainError } from '../../lib/errors.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { idempotencyKeyOf, once, requestHash } from '../../lib/idempotency.ts';
import { viewerOf } from '../../auth/viewer.ts';
import { REVEAL_ROLES } from '../cases/service.ts';
import { recordAudit } from '../audit/service.ts';
import { exportSource, type ExportParameters } from './rows.ts';
import { csvWriter, xlsxWriter, type RowWriter } from './writer.ts';

/** How long a written file may be downloaded. */
export const EXPORT_TTL_MS = 24 * 60 * 60_000;
/** A runner renews its claim while it writes; a claim older than this belongs to a runner that died. */
export const EXPORT_LEASE_MS = 60_000;
/** Exports a user may have waiting or running at once. */
export const MAX_OPEN_EXPORTS_PER_USER = 5;

export interface RequestExportInput {
  kind: ExportKind;
  format: ExportFormat;
  parameters: ExportParameters;
  bom?: boolean | null;
  revealNationalIds?: boolean | null;
  idempotencyKey?: string | null;
}

export async function requestExport(deps: { prisma: PrismaClient; clock: Clock }, actor: Actor, input: RequestExportInput): Promise<{ export: Export }> {
  const v = actor.viewer;
  const reveal = input.revealNationalIds === true;
  if (reveal && !(REVEAL_ROLES as readonly string[]).includes(v.role)) {
    throw new DomainError('FORBIDDEN_ACTION', 'Only a supervisor or an admin may export full national ID numbers', 'revealNationalIds');
  }
  if (reveal && input.kind !== 'CASES') throw new DomainError('VALIDATION', 'Only a CASES export holds national ID numbers', 'revealNationalIds');
  if (input.bom && input.format !== 'CSV') throw new DomainError('VALIDATION', 'A byte-order mark is for CSV files', 'bom');
  const parameters = JSON.parse(JSON.stringify(input.parameters)) as Prisma.InputJsonObject;
  const write = async (idem: { key: string; hash: string } | null) =>
    deps.prisma.$transaction(async (tx) => {
      const now = deps.clock.now();
      const open = await tx.export.count({ where: { requestedById: v.userId, status: { in: ['PENDING', 'RUNNING'] } } });
      if (open >= MAX_OPEN_EXPORTS_PER_USER) throw new DomainError('VALIDATION', `At most ${MAX_OPEN_EXPORTS_PER_USER} exports may wait or run at once: let one finish`, 'kind');
      const row = await tx.export.create({
        data: {
          kind: input.kind,
          format: input.format,
          parameters,
          bom: input.bom === true,
          revealNationalIds: reveal,
          requestedById: v.userId,
          agencyId: v.agencyId,
          requestedAt: now,
          idempotencyKey: idem?.key ?? null,
          requestHash: idem?.hash ?? null,
        },
      });
      await recordAudit(tx, auditActor(actor), now, {
        action: 'export.request',
        entityType: 'Export',
        entityId: row.id,
        data: { kind: input.kind, format: input.format, revealNationalIds: reveal, parameters },
      });
      return { export: row };
    });
  if (input.idempotencyKey == null) return write(null);
  const key = idempotencyKeyOf(input.idempotencyKey);
  const hash = requestHash([input.kind, input.format, parameters, input.bom === true, reveal]);
  return once({
    what: 'another export',
    hash,
    find: () => deps.prisma.export.findUnique({ where: { idempotencyKey: key } }),
    visible: async (row) => row.requestedById === v.userId,
    replay: async (row) => ({ export: row }),
    write: () => write({ key, hash }),
  });
}

export interface ExportRunDeps {
  prisma: PrismaClient;
  clock: Clock;
  pii?: Pii;
  logger: Logger;
  dir: string;
  owner: string;
  signal?: AbortSignal;
}

/** Takes an export that waits, or whose runner's lease ran out; null when there is none. */
async function claim(deps: ExportRunDeps): Promise<Export | null> {
  const now = deps.clock.now();
  const candidate = await deps.prisma.export.findFirst({
    where: { OR: [{ status: 'PENDING' }, { status: 'RUNNING', leaseUntil: { lt: now } }] },
    orderBy: { requestedAt: 'asc' },
  });
  if (!candidate) return null;
  const { count } = await deps.prisma.export.updateMany({
    where: { id: candidate.id, OR: [{ status: 'PENDING' }, { status: 'RUNNING', leaseUntil: { lt: now } }] },
    data: { status: 'RUNNING', startedAt: now, leaseOwner: deps.owner, leaseUntil: new Date(now.getTime() + EXPORT_LEASE_MS), rowsWritten: 0, rowsTotal: null },
  });
  return count === 1 ? deps.prisma.export.findUnique({ where: { id: candidate.id } }) : claim(deps);
}

/** Writes every waiting export, one after the other, until none waits or the job is stopped. */
export async function runPendingExports(deps: ExportRunDeps): Promise<{ completed: number; failed: number; expired: number }> {
  let completed = 0;
  let failed = 0;
  const expired = await expireExports(deps);
  for (;;) {
    if (deps.signal?.aborted) break;
    const job = await claim(deps);
    if (!job) break;
    (await runExport(deps, job)) ? completed++ : failed++;
  }
  return { completed, failed, expired };
}

const EXTENSION: Record<ExportFormat, string> = { CSV: 'csv', XLSX: 'xlsx' };

export function exportFilePath(dir: string, e: Pick<Export, 'id' | 'format'>): string {
  return path.join(dir, `${e.id}.${EXTENSION[e.format]}`);
}

/** Writes one claimed export; true when the file was written. */
export async function runExport(deps: ExportRunDeps, job: Export): Promise<boolean> {
  const file = exportFilePath(deps.dir, job);
  let writer: RowWriter | null = null;
  try {
    const user = await deps.prisma.user.findUnique({ where: { id: job.requestedById } });
    if (!user || !user.active) throw new ExportFailure('The requester is no longer active');
    const viewer = viewerOf(user);
    if (job.revealNationalIds && !deps.pii) throw new Error('national ID keys are not available to the export runner');
    const source = await exportSource(
      { prisma: deps.prisma, clock: deps.clock, ...(deps.pii ? { pii: deps.pii } : {}), search: { prisma: deps.prisma, blindIndex: (id) => deps.pii!.blindIndex(id) } },
      viewer,
      job.kind,
      job.parameters as ExportParameters,
      { revealNationalIds: job.revealNationalIds && (REVEAL_ROLES as readonly string[]).includes(user.role) },
    );
    const rowsTotal = await source.count();
    await deps.prisma.export.update({ where: { id: job.id }, data: { rowsTotal } });
    await fs.promises.mkdir(deps.dir, { recursive: true });
    await fs.promises.rm(file, { force: true }); // a run taken over starts again
    writer = job.format === 'CSV' ? await csvWriter(file, source.columns, { bom: job.bom }) : await xlsxWriter(file, source.columns, job.kind);
    let written = 0;
    for await (const batch of source.batches()) {
      if (deps.signal?.aborted) throw new Error('stopped');
      for (const row of batch) await writer.write(row);
      written += batch.length;
      const now = deps.clock.now();
      // Progress and the lease, once a batch; a lease lost to another runner stops this one.
      const { count } = await deps.prisma.export.updateMany({
        where: { id: job.id, leaseOwner: deps.owner },
        data: { rowsWritten: written, leaseUntil: new Date(now.getTime() + EXPORT_LEASE_MS) },
      });
      if (count !== 1) throw new Error('export lease lost');
    }
    await writer.close();
    writer = null;
    const { sha256, size } = await hashFile(file);
    const now = deps.clock.now();
    const fileName = `arrears-${job.kind.toLowerCase().replace(/_/g, '-')}-${now.toISOString().slice(0, 10)}.${EXTENSION[job.format]}`;
    await deps.prisma.$transaction(async (tx) => {
      await tx.export.update({
        where: { id: job.id },
        data: { status: 'COMPLETED', finishedAt: now, expiresAt: new Date(now.getTime() + EXPORT_TTL_MS), rowsWritten: written, fileName, sizeBytes: BigInt(size), sha256, leaseOwner: null, leaseUntil: null },
      });
      await recordAudit(tx, { userId: user.id, role: user.role, agencyId: user.agencyId, requestId: null }, now, {
        action: 'export.complete',
        entityType: 'Export',
        entityId: job.id,
        data: { kind: job.kind, format: job.format, rows: written, sizeBytes: size, sha256, revealNationalIds: job.revealNationalIds },
      });
    });
    return true;
  } catch (err) {
    if (writer) await writer.abort().catch(() => undefined);
    else await fs.promises.rm(file, { force: true }).catch(() => undefined);
    if (deps.signal?.aborted && !(err instanceof ExportFailure)) {
      // Stopping: the export waits for the next runner.
      await deps.prisma.export.updateMany({ where: { id: job.id, leaseOwner: deps.owner }, data: { status: 'PENDING', leaseOwner: null, leaseUntil: null } });
      return false;
    }
    deps.logger.error({ err, exportId: job.id }, 'export failed');
    const message = err instanceof ExportFailure ? err.message : 'The export failed: ask for it again (the error is logged).';
    await deps.prisma.export.updateMany({ where: { id: job.id }, data: { status: 'FAILED', finishedAt: deps.clock.now(), error: message, leaseOwner: null, leaseUntil: null } });
    return false;
  }
}

class ExportFailure extends Error {}

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** Deletes the files of exports past their expiry (the row stays, without a link). */
export async function expireExports(deps: Pick<ExportRunDeps, 'prisma' | 'clock' | 'dir'>): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.prisma.export.findMany({ where: { status: 'COMPLETED', expiresAt: { lt: now }, fileName: { not: null } }, select: { id: true, format: true }, take: 1000 });
  for (const e of due) {
    await fs.promises.rm(exportFilePath(deps.dir, e), { force: true });
    await deps.prisma.export.update({ where: { id: e.id }, data: { fileName: null } });
  }
  return due.length;
}
