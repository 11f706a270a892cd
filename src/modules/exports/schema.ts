/**
 * Exports in the API: `requestExport` (a payload with user errors, audited), the `Export` node
 * with its progress and, once written, a signed short-lived `downloadUrl`, and `exports`, the
 * viewer's own. An export is personal: only its requester sees it, by every path.
 */
import { builder } from '../../builder.ts';
import * as E from '../../generated/prisma/enums.ts';
import { toSafeNumber } from '../../lib/money.ts';
import { visibleRecords } from '../../auth/scopes.ts';
import { mutationPayload, withUserErrors } from '../common/schema.ts';
import { CaseFilter, toFilter } from '../cases/schema.ts';
import { PortfolioDimension, ReportPeriod } from '../analytics/schema.ts';
import { periodOf } from '../analytics/scope.ts';
import { exportDownloadUrl, exportSigningKey, MAX_EXPORT_LINK_TTL_MS } from './link.ts';
import { requestExport } from './service.ts';

const ExportKind = builder.enumType(E.ExportKind, { name: 'ExportKind' });
const ExportFormat = builder.enumType(E.ExportFormat, { name: 'ExportFormat', description: 'CSV: UTF-8 (optionally with a byte-order mark); XLSX: an Excel workbook.' });
const ExportStatus = builder.enumType(E.ExportStatus, { name: 'ExportStatus' });

const keys = new WeakMap<Uint8Array, Buffer>();
const keyOf = (evidenceKey: Uint8Array) => {
  let k = keys.get(evidenceKey);
  if (!k) keys.set(evidenceKey, (k = exportSigningKey(evidenceKey)));
  return k;
};

export const ExportRef = builder.prismaNode('Export', {
  nullable: true,
  id: { field: 'id' },
  description: 'A file of records the requester may see, written by the export job. Only its requester sees it.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Export(ctx.viewer)] }),
  authScopes: (e, ctx) => e.requestedById === ctx.viewer.userId,
  fields: (t) => ({
    kind: t.expose('kind', { type: ExportKind }),
    format: t.expose('format', { type: ExportFormat }),
    status: t.expose('status', { type: ExportStatus }),
    bom: t.exposeBoolean('bom'),
    revealNationalIds: t.exposeBoolean('revealNationalIds'),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'After this the file is deleted.' }),
    rowsTotal: t.exposeInt('rowsTotal', { nullable: true, description: 'Known once the job has started.' }),
    rowsWritten: t.exposeInt('rowsWritten'),
    progress: t.float({
      description: 'From 0 to 1.',
      resolve: (e) => (e.status === 'COMPLETED' ? 1 : e.rowsTotal ? Math.min(1, e.rowsWritten / e.rowsTotal) : 0),
    }),
    fileName: t.exposeString('fileName', { nullable: true }),
    sizeBytes: t.field({ type: 'SafeInt', nullable: true, resolve: (e) => (e.sizeBytes === null ? null : toSafeNumber(e.sizeBytes)) }),
    sha256: t.exposeString('sha256', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    downloadUrl: t.string({
      nullable: true,
      description: `Once written and until it expires: a link that downloads the file, for this viewer only, valid ${MAX_EXPORT_LINK_TTL_MS / 60_000} minutes. Each download is audited.`,
      resolve: (e, _a, ctx) => {
        const now = ctx.clock.now();
        if (e.status !== 'COMPLETED' || !e.fileName || !e.expiresAt || e.expiresAt <= now || !ctx.evidence) return null;
        return exportDownloadUrl(ctx.evidence.publicUrl, keyOf(ctx.evidence.signingKey as Uint8Array), e.id, ctx.viewer.userId, now);
      },
    }),
  }),
});

const RequestExportInput = builder.inputType('RequestExportInput', {
  fields: (t) => ({
    kind: t.field({ type: ExportKind }),
    format: t.field({ type: ExportFormat, defaultValue: 'CSV' }),
    filter: t.field({ type: CaseFilter, required: false, description: 'Which cases (and the records of which cases).' }),
    period: t.field({ type: ReportPeriod, required: false, description: 'Records (payments, promises, attempts, visits) of these days; PORTFOLIO: the period of `collected`.' }),
    groupBy: t.field({ type: [PortfolioDimension], required: false, description: 'PORTFOLIO only; default BUCKET.' }),
    bom: t.boolean({ required: false, description: 'CSV: start with a UTF-8 byte-order mark (for spreadsheet apps).' }),
    revealNationalIds: t.boolean({ required: false, description: 'CASES: full national ID numbers (supervisors and admins; audited). Default: masked.' }),
    idempotencyKey: t.string({ required: false }),
  }),
});

const RequestExportPayload = mutationPayload('RequestExportPayload', 'export', ExportRef);

builder.mutationField('requestExport', (t) =>
  t.field({
    type: RequestExportPayload,
    description: 'Starts an export: the export job writes the file; follow `Export.status` and `progress`, then `downloadUrl`.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RequestExportInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(async () => {
        const now = ctx.clock.now();
        return requestExport(ctx, { viewer: ctx.viewer, requestId: ctx.requestId }, {
          kind: input.kind,
          format: input.format,
          parameters: {
            filter: toFilter(input.filter),
            period: input.period ? periodOf(input.period, now, 'input.period') : null,
            groupBy: input.groupBy ?? null,
          },
          bom: input.bom ?? null,
          revealNationalIds: input.revealNationalIds ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
        });
      }),
  }),
);

builder.queryField('exports', (t) =>
  t.prismaConnection(
    {
      type: 'Export',
      cursor: 'id',
      description: 'The viewer’s own exports, newest first.',
      totalCount: (_p, _a, ctx) => ctx.prisma.export.count({ where: visibleRecords.Export(ctx.viewer) }),
      resolve: (query, _r, _a, ctx) => ctx.prisma.export.findMany({ ...query, where: visibleRecords.Export(ctx.viewer), orderBy: { id: 'desc' } }),
    },
    { name: 'ExportConnection' },
  ),
);
