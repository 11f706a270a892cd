import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder.ts';
import * as E from '../../generated/prisma/enums.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import { money } from '../../lib/money.ts';
import { agencyVisibility, commissionVisibility, visibleRecords } from '../../auth/scopes.ts';
import { CurrencyCode, MoneyRef, mutationPayload, withUserErrors } from '../common/schema.ts';
import { Bucket } from '../common/enums.ts';
import { AgencyRef } from '../agencies/schema.ts';
import { CaseRef } from '../cases/schema.ts';
import { PaymentRef } from '../repayment/schema.ts';
import { VisitRef } from '../visits/schema.ts';
import type { Line } from './calculate.ts';
import * as service from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const depsOf = (ctx: Context): service.CommissionDeps => ({ prisma: ctx.prisma, clock: ctx.clock });
const READERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'AUDITOR', 'AGENCY_MANAGER'];

export const CommissionLineKind = builder.enumType(E.CommissionLineKind, { name: 'CommissionLineKind' });
export const CommissionDisputeStatus = builder.enumType(E.CommissionDisputeStatus, { name: 'CommissionDisputeStatus' });

interface RateRuleShape {
  bucket?: E.Bucket | null;
  placedFrom?: string | null;
  placedBefore?: string | null;
  rateBps: number;
}
const CommissionRateRule = builder.objectRef<RateRuleShape>('CommissionRateRule').implement({
  description: 'A percentage rule of a fee schedule; the first rule matching the placement applies.',
  fields: (t) => ({
    bucket: t.field({ type: Bucket, nullable: true, description: 'The bucket of the case on the day it was placed with the agency; null: any.', resolve: (r) => r.bucket ?? null }),
    placedFrom: t.field({ type: 'Date', nullable: true, description: 'Placement vintage: placed on or after this day.', resolve: (r) => (r.placedFrom ? new Date(`${r.placedFrom}T00:00:00Z`) : null) }),
    placedBefore: t.field({ type: 'Date', nullable: true, description: 'Placement vintage: placed before this day.', resolve: (r) => (r.placedBefore ? new Date(`${r.placedBefore}T00:00:00Z`) : null) }),
    rateBps: t.exposeInt('rateBps', { description: 'Basis points of the money collected (1500 = 15.00%).' }),
  }),
});

const agencyField = (t: any) =>
  t.field({
    type: AgencyRef,
    nullable: true,
    select: { agencyId: true },
    resolve: (o: { agencyId: string }, _a: unknown, ctx: Context) => ctx.prisma.agency.findFirst({ where: { id: o.agencyId, ...agencyVisibility(ctx.viewer) } }),
  });

export const CommissionScheduleRef = builder.prismaNode('CommissionSchedule', {
  nullable: true,
  id: { field: 'id' },
  description: 'One version of an agency’s fee schedule in one currency, in force from effectiveFrom until the next version. Never changed: a new version is added.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CommissionSchedule(ctx.viewer)] }),
  fields: (t) => ({
    agency: agencyField(t),
    currency: t.exposeString('currency'),
    version: t.exposeInt('version'),
    effectiveFrom: t.expose('effectiveFrom', { type: 'Date' }),
    rates: t.field({ type: [CommissionRateRule], select: { rates: true }, resolve: (s) => s.rates as unknown as RateRuleShape[] }),
    defaultRateBps: t.exposeInt('defaultRateBps'),
    caseMonthlyCap: t.field({ type: MoneyRef, nullable: true, select: { caseMonthlyCap: true, currency: true }, resolve: (s) => (s.caseMonthlyCap === null ? null : money(s.caseMonthlyCap, s.currency)) }),
    monthlyCap: t.field({ type: MoneyRef, nullable: true, select: { monthlyCap: true, currency: true }, resolve: (s) => (s.monthlyCap === null ? null : money(s.monthlyCap, s.currency)) }),
    visitFee: t.field({ type: MoneyRef, select: { visitFee: true, currency: true }, resolve: (s) => money(s.visitFee, s.currency) }),
    note: t.exposeString('note'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const CommissionStatementRef = builder.prismaNode('CommissionStatement', {
  nullable: true,
  id: { field: 'id' },
  description: 'What the bank owes an agency for one month (bank’s zone) in one currency: issued after the month ended, frozen. Disputes resolved in the agency’s favour add ADJUSTMENT lines.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CommissionStatement(ctx.viewer)] }),
  fields: (t) => ({
    agency: agencyField(t),
    currency: t.exposeString('currency'),
    period: t.exposeString('period', { description: 'YYYY-MM' }),
    collected: t.field({ type: MoneyRef, description: 'Money collected in the agency’s era and counted.', select: { collectedAmount: true, currency: true }, resolve: (s) => money(s.collectedAmount, s.currency) }),
    fee: t.field({ type: MoneyRef, description: 'The issued lines’ total (never changes).', select: { feeAmount: true, currency: true }, resolve: (s) => money(s.feeAmount, s.currency) }),
    adjustments: t.field({ type: MoneyRef, select: { adjustmentAmount: true, currency: true }, resolve: (s) => money(s.adjustmentAmount, s.currency) }),
    total: t.field({ type: MoneyRef, description: 'fee + adjustments: what is payable.', select: { feeAmount: true, adjustmentAmount: true, currency: true }, resolve: (s) => money(s.feeAmount + s.adjustmentAmount, s.currency) }),
    issuedAt: t.expose('issuedAt', { type: 'DateTime' }),
    issuedByJob: t.boolean({ select: { issuedById: true }, resolve: (s) => s.issuedById === null }),
    lines: t.relatedConnection('lines', { cursor: 'statementId_seq', totalCount: true, query: { orderBy: { seq: 'asc' } } }),
  }),
});

export const CommissionLineRef = builder.prismaNode('CommissionLine', {
  nullable: true,
  id: { field: 'id' },
  description: 'A line of a statement, traceable to its payment, reversal or visit. Append-only.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CommissionLine(ctx.viewer)] }),
  fields: (t) => ({
    statement: t.relation('statement'),
    seq: t.exposeInt('seq'),
    kind: t.expose('kind', { type: CommissionLineKind }),
    basis: t.field({ type: MoneyRef, description: 'The money the rate applies to (negative for a reversal).', select: { basisAmount: true, statement: { select: { currency: true } } }, resolve: (l) => money(l.basisAmount, l.statement.currency) }),
    rateBps: t.exposeInt('rateBps', { nullable: true }),
    uncappedFee: t.field({ type: MoneyRef, select: { uncappedFee: true, statement: { select: { currency: true } } }, resolve: (l) => money(l.uncappedFee, l.statement.currency) }),
    fee: t.field({ type: MoneyRef, select: { fee: true, statement: { select: { currency: true } } }, resolve: (l) => money(l.fee, l.statement.currency) }),
    scheduleVersion: t.exposeInt('scheduleVersion', { nullable: true }),
    note: t.exposeString('note'),
    // The records behind a line answer through their own rules: a case recalled from the agency is, to it, null here.
    case: t.field({ type: CaseRef, nullable: true, select: { caseId: true }, resolve: (l, _a, ctx) => (l.caseId ? ctx.prisma.case.findFirst({ where: { id: l.caseId, AND: [visibleRecords.Case(ctx.viewer)] } }) : null) }),
    payment: t.field({ type: PaymentRef, nullable: true, select: { paymentId: true }, resolve: (l, _a, ctx) => (l.paymentId ? ctx.prisma.payment.findFirst({ where: { id: l.paymentId, AND: [visibleRecords.Payment(ctx.viewer)] } }) : null) }),
    visit: t.field({ type: VisitRef, nullable: true, select: { visitId: true }, resolve: (l, _a, ctx) => (l.visitId ? ctx.prisma.visit.findFirst({ where: { id: l.visitId, AND: [visibleRecords.Visit(ctx.viewer)] } }) : null) }),
    disputes: t.relation('disputes', { query: { orderBy: { raisedAt: 'asc' } } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(CommissionLineRef, 'adjustsLine', (t) =>
  t.field({
    type: CommissionLineRef,
    nullable: true,
    description: 'ADJUSTMENT: the line it corrects.',
    select: { adjustsLineId: true },
    resolve: (l, _a, ctx) => (l.adjustsLineId ? ctx.prisma.commissionLine.findFirst({ where: { id: l.adjustsLineId, AND: [visibleRecords.CommissionLine(ctx.viewer)] } }) : null),
  }),
);

export const CommissionDisputeRef = builder.prismaNode('CommissionDispute', {
  nullable: true,
  id: { field: 'id' },
  description: 'An agency’s objection to a statement line; the bank upholds it (an ADJUSTMENT line) or rejects it.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.CommissionDispute(ctx.viewer)] }),
  fields: (t) => ({
    line: t.relation('line'),
    reason: t.exposeString('reason'),
    claimedFee: t.field({ type: MoneyRef, nullable: true, select: { claimedFee: true, line: { select: { statement: { select: { currency: true } } } } }, resolve: (d) => (d.claimedFee === null ? null : money(d.claimedFee, d.line.statement.currency)) }),
    status: t.expose('status', { type: CommissionDisputeStatus }),
    raisedAt: t.expose('raisedAt', { type: 'DateTime' }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    resolutionNote: t.exposeString('resolutionNote', { nullable: true }),
  }),
});

builder.prismaObjectField(CommissionDisputeRef, 'adjustmentLine', (t) =>
  t.field({
    type: CommissionLineRef,
    nullable: true,
    select: { adjustmentLineId: true },
    resolve: (d, _a, ctx) => (d.adjustmentLineId ? ctx.prisma.commissionLine.findFirst({ where: { id: d.adjustmentLineId, AND: [visibleRecords.CommissionLine(ctx.viewer)] } }) : null),
  }),
);

const CommissionPreviewLine = builder.objectRef<Line>('CommissionPreviewLine').implement({
  fields: (t) => ({
    kind: t.field({ type: CommissionLineKind, resolve: (l) => l.kind }),
    caseId: t.id({ resolve: (l) => encodeGlobalID('Case', l.caseId) }),
    paymentId: t.id({ nullable: true, resolve: (l) => (l.paymentId ? encodeGlobalID('Payment', l.paymentId) : null) }),
    visitId: t.id({ nullable: true, resolve: (l) => (l.visitId ? encodeGlobalID('Visit', l.visitId) : null) }),
    basisMinorUnits: t.field({ type: 'SafeInt', resolve: (l) => Number(l.basisAmount) }),
    rateBps: t.int({ nullable: true, resolve: (l) => l.rateBps }),
    uncappedFeeMinorUnits: t.field({ type: 'SafeInt', resolve: (l) => Number(l.uncappedFee) }),
    feeMinorUnits: t.field({ type: 'SafeInt', resolve: (l) => Number(l.fee) }),
    scheduleVersion: t.int({ nullable: true, resolve: (l) => l.scheduleVersion }),
    note: t.string({ resolve: (l) => l.note }),
  }),
});

interface PreviewShape {
  period: string;
  currency: string;
  collected: bigint;
  fee: bigint;
  lines: Line[];
}
const CommissionPreview = builder.objectRef<PreviewShape>('CommissionStatementPreview').implement({
  description: 'What a month earns so far, computed now and not stored (the current month included).',
  fields: (t) => ({
    period: t.string({ resolve: (p) => p.period }),
    currency: t.string({ resolve: (p) => p.currency }),
    collected: t.field({ type: MoneyRef, resolve: (p) => money(p.collected, p.currency) }),
    fee: t.field({ type: MoneyRef, resolve: (p) => money(p.fee, p.currency) }),
    lineCount: t.int({ resolve: (p) => p.lines.length }),
    lines: t.field({ type: [CommissionPreviewLine], args: { first: t.arg.int({ required: false, description: 'At most 100 (default 100).' }) }, resolve: (p, a) => p.lines.slice(0, Math.min(Math.max(a.first ?? 100, 0), 100)) }),
  }),
});

builder.queryFields((t) => ({
  commissionStatements: t.prismaConnection(
    {
      type: 'CommissionStatement',
      cursor: 'id',
      description: 'Issued commission statements, newest month first: every agency’s for the bank’s managers and auditors, its own for an agency manager.',
      authScopes: { role: READERS },
      args: { agencyId: t.arg.globalID({ for: [AgencyRef], required: false }), period: t.arg.string({ required: false, description: 'YYYY-MM' }) },
      totalCount: (_p, args, ctx) => ctx.prisma.commissionStatement.count({ where: statementWhere(ctx, args) }),
      resolve: (query, _root, args, ctx) => ctx.prisma.commissionStatement.findMany({ ...query, where: statementWhere(ctx, args), orderBy: [{ period: 'desc' }, { id: 'asc' }] }),
    },
    { name: 'CommissionStatementConnection' },
  ),
  commissionSchedules: t.prismaField({
    type: ['CommissionSchedule'],
    description: 'The versions of an agency’s fee schedule, oldest first (an agency manager: its own agency’s).',
    authScopes: { role: READERS },
    args: { agencyId: t.arg.globalID({ for: [AgencyRef] }), currency: t.arg({ type: CurrencyCode, required: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.commissionSchedule.findMany({
        ...query,
        where: { AND: [commissionVisibility(ctx.viewer), { agencyId: args.agencyId.id }, args.currency ? { currency: args.currency } : {}] },
        orderBy: [{ currency: 'asc' }, { version: 'asc' }],
        take: 200,
      }),
  }),
  commissionStatementPreview: t.field({
    type: CommissionPreview,
    nullable: true,
    description: 'The bank’s preview of a month’s commission, computed now (nothing stored). Null for an unknown agency.',
    authScopes: { role: ['BANK_ADMIN', 'BANK_SUPERVISOR', 'AUDITOR'] },
    args: { agencyId: t.arg.globalID({ for: [AgencyRef] }), currency: t.arg({ type: CurrencyCode }), period: t.arg.string({ description: 'YYYY-MM' }) },
    resolve: async (_r, args, ctx) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(args.period)) return null;
      if (!(await ctx.prisma.agency.count({ where: { id: args.agencyId.id } }))) return null;
      const m = await service.previewCommissionStatement(depsOf(ctx), { agencyId: args.agencyId.id, currency: args.currency, period: args.period });
      return { period: args.period, currency: args.currency, collected: m.collectedAmount, fee: m.feeAmount, lines: m.lines };
    },
  }),
}));

function statementWhere(ctx: Context, args: { agencyId?: { id: string } | null; period?: string | null }) {
  return { AND: [commissionVisibility(ctx.viewer), args.agencyId ? { agencyId: args.agencyId.id } : {}, args.period ? { period: args.period } : {}] };
}

// ---------------------------------------------------------------- mutations

const CommissionRateRuleInput = builder.inputType('CommissionRateRuleInput', {
  fields: (t) => ({
    bucket: t.field({ type: Bucket, required: false }),
    placedFrom: t.field({ type: 'Date', required: false }),
    placedBefore: t.field({ type: 'Date', required: false }),
    rateBps: t.int(),
  }),
});
const SetCommissionScheduleInput = builder.inputType('SetCommissionScheduleInput', {
  fields: (t) => ({
    agencyId: t.globalID({ for: [AgencyRef] }),
    currency: t.field({ type: CurrencyCode }),
    effectiveFrom: t.field({ type: 'Date', description: 'After the latest version and after every month already issued.' }),
    rates: t.field({ type: [CommissionRateRuleInput], description: 'First match wins; at most 50.' }),
    defaultRateBps: t.int(),
    caseMonthlyCap: t.field({ type: 'SafeInt', required: false }),
    monthlyCap: t.field({ type: 'SafeInt', required: false }),
    visitFee: t.field({ type: 'SafeInt', required: false, description: 'Flat fee per completed visit, minor units; default 0.' }),
    note: t.string({ required: false }),
  }),
});
const IssueCommissionStatementInput = builder.inputType('IssueCommissionStatementInput', {
  fields: (t) => ({ agencyId: t.globalID({ for: [AgencyRef] }), currency: t.field({ type: CurrencyCode }), period: t.string({ description: 'YYYY-MM, a month that has ended.' }) }),
});
const DisputeCommissionLineInput = builder.inputType('DisputeCommissionLineInput', {
  fields: (t) => ({ lineId: t.globalID({ for: [CommissionLineRef] }), reason: t.string(), claimedFee: t.field({ type: 'SafeInt', required: false, description: 'What the line should be, minor units.' }) }),
});
const ResolveCommissionDisputeInput = builder.inputType('ResolveCommissionDisputeInput', {
  fields: (t) => ({
    disputeId: t.globalID({ for: [CommissionDisputeRef] }),
    upheld: t.boolean(),
    adjustment: t.field({ type: 'SafeInt', required: false, description: 'Upheld: the change to the statement, minor units (negative takes back).' }),
    note: t.string(),
  }),
});

builder.mutationFields((t) => ({
  setCommissionSchedule: t.field({
    type: mutationPayload('SetCommissionSchedulePayload', 'schedule', CommissionScheduleRef),
    description: 'Adds a version of an agency’s fee schedule (bank admins). Audited.',
    authScopes: { role: [...service.SCHEDULE_SETTERS] },
    args: { input: t.arg({ type: SetCommissionScheduleInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        service.setCommissionSchedule(depsOf(ctx), actorOf(ctx), {
          agencyId: input.agencyId.id,
          currency: input.currency,
          effectiveFrom: input.effectiveFrom,
          rates: input.rates.map((r) => ({ bucket: r.bucket ?? null, placedFrom: r.placedFrom ?? null, placedBefore: r.placedBefore ?? null, rateBps: r.rateBps })),
          defaultRateBps: input.defaultRateBps,
          caseMonthlyCap: input.caseMonthlyCap ?? null,
          monthlyCap: input.monthlyCap ?? null,
          visitFee: input.visitFee ?? null,
          note: input.note ?? null,
        }),
      ),
  }),
  issueCommissionStatement: t.field({
    type: mutationPayload('IssueCommissionStatementPayload', 'statement', CommissionStatementRef),
    description: 'Issues (computes and freezes) an agency’s statement of a month that has ended, on demand; the monthly job does the same for last month.',
    authScopes: { role: [...service.STATEMENT_ISSUERS] },
    args: { input: t.arg({ type: IssueCommissionStatementInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.issueCommissionStatement(depsOf(ctx), actorOf(ctx), { agencyId: input.agencyId.id, currency: input.currency, period: input.period })),
  }),
  disputeCommissionLine: t.field({
    type: mutationPayload('DisputeCommissionLinePayload', 'dispute', CommissionDisputeRef),
    description: 'An agency manager disputes a line of its own statement. Audited.',
    authScopes: { role: [...service.DISPUTE_RAISERS] },
    args: { input: t.arg({ type: DisputeCommissionLineInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.disputeCommissionLine(depsOf(ctx), actorOf(ctx), { lineId: input.lineId.id, reason: input.reason, claimedFee: input.claimedFee ?? null })),
  }),
  resolveCommissionDispute: t.field({
    type: mutationPayload('ResolveCommissionDisputePayload', 'dispute', CommissionDisputeRef),
    description: 'The bank upholds (with an ADJUSTMENT line) or rejects a commission dispute. Audited.',
    authScopes: { role: [...service.STATEMENT_ISSUERS] },
    args: { input: t.arg({ type: ResolveCommissionDisputeInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.resolveCommissionDispute(depsOf(ctx), actorOf(ctx), { disputeId: input.disputeId.id, upheld: input.upheld, adjustment: input.adjustment ?? null, note: input.note })),
  }),
}));
