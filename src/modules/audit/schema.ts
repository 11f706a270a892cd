import { builder } from '../../builder.ts';
import { Role } from '../common/enums.ts';
import { auditEventsWhere } from './service.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';
import { CaseRef } from '../cases/schema.ts';

const AUDIT_READERS = ['AUDITOR', 'BANK_ADMIN'] as const;

builder.prismaNode('AuditEvent', {
  nullable: true,
  id: { field: 'id' },
  description: 'Who did or saw what, when, from which request. Append-only.',
  authScopes: { role: [...AUDIT_READERS] },
  // node(id) finds an audit event only for those who may read the log.
  findUnique: (id, ctx) => ({ id, AND: [(AUDIT_READERS as readonly string[]).includes(ctx.viewer.role) ? {} : { id: { in: [] } }] }),
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    actorId: t.globalID({ nullable: true, description: 'The user who acted (a User id).', resolve: (e) => (e.actorId ? { type: 'User', id: e.actorId } : null) }),
    actorRole: t.expose('actorRole', { type: Role, nullable: true }),
    agencyId: t.globalID({ nullable: true, resolve: (e) => (e.agencyId ? { type: 'Agency', id: e.agencyId } : null) }),
    action: t.exposeString('action'),
    entityType: t.exposeString('entityType'),
    entityId: t.exposeString('entityId', { nullable: true }),
    caseId: t.globalID({ nullable: true, resolve: (e) => (e.caseId ? { type: 'Case', id: e.caseId } : null) }),
    requestId: t.exposeString('requestId', { nullable: true }),
    reason: t.exposeString('reason', { nullable: true }),
    data: t.expose('data', { type: 'JSON' }),
  }),
});

const AuditEventFilter = builder.inputType('AuditEventFilter', {
  fields: (t) => ({
    actorId: t.globalID({ required: false, for: [UserRef] }),
    agencyId: t.globalID({ required: false, for: [AgencyRef] }),
    caseId: t.globalID({ required: false, for: [CaseRef] }),
    action: t.string({ required: false }),
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
  }),
});

builder.queryField('auditEvents', (t) =>
  t.prismaConnection({
    type: 'AuditEvent',
    cursor: 'id',
    description: 'The audit log, newest first: auditors and bank admins only.',
    authScopes: { role: [...AUDIT_READERS] },
    args: { filter: t.arg({ type: AuditEventFilter, required: false }) },
    totalCount: (_p, args, ctx) => ctx.prisma.auditEvent.count({ where: auditEventsWhere(flattenFilter(args.filter)) }),
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.auditEvent.findMany({ ...query, where: auditEventsWhere(flattenFilter(args.filter)), orderBy: [{ at: 'desc' }, { id: 'desc' }] }),
  }, { name: 'AuditEventConnection' }),
);

function flattenFilter(f: {
  actorId?: { id: string } | null; agencyId?: { id: string } | null; caseId?: { id: string } | null;
  action?: string | null; from?: Date | null; to?: Date | null;
} | null | undefined) {
  if (!f) return null;
  return { actorId: f.actorId?.id ?? null, agencyId: f.agencyId?.id ?? null, caseId: f.caseId?.id ?? null, action: f.action ?? null, from: f.from ?? null, to: f.to ?? null };
}
