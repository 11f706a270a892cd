import type { Context } from '../../context.ts';
import { builder } from '../../builder.ts';
import { agencyEra, canSeeCase, caseEventVisibility, caseVisibility, debtorVisibility, viaCase, visibleRecords } from '../../auth/scopes.ts';
import { formatCaseNumber, parseCaseNumber } from '../../lib/ids.ts';
import { bucketOf, daysPastDue } from '../../lib/time.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef, SortDirection, UserErrorRef, countedConnection, withUserErrors } from '../common/schema.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Debtor as DebtorShape } from '../../generated/prisma/client.ts';
import { REVEAL_ROLES, revealDebtorIdentity } from './service.ts';
import {
  AddressKind,
  Bucket,
  CasePriority,
  CaseStage,
  CaseStatus,
  CloseReason,
  ContactParty,
  ContactPointKind,
  ContactSource,
  VerificationStatus,
  HoldReason,
  Jurisdiction,
  Language,
  PlacementKind,
  RecallReason,
} from '../common/enums.ts';
import { activeHoldWhere, caseListWhere, caseOrderBy, COUNT_CAP } from './queries.ts';
import { eventDataFor } from './timeline.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';

export const CaseRef = builder.prismaNode('Case', {
  nullable: true,
  id: { field: 'id' },
  description: 'One delinquent account episode, worked from the first reminder to resolution.',
  // node(id) finds only what the viewer may see: an invisible case is simply not there.
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Case(ctx.viewer)] }),
  // Defence in depth: whatever path loads a case, its fields answer only to a viewer who may see it.
  authScopes: (c, ctx) => canSeeCase(ctx.viewer, c),
  // Select mode: a page reads the columns its query asks for, plus what the guard above needs.
  select: { id: true, assignedAgencyId: true, assignedCollectorId: true },
  fields: (t) => ({
    number: t.string({ description: 'Human number, e.g. C-000123.', select: { caseNo: true }, resolve: (c) => formatCaseNumber(c.caseNo) }),
    stage: t.expose('stage', { type: CaseStage }),
    status: t.expose('status', { type: CaseStatus }),
    priority: t.expose('priority', { type: CasePriority }),
    overdue: t.field({ type: MoneyRef, description: 'Principal + interest + fees still owed.', select: { overdueTotal: true, currency: true }, resolve: (c) => money(c.overdueTotal, c.currency) }),
    principal: t.field({ type: MoneyRef, select: { principal: true, currency: true }, resolve: (c) => money(c.principal, c.currency) }),
    interest: t.field({ type: MoneyRef, select: { interest: true, currency: true }, resolve: (c) => money(c.interest, c.currency) }),
    fees: t.field({ type: MoneyRef, select: { fees: true, currency: true }, resolve: (c) => money(c.fees, c.currency) }),
    credit: t.field({ type: MoneyRef, description: 'Paid beyond what was owed.', select: { credit: true, currency: true }, resolve: (c) => money(c.credit, c.currency) }),
    dueDate: t.expose('dueDate', { type: 'Date', description: 'The first missed due date.' }),
    daysPastDue: t.int({ select: { dueDate: true }, resolve: (c, _a, ctx) => daysPastDue(c.dueDate, ctx.clock.now()) }),
    bucket: t.field({ type: Bucket, select: { dueDate: true }, resolve: (c, _a, ctx) => bucketOf(daysPastDue(c.dueDate, ctx.clock.now())) }),
    debtor: t.relation('debtor'),
    account: t.relation('account'),
    assignedAgency: t.relation('assignedAgency', { nullable: true }),
    assignedCollector: t.relation('assignedCollector', { nullable: true }),
    version: t.exposeInt('version', { description: 'Send it back as expectedVersion on writes (optimistic concurrency).' }),
    openedAt: t.expose('openedAt', { type: 'DateTime' }),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true }),
    closeReason: t.expose('closeReason', { type: CloseReason, nullable: true }),
    onHold: t.boolean({
      description: 'A hold is in force: no contact of any kind.',
      select: (_args, ctx) => ({ holds: { where: activeHoldWhere(ctx.clock.now()), take: 1, select: { id: true } } }),
      resolve: (c) => c.holds.length > 0,
    }),
    holds: t.relatedConnection('holds', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ startsAt: 'desc' }, { id: 'desc' }] }) }),
    placements: t.relatedConnection('placements', {
      cursor: 'id',
      totalCount: true,
      description: 'Placement history. An agency sees its own placements only.',
      query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ startsAt: 'desc' }, { id: 'desc' }] }),
    }),
    timeline: t.relatedConnection('events', {
      cursor: 'id',
      totalCount: true,
      description: 'Every change, newest first. An agency sees the history of its own placements only; strategy entries show to strategy readers only.',
      query: (_args, ctx) => ({ where: caseEventVisibility(ctx.viewer), orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] }),
    }),
    reminders: t.relatedConnection('reminders', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ scheduledAt: 'desc' }, { id: 'desc' }] }) }),
    contactAttempts: t.relatedConnection('contactAttempts', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ attemptedAt: 'desc' }, { id: 'desc' }] }) }),
    visits: t.relatedConnection('visits', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }) }),
    evidence: t.relatedConnection('evidence', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ uploadedAt: 'desc' }, { id: 'desc' }] }) }),
    promises: t.relatedConnection('promises', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }) }),
    repaymentPlans: t.relatedConnection('repaymentPlans', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ proposedAt: 'desc' }, { id: 'desc' }] }) }),
    payments: t.relatedConnection('payments', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }] }) }),
  }),
});

export const DebtorRef = builder.prismaNode('Debtor', {
  nullable: true,
  id: { field: 'id' },
  description: 'The cardholder. The national ID number is shown masked; the full number only through revealDebtorIdentity.',
  // Select mode: only the columns a query asks for are read (never the national ID's ciphertext).
  select: { id: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Debtor(ctx.viewer)] }),
  fields: (t) => ({
    fullName: t.exposeString('fullName'),
    nationalIdMasked: t.exposeString('nationalIdMasked', { description: 'e.g. 1101**********1234' }),
    // An agency sees the bank's records and what it traced itself, never another agency's finds.
    // A total order (id last): records made in one instant list the same way on every store.
    contactPoints: t.relation('contactPoints', { query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ primary: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }] }) }),
    addresses: t.relation('addresses', { query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }) }),
    timeZone: t.exposeString('timeZone', { description: 'IANA time zone: contact hours and days are counted in it.' }),
    jurisdiction: t.expose('jurisdiction', { type: Jurisdiction }),
    language: t.expose('language', { type: Language }),
    ceaseContact: t.exposeBoolean('ceaseContact'),
    ceaseContactAt: t.expose('ceaseContactAt', { type: 'DateTime', nullable: true }),
  }),
});

export const ContactPointRef = builder.prismaNode('ContactPoint', {
  nullable: true,
  id: { field: 'id' },
  select: { id: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.ContactPoint(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: ContactPointKind }),
    party: t.expose('party', { type: ContactParty, description: 'THIRD_PARTY contacts are never told of the debt.' }),
    relation: t.exposeString('relation', { nullable: true }),
    value: t.exposeString('value'),
    primary: t.exposeBoolean('primary'),
    doNotContact: t.exposeBoolean('doNotContact'),
    doNotContactReason: t.exposeString('doNotContactReason', { nullable: true }),
    wrongNumberAt: t.expose('wrongNumberAt', { type: 'DateTime', nullable: true, description: 'Marked a wrong number: kept, never deleted, no longer contacted.' }),
    wrongNumberNote: t.exposeString('wrongNumberNote', { nullable: true }),
    source: t.expose('source', { type: ContactSource, description: 'Where it came from (skip tracing).' }),
    sourceNote: t.exposeString('sourceNote', { nullable: true }),
    verification: t.expose('verification', { type: VerificationStatus, description: 'Whether the bank has verified it.' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    addedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const AddressRef = builder.prismaNode('Address', {
  nullable: true,
  id: { field: 'id' },
  select: { id: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Address(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: AddressKind }),
    line1: t.exposeString('line1'),
    line2: t.exposeString('line2', { nullable: true }),
    city: t.exposeString('city'),
    region: t.exposeString('region'),
    postalCode: t.exposeString('postalCode', { nullable: true }),
    country: t.exposeString('country'),
    source: t.expose('source', { type: ContactSource, description: 'Where it came from (skip tracing).' }),
    sourceNote: t.exposeString('sourceNote', { nullable: true }),
    verification: t.expose('verification', { type: VerificationStatus, description: 'Whether the bank has verified it.' }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    movedAwayAt: t.expose('movedAwayAt', { type: 'DateTime', nullable: true, description: 'The debtor no longer lives or works there: kept, never deleted; no visit or letter goes there.' }),
    movedAwayNote: t.exposeString('movedAwayNote', { nullable: true }),
    addedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('CardAccount', {
  nullable: true,
  id: { field: 'id' },
  select: { id: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CardAccount(ctx.viewer)] }),
  fields: (t) => ({
    maskedCardNumber: t.string({ select: { cardLast4: true }, resolve: (a) => `**** **** **** ${a.cardLast4}` }),
    cardLast4: t.exposeString('cardLast4'),
    product: t.exposeString('product'),
    creditLimit: t.field({ type: MoneyRef, select: { creditLimit: true, currency: true }, resolve: (a) => money(a.creditLimit, a.currency) }),
    openedOn: t.expose('openedOn', { type: 'Date', nullable: true }),
  }),
});

builder.prismaNode('Placement', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Placement(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: PlacementKind }),
    agency: t.relation('agency', { nullable: true }),
    collector: t.relation('collector', { nullable: true }),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime', nullable: true, description: 'The agreed end; past it the case is recalled.' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    recallReason: t.expose('recallReason', { type: RecallReason, nullable: true }),
    recallNote: t.exposeString('recallNote', { nullable: true }),
  }),
});

export const CaseEventRef = builder.prismaNode('CaseEvent', {
  nullable: true,
  id: { field: 'id' },
  description: 'One entry of a case timeline: append-only.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CaseEvent(ctx.viewer)] }),
  fields: (t) => ({
    type: t.exposeString('type'),
    actorLabel: t.exposeString('actorLabel'),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When it happened: for a step recorded offline, the field device’s time of the step.' }),
    recordedAt: t.field({
      type: 'DateTime',
      description: 'When the server recorded it: later than occurredAt for a step recorded offline (at most 72 hours).',
      resolve: (e) => e.recordedAt ?? e.occurredAt,
    }),
    summary: t.exposeString('summary'),
    data: t.field({
      type: 'JSON',
      description: 'Details of the change. Ids of records of another agency’s era are null for an agency.',
      resolve: (e, _a, ctx) => eventDataFor(ctx, e.data),
    }),
  }),
});

export const HoldRef = builder.prismaNode('Hold', {
  nullable: true,
  id: { field: 'id' },
  description: 'A pause of all contact on a case.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Hold(ctx.viewer)] }),
  fields: (t) => ({
    reason: t.expose('reason', { type: HoldReason }),
    note: t.exposeString('note'),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime', nullable: true }),
    releasedAt: t.expose('releasedAt', { type: 'DateTime', nullable: true }),
    active: t.boolean({
      resolve: (h, _a, ctx) => {
        const now = ctx.clock.now();
        return h.releasedAt === null && h.startsAt <= now && (h.endsAt === null || h.endsAt > now);
      },
    }),
  }),
});

export const CaseConnection = countedConnection(
  CaseRef,
  'CaseConnection',
  `How many cases match, counted only when asked for: exactly up to ${COUNT_CAP.toLocaleString('en')}; ${COUNT_CAP.toLocaleString('en')} means that many or more (narrow the filter to count further).`,
);

export const CaseFilter = builder.inputType('CaseFilter', {
  fields: (t) => ({
    stage: t.field({ type: [CaseStage], required: false }),
    status: t.field({ type: [CaseStatus], required: false }),
    bucket: t.field({ type: [Bucket], required: false }),
    agencyId: t.globalID({ required: false, for: [AgencyRef] }),
    collectorId: t.globalID({ required: false, for: [UserRef] }),
    minDaysPastDue: t.int({ required: false }),
    maxDaysPastDue: t.int({ required: false }),
    search: t.string({
      required: false,
      description: 'Case number, debtor name, phone number, or an exact national ID number.',
    }),
  }),
});

const CaseOrderField = builder.enumType('CaseOrderField', {
  values: ['DAYS_PAST_DUE', 'OVERDUE_AMOUNT', 'OPENED_AT', 'PRIORITY'] as const,
});

const CaseOrder = builder.inputType('CaseOrder', {
  fields: (t) => ({
    field: t.field({ type: CaseOrderField }),
    direction: t.field({ type: SortDirection, defaultValue: 'DESC' }),
  }),
});

const searchDeps = (ctx: Context) => ({ prisma: ctx.prisma, blindIndex: (id: string) => ctx.pii.blindIndex(id) });

builder.queryFields((t) => ({
  cases: t.prismaConnection(
    {
      type: 'Case',
      cursor: 'id',
      description: 'The cases the viewer may see, filtered and ordered; cursors are stable under inserts.',
      args: {
        filter: t.arg({ type: CaseFilter, required: false }),
        orderBy: t.arg({ type: CaseOrder, required: false }),
      },
      totalCount: async (_parent, args, ctx) =>
        ctx.prisma.case.count({
          where: await caseListWhere(ctx.viewer, toFilter(args.filter), ctx.clock.now(), searchDeps(ctx)),
          take: COUNT_CAP,
          // In the list's own order: the bounded count reads the index the page reads (Prisma
          // would otherwise order the capped subquery by id, and sort every matching row).
          orderBy: caseOrderBy(args.orderBy),
        }),
      resolve: async (query, _root, args, ctx) =>
        ctx.prisma.case.findMany({
          ...query,
          where: await caseListWhere(ctx.viewer, toFilter(args.filter), ctx.clock.now(), searchDeps(ctx)),
          orderBy: caseOrderBy(args.orderBy),
        }),
    },
    CaseConnection,
  ),
  case: t.prismaField({
    type: 'Case',
    nullable: true,
    description: 'One case by its global id, as node(id) finds it: a case the viewer may not see, or an id of another type, is null.',
    args: { id: t.arg.globalID() },
    // An id of another type names no case: the query runs for an id that matches nothing (Pothos wants its query used).
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.case.findFirst({ ...query, where: { id: args.id.typename === 'Case' ? args.id.id : '00000000-0000-0000-0000-000000000000', AND: [visibleRecords.Case(ctx.viewer)] } }),
  }),
  caseByNumber: t.prismaField({
    type: 'Case',
    nullable: true,
    args: { number: t.arg.string() },
    resolve: (query, _root, args, ctx) => {
      const caseNo = parseCaseNumber(args.number);
      if (caseNo === null) return null;
      return ctx.prisma.case.findFirst({ ...query, where: { caseNo, ...caseVisibility(ctx.viewer) } });
    },
  }),
}));

export type FilterArg = {
  stage?: readonly string[] | null;
  status?: readonly string[] | null;
  bucket?: readonly string[] | null;
  agencyId?: { id: string } | null;
  collectorId?: { id: string } | null;
  minDaysPastDue?: number | null;
  maxDaysPastDue?: number | null;
  search?: string | null;
} | null | undefined;

export function toFilter(f: FilterArg) {
  if (!f) return null;
  return {
    stage: (f.stage as never) ?? null,
    status: (f.status as never) ?? null,
    bucket: (f.bucket as never) ?? null,
    agencyId: f.agencyId?.id ?? null,
    collectorId: f.collectorId?.id ?? null,
    minDaysPastDue: f.minDaysPastDue ?? null,
    maxDaysPastDue: f.maxDaysPastDue ?? null,
    search: f.search ?? null,
  };
}

// ---------------------------------------------------------------- sensitive personal information

const RevealDebtorIdentityInput = builder.inputType('RevealDebtorIdentityInput', {
  fields: (t) => ({
    debtorId: t.globalID({ for: [DebtorRef] }),
    reason: t.string({ description: 'Why the full number is needed: kept in the audit log.' }),
  }),
});

type Revealed = { debtor?: DebtorShape | null; nationalId?: string | null; userErrors: UserError[] };
const RevealDebtorIdentityPayload = builder.objectRef<Revealed>('RevealDebtorIdentityPayload').implement({
  fields: (t) => ({
    debtor: t.field({ type: DebtorRef, nullable: true, resolve: (p) => p.debtor ?? null }),
    nationalId: t.string({ nullable: true, description: 'The full national ID number. This reveal is in the audit log.', resolve: (p) => p.nationalId ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('revealDebtorIdentity', (t) =>
  t.field({
    type: RevealDebtorIdentityPayload,
    description: 'The full national ID number, to a supervisor or admin, with a reason; audited.',
    authScopes: { role: [...REVEAL_ROLES] },
    args: { input: t.arg({ type: RevealDebtorIdentityInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        revealDebtorIdentity(ctx, { viewer: ctx.viewer, requestId: ctx.requestId }, { debtorId: input.debtorId.id, reason: input.reason }),
      ),
  }),
);
