import { builder } from '../../builder.ts';
import * as E from '../../generated/prisma/enums.ts';
import { agencyEra, agencyVisibility, inAgencyEra, userVisibility, visibleRecords } from '../../auth/scopes.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef } from '../common/schema.ts';
import { ContactChannel } from '../common/enums.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';
import { CaseRef, ContactPointRef, DebtorRef, HoldRef } from '../cases/schema.ts';
import { EvidenceRef } from '../evidence/schema.ts';
import { hhmm } from './optouts.ts';

export const OptOutKind = builder.enumType(E.OptOutKind, { name: 'OptOutKind' });
export const OptOutSource = builder.enumType(E.OptOutSource, { name: 'OptOutSource', description: 'How the debtor’s wish reached us.' });
export const ComplaintChannel = builder.enumType(E.ComplaintChannel, { name: 'ComplaintChannel' });
export const ComplaintCategory = builder.enumType(E.ComplaintCategory, { name: 'ComplaintCategory' });
export const ComplaintAgainst = builder.enumType(E.ComplaintAgainst, { name: 'ComplaintAgainst' });
export const ComplaintStatus = builder.enumType(E.ComplaintStatus, { name: 'ComplaintStatus' });
export const DisputeReason = builder.enumType(E.DisputeReason, { name: 'DisputeReason' });
export const DisputeStatus = builder.enumType(E.DisputeStatus, { name: 'DisputeStatus' });
export const DisputeOutcome = builder.enumType(E.DisputeOutcome, { name: 'DisputeOutcome' });

export const ContactOptOutRef = builder.prismaNode('ContactOptOut', {
  nullable: true,
  id: { field: 'id' },
  description: 'A debtor’s opt-out of a contact point (a channel of it) or of all contact: in force until the bank clears it.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.ContactOptOut(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: OptOutKind }),
    contactPoint: t.relation('contactPoint', { nullable: true }),
    channel: t.expose('channel', { type: ContactChannel, nullable: true, description: 'Null: every channel.' }),
    source: t.expose('source', { type: OptOutSource }),
    reason: t.exposeString('reason'),
    setAt: t.expose('setAt', { type: 'DateTime' }),
    active: t.boolean({ select: { clearedAt: true }, resolve: (o) => o.clearedAt === null }),
    clearedAt: t.expose('clearedAt', { type: 'DateTime', nullable: true }),
    clearReason: t.exposeString('clearReason', { nullable: true }),
    inboundText: t.string({
      nullable: true,
      description: 'The reply that set it, as the debtor sent it (SMS_REPLY).',
      select: { inboundMessage: { select: { body: true } } },
      resolve: (o) => o.inboundMessage?.body ?? null,
    }),
  }),
});

const PreferredHours = builder.objectRef<{ start: string; end: string }>('PreferredContactHours').implement({
  description: 'Local time in the debtor’s zone, HH:MM.',
  fields: (t) => ({ start: t.exposeString('start'), end: t.exposeString('end') }),
});

builder.prismaObjectFields(DebtorRef, (t) => ({
  preferredChannel: t.expose('preferredChannel', { type: ContactChannel, nullable: true, description: 'The channel the debtor asked to be reached on (advisory: the policy decides).' }),
  preferredContactHours: t.field({
    type: PreferredHours,
    nullable: true,
    select: { preferredContactFrom: true, preferredContactTo: true },
    resolve: (d) => (d.preferredContactFrom === null || d.preferredContactTo === null ? null : { start: hhmm(d.preferredContactFrom), end: hhmm(d.preferredContactTo) }),
  }),
  optOuts: t.relation('optOuts', {
    description: 'Every opt-out recorded for the debtor (of its contact points, and cease-contact), newest first; those of the viewer’s era.',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ setAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

builder.prismaObjectFields(ContactPointRef, (t) => ({
  doNotContactAt: t.expose('doNotContactAt', { type: 'DateTime', nullable: true }),
  optOuts: t.relation('optOuts', {
    description: 'Opt-outs of this contact point, newest first; those of the viewer’s era.',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ setAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

export const ComplaintRef = builder.prismaNode('Complaint', {
  nullable: true,
  id: { field: 'id' },
  description: 'A complaint about how a case was worked: OPEN → INVESTIGATING → UPHELD / NOT_UPHELD, within the deadlines of the jurisdiction.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Complaint(ctx.viewer)] }),
  fields: (t) => ({
    case: t.relation('case'),
    channel: t.expose('channel', { type: ComplaintChannel }),
    category: t.expose('category', { type: ComplaintCategory }),
    against: t.expose('against', { type: ComplaintAgainst }),
    againstAgency: t.field({
      type: AgencyRef,
      nullable: true,
      select: { againstAgencyId: true },
      resolve: (c, _a, ctx) => (c.againstAgencyId ? ctx.prisma.agency.findFirst({ where: { id: c.againstAgencyId, ...agencyVisibility(ctx.viewer) } }) : null),
    }),
    againstCollector: t.field({
      type: UserRef,
      nullable: true,
      select: { againstUserId: true },
      resolve: (c, _a, ctx) => (c.againstUserId ? ctx.prisma.user.findFirst({ where: { id: c.againstUserId, ...userVisibility(ctx.viewer) } }) : null),
    }),
    description: t.exposeString('description'),
    status: t.expose('status', { type: ComplaintStatus }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    responseDueAt: t.expose('responseDueAt', { type: 'DateTime', description: 'Answer by then (the policy’s complaintResponseDays).' }),
    resolutionDueAt: t.expose('resolutionDueAt', { type: 'DateTime', description: 'Close by then (the policy’s complaintResolutionDays).' }),
    respondedAt: t.expose('respondedAt', { type: 'DateTime', nullable: true }),
    response: t.exposeString('response', { nullable: true }),
    findings: t.exposeString('findings', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    escalationLevel: t.exposeInt('escalationLevel', { description: '0 on time; 1 the response is overdue; 2 the resolution is overdue.' }),
    escalatedAt: t.expose('escalatedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const DisputeRef = builder.prismaNode('Dispute', {
  nullable: true,
  id: { field: 'id' },
  description: 'A dispute of the debt or its amount: it holds the case (no contact, no visit) until the bank resolves it.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Dispute(ctx.viewer)] }),
  fields: (t) => ({
    case: t.relation('case'),
    reason: t.expose('reason', { type: DisputeReason }),
    description: t.exposeString('description'),
    amountDisputed: t.field({
      type: MoneyRef,
      nullable: true,
      description: 'Null: all of the debt.',
      select: { amountDisputed: true, currency: true },
      resolve: (d) => (d.amountDisputed === null ? null : money(d.amountDisputed, d.currency)),
    }),
    inWriting: t.exposeBoolean('inWriting'),
    verificationRequired: t.exposeBoolean('verificationRequired', { description: 'US, in writing: collection stops until the bank records its verification (Regulation F).' }),
    status: t.expose('status', { type: DisputeStatus }),
    openedAt: t.expose('openedAt', { type: 'DateTime' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    outcome: t.expose('outcome', { type: DisputeOutcome, nullable: true }),
    adjustment: t.field({ type: MoneyRef, select: { adjustment: true, currency: true }, resolve: (d) => money(d.adjustment, d.currency) }),
    resolutionNote: t.exposeString('resolutionNote', { nullable: true }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    hold: t.field({
      type: HoldRef,
      nullable: true,
      select: (_a, _c, nested) => ({ hold: nested(true) }),
      resolve: (d, _a, ctx) => inAgencyEra(ctx.viewer, d.hold),
    }),
    documents: t.relatedConnection('evidence', {
      cursor: 'id',
      totalCount: true,
      description: 'The dispute’s documents (DISPUTE_DOCUMENT, DEBT_VERIFICATION), newest first.',
      query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ uploadedAt: 'desc' }, { id: 'desc' }] }),
    }),
  }),
});

builder.prismaObjectFields(CaseRef, (t) => ({
  complaints: t.relatedConnection('complaints', {
    cursor: 'id',
    totalCount: true,
    description: 'Complaints about the case, newest first. An agency sees those of its own placements.',
    query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }] }),
  }),
  disputes: t.relatedConnection('disputes', {
    cursor: 'id',
    totalCount: true,
    description: 'Disputes of the debt, newest first. An agency sees those of its own placements.',
    query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ openedAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

builder.prismaObjectField(EvidenceRef, 'dispute', (t) =>
  t.field({
    type: DisputeRef,
    nullable: true,
    select: (_a, _c, nested) => ({ dispute: nested(true) }),
    resolve: (e, _a, ctx) => inAgencyEra(ctx.viewer, e.dispute),
  }),
);

builder.prismaObjectField(AgencyRef, 'upheldComplaints', (t) =>
  t.int({
    description: 'Complaints against the agency or its collectors that the bank upheld: a line of its scorecard.',
    resolve: (a, _args, ctx) => ctx.prisma.complaint.count({ where: { againstAgencyId: a.id, status: 'UPHELD' } }),
  }),
);
