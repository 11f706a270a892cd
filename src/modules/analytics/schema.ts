/**
 * The analytics of the book (issue 14): thin resolvers over the services of this module. Every
 * report is scoped to the viewer by scope.ts: an agency sees the cases it holds and the records of
 * its own era, a bank collector their own cases.
 */
import DataLoader from 'dataloader';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { agencyVisibility, userVisibility } from '../../auth/scopes.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef, CurrencyCode, CURRENCY_CODES } from '../common/schema.ts';
import { Bucket, CaseStage, CaseStatus, ContactChannel, Jurisdiction, PaymentChannel } from '../common/enums.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';
import { CaseFilter, toFilter } from '../cases/schema.ts';
import { periodOf, type Period } from './scope.ts';
import { dateOnly } from '../../lib/time.ts';
import { PORTFOLIO_DIMENSIONS, type PortfolioGroup, type PortfolioReport } from './portfolio.ts';
import { COLLECTIONS_DIMENSIONS, type CollectionsPoint, type CollectionsReport } from './collections.ts';
import {
  COMPLIANCE_DIMENSIONS,
  PROMISE_DIMENSIONS,
  type ComplianceReport,
  type ComplianceRow,
  type ProductivityReport,
  type ProductivityRow,
  type PromiseStatsReport,
  type PromiseStatsRow,
} from './activity.ts';
import { cureRates, type CureRate, type RollCell, type RollRatesReport } from './roll-rates.ts';
import { type AgencyScorecard, type ScorecardsReport } from './scorecards.ts';
import { portfolioReport, rollRatesReport } from './rollup.ts';
import { agencyScorecardsReport, collectionsReport, collectorProductivityReport, contactComplianceReport, promiseStatsReport } from './rollup-activity.ts';
import { RecallReason, VisitOutcome } from '../common/enums.ts';
import type { AnalyticsDeps } from './deps.ts';

export function analyticsDeps(ctx: Context): AnalyticsDeps {
  return { prisma: ctx.prisma, clock: ctx.clock, search: { prisma: ctx.prisma, blindIndex: (id: string) => ctx.pii.blindIndex(id) } };
}

// ---------------------------------------------------------------- shared pieces

type Currency = (typeof CURRENCY_CODES)[number];

export const ReportPeriod = builder.inputType('ReportPeriod', {
  description: 'Calendar days in the bank’s zone (Asia/Shanghai), both included; at most 1,096 days. Absent: the month to date.',
  fields: (t) => ({
    from: t.field({ type: 'Date' }),
    to: t.field({ type: 'Date' }),
  }),
});

export const ReportInterval = builder.enumType('ReportInterval', {
  description: 'Calendar days, weeks (Monday first) or months, in the bank’s zone.',
  values: ['DAY', 'WEEK', 'MONTH'] as const,
});

/** One loader per request: the agencies and users named by report rows, each read once, as the viewer may see them. */
const loaders = new WeakMap<Context, { agency: DataLoader<string, unknown>; user: DataLoader<string, unknown> }>();
function loadersOf(ctx: Context) {
  let l = loaders.get(ctx);
  if (!l) {
    l = {
      agency: new DataLoader(async (ids: readonly string[]) => {
        const rows = await ctx.prisma.agency.findMany({ where: { id: { in: [...ids] }, ...agencyVisibility(ctx.viewer) } });
        return ids.map((id) => rows.find((r) => r.id === id) ?? null);
      }),
      user: new DataLoader(async (ids: readonly string[]) => {
        const rows = await ctx.prisma.user.findMany({ where: { id: { in: [...ids] }, ...userVisibility(ctx.viewer) } });
        return ids.map((id) => rows.find((r) => r.id === id) ?? null);
      }),
    };
    loaders.set(ctx, l);
  }
  return l;
}
export const loadAgency = (ctx: Context, id: string | null) => (id ? (loadersOf(ctx).agency.load(id) as Promise<never>) : null);
export const loadUser = (ctx: Context, id: string | null) => (id ? (loadersOf(ctx).user.load(id) as Promise<never>) : null);

export const ReportSource = builder.enumType('ReportSource', {
  description: 'LIVE: read from the tables when asked (asOf is then). ROLLUP: from the analytics rollup made at asOf by the analytics-rollup job (at most 26 hours old).',
  values: ['LIVE', 'ROLLUP'] as const,
});

const LIVE_ARG_DESCRIPTION =
  'Read the tables now instead of the latest analytics rollup (slower on a large book). Without it the rollup answers when it is at most 26 hours old (and, for a case filter, when it uses only stage, status, bucket, agency and collector); `source` and `asOf` say which answered.';

const periodFields = <T extends { asOf: Date; period: Period; source: 'LIVE' | 'ROLLUP' }>(t: any) => ({
  asOf: t.field({ type: 'DateTime', description: 'The instant the figures stand at: when they were read (LIVE), or when the rollup was made (ROLLUP).', resolve: (r: T) => r.asOf }),
  source: t.field({ type: ReportSource, resolve: (r: T) => r.source }),
  from: t.field({ type: 'Date', description: 'First day of the period.', resolve: (r: T) => r.period.from }),
  to: t.field({ type: 'Date', description: 'Last day of the period.', resolve: (r: T) => r.period.to }),
});

// ---------------------------------------------------------------- portfolio

export const PortfolioDimension = builder.enumType('PortfolioDimension', {
  description: 'What a portfolio is grouped by. PLACEMENT_MONTH: the month (bank’s zone) the current placement started.',
  values: PORTFOLIO_DIMENSIONS,
});

const PortfolioGroupRef = builder.objectRef<PortfolioGroup>('PortfolioGroup').implement({
  description: 'The cases of one group in one currency. A key field is null when the report is not grouped by it (or the case has none: an unplaced case has no agency).',
  fields: (t) => ({
    bucket: t.field({ type: Bucket, nullable: true, resolve: (g) => g.key.bucket }),
    stage: t.field({ type: CaseStage, nullable: true, resolve: (g) => g.key.stage }),
    status: t.field({ type: CaseStatus, nullable: true, resolve: (g) => g.key.status }),
    agency: t.field({ type: AgencyRef, nullable: true, resolve: (g, _a, ctx) => loadAgency(ctx, g.key.agencyId) }),
    collector: t.field({ type: UserRef, nullable: true, resolve: (g, _a, ctx) => loadUser(ctx, g.key.collectorId) }),
    jurisdiction: t.field({ type: Jurisdiction, nullable: true, resolve: (g) => g.key.jurisdiction }),
    product: t.string({ nullable: true, resolve: (g) => g.key.product }),
    placementMonth: t.string({ nullable: true, description: 'YYYY-MM.', resolve: (g) => g.key.placementMonth }),
    currency: t.field({ type: CurrencyCode, resolve: (g) => g.currency as Currency }),
    caseCount: t.int({ resolve: (g) => g.caseCount }),
    overdue: t.field({ type: MoneyRef, resolve: (g) => money(g.overdue, g.currency) }),
    principal: t.field({ type: MoneyRef, resolve: (g) => money(g.principal, g.currency) }),
    interest: t.field({ type: MoneyRef, resolve: (g) => money(g.interest, g.currency) }),
    fees: t.field({ type: MoneyRef, resolve: (g) => money(g.fees, g.currency) }),
    collected: t.field({ type: MoneyRef, description: 'Payments received in the period (reversed ones excluded).', resolve: (g) => money(g.collected, g.currency) }),
    promisedOpen: t.field({ type: MoneyRef, description: 'What open promises still await (amount − paid).', resolve: (g) => money(g.promisedOpen, g.currency) }),
  }),
});

const PortfolioRef = builder.objectRef<PortfolioReport>('Portfolio').implement({
  fields: (t) => ({
    ...periodFields<PortfolioReport>(t),
    groupBy: t.field({ type: [PortfolioDimension], resolve: (r) => r.groupBy }),
    groups: t.field({ type: [PortfolioGroupRef], resolve: (r) => r.groups }),
  }),
});

// ---------------------------------------------------------------- collections

const CollectionsDimension = builder.enumType('CollectionsDimension', {
  description: 'AGENCY: the agency whose era the payment was recorded in; COLLECTOR: the collector placed on the case when it was received.',
  values: COLLECTIONS_DIMENSIONS,
});

const CollectionsPointRef = builder.objectRef<CollectionsPoint>('CollectionsPoint').implement({
  fields: (t) => ({
    start: t.field({ type: 'Date', description: 'First day of the interval.', resolve: (p) => p.start }),
    agency: t.field({ type: AgencyRef, nullable: true, resolve: (p, _a, ctx) => loadAgency(ctx, p.agencyId) }),
    collector: t.field({ type: UserRef, nullable: true, resolve: (p, _a, ctx) => loadUser(ctx, p.collectorId) }),
    channel: t.field({ type: PaymentChannel, nullable: true, resolve: (p) => p.channel }),
    currency: t.field({ type: CurrencyCode, resolve: (p) => p.currency as Currency }),
    paymentCount: t.int({ resolve: (p) => p.paymentCount }),
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.currency) }),
  }),
});

const CollectionsRef = builder.objectRef<CollectionsReport>('Collections').implement({
  fields: (t) => ({
    ...periodFields<CollectionsReport>(t),
    interval: t.field({ type: ReportInterval, resolve: (r) => r.interval }),
    groupBy: t.field({ type: [CollectionsDimension], resolve: (r) => r.groupBy }),
    points: t.field({ type: [CollectionsPointRef], resolve: (r) => r.points }),
  }),
});

// ---------------------------------------------------------------- promises, productivity, compliance

/** A share as a number from 0 to 1, from exact integers; null when there is nothing to divide by. */
export function ratio(part: bigint | number, whole: bigint | number): number | null {
  const w = BigInt(whole);
  if (w === 0n) return null;
  // Exact to 1e-9: integer division first, a float only at the end.
  return Number((BigInt(part) * 1_000_000_000n) / w) / 1e9;
}

const PromiseDimension = builder.enumType('PromiseDimension', {
  description: 'AGENCY: the agency whose era the promise was recorded in; COLLECTOR: who captured it; DAY: the day it was recorded.',
  values: PROMISE_DIMENSIONS,
});

const PromiseStatsRowRef = builder.objectRef<PromiseStatsRow>('PromiseStatsRow').implement({
  description: 'Promises recorded in the period, and where they stand now. Kept rates count the promises that ended (kept, partly kept, broken).',
  fields: (t) => ({
    day: t.field({ type: 'Date', nullable: true, resolve: (r) => r.day }),
    agency: t.field({ type: AgencyRef, nullable: true, resolve: (r, _a, ctx) => loadAgency(ctx, r.agencyId) }),
    collector: t.field({ type: UserRef, nullable: true, resolve: (r, _a, ctx) => loadUser(ctx, r.collectorId) }),
    currency: t.field({ type: CurrencyCode, resolve: (r) => r.currency as Currency }),
    made: t.int({ resolve: (r) => r.made }),
    open: t.int({ resolve: (r) => r.open }),
    kept: t.int({ resolve: (r) => r.kept }),
    partial: t.int({ resolve: (r) => r.partial }),
    broken: t.int({ resolve: (r) => r.broken }),
    cancelled: t.int({ description: 'Withdrawn: ended without a verdict.', resolve: (r) => r.cancelled }),
    superseded: t.int({ description: 'Closed by a repayment plan approved after them (payments then go to the instalments): no verdict either.', resolve: (r) => r.superseded }),
    amountMade: t.field({ type: MoneyRef, resolve: (r) => money(r.amountMade, r.currency) }),
    amountDue: t.field({ type: MoneyRef, description: 'Promised by the promises that ended.', resolve: (r) => money(r.amountDue, r.currency) }),
    amountPaid: t.field({ type: MoneyRef, description: 'Paid against the promises that ended.', resolve: (r) => money(r.amountPaid, r.currency) }),
    keptRateByCount: t.float({ nullable: true, description: 'kept / (kept + partial + broken).', resolve: (r) => ratio(r.kept, r.kept + r.partial + r.broken) }),
    keptRateByAmount: t.float({ nullable: true, description: 'amountPaid / amountDue.', resolve: (r) => ratio(r.amountPaid, r.amountDue) }),
  }),
});

const PromiseStatsRef = builder.objectRef<PromiseStatsReport>('PromiseStats').implement({
  fields: (t) => ({
    ...periodFields<PromiseStatsReport>(t),
    groupBy: t.field({ type: [PromiseDimension], resolve: (r) => r.groupBy }),
    rows: t.field({ type: [PromiseStatsRowRef], resolve: (r) => r.rows }),
  }),
});

const CollectedRef = builder.objectRef<ProductivityRow['collected'][number]>('CollectedAmount').implement({
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (c) => money(c.amount, c.currency) }),
    payments: t.int({ resolve: (c) => c.payments }),
  }),
});

const ProductivityRowRef = builder.objectRef<ProductivityRow>('CollectorProductivityRow').implement({
  fields: (t) => ({
    collector: t.field({ type: UserRef, nullable: true, description: 'Null only if the viewer may not see this user.', resolve: (r, _a, ctx) => loadUser(ctx, r.collectorId) }),
    start: t.field({ type: 'Date', description: 'First day of the interval.', resolve: (r) => r.start }),
    attempts: t.int({ description: 'Contact attempts made (refused ones are in contactCompliance).', resolve: (r) => r.attempts }),
    rightPartyContacts: t.int({ description: 'Attempts that reached the debtor.', resolve: (r) => r.rightPartyContacts }),
    promises: t.int({ description: 'Promises to pay captured.', resolve: (r) => r.promises }),
    collected: t.field({ type: [CollectedRef], description: 'Payments received while the collector was placed on the case, per currency.', resolve: (r) => r.collected }),
  }),
});

const ProductivityRef = builder.objectRef<ProductivityReport>('CollectorProductivity').implement({
  fields: (t) => ({
    ...periodFields<ProductivityReport>(t),
    interval: t.field({ type: ReportInterval, resolve: (r) => r.interval }),
    rows: t.field({ type: [ProductivityRowRef], resolve: (r) => r.rows }),
  }),
});

const ComplianceDimension = builder.enumType('ComplianceDimension', {
  description: 'RULE: the contact-policy rule that refused or was broken; JURISDICTION: the debtor’s; AGENCY: the era the attempt was recorded in.',
  values: COMPLIANCE_DIMENSIONS,
});

const ComplianceRowRef = builder.objectRef<ComplianceRow>('ContactComplianceRow').implement({
  fields: (t) => ({
    rule: t.string({ nullable: true, resolve: (r) => r.rule }),
    jurisdiction: t.field({ type: Jurisdiction, nullable: true, resolve: (r) => r.jurisdiction }),
    agency: t.field({ type: AgencyRef, nullable: true, resolve: (r, _a, ctx) => loadAgency(ctx, r.agencyId) }),
    channel: t.field({ type: ContactChannel, nullable: true, resolve: (r) => r.channel }),
    day: t.field({ type: 'Date', nullable: true, resolve: (r) => r.day }),
    attempts: t.int({ description: 'Attempts recorded, completed or refused.', resolve: (r) => r.attempts }),
    refusals: t.int({ description: 'Refused by the contact policy (BLOCKED).', resolve: (r) => r.refusals }),
    violations: t.int({ description: 'Recorded as breaking a rule.', resolve: (r) => r.violations }),
  }),
});

const ComplianceRef = builder.objectRef<ComplianceReport>('ContactCompliance').implement({
  fields: (t) => ({
    ...periodFields<ComplianceReport>(t),
    groupBy: t.field({ type: [ComplianceDimension], resolve: (r) => r.groupBy }),
    rows: t.field({ type: [ComplianceRowRef], resolve: (r) => r.rows }),
  }),
});

// ---------------------------------------------------------------- roll rates

const RollCellRef = builder.objectRef<RollCell>('RollRateCell').implement({
  description: 'The cases of one currency in `fromBucket` when the month began, and where they stood when it ended.',
  fields: (t) => ({
    month: t.string({ description: 'YYYY-MM.', resolve: (c) => c.month }),
    fromBucket: t.field({ type: Bucket, resolve: (c) => c.fromBucket as never }),
    toState: t.string({ description: 'A bucket (M1 … M6_PLUS), RESOLVED (paid in full) or CLOSED.', resolve: (c) => c.toState }),
    currency: t.field({ type: CurrencyCode, resolve: (c) => c.currency as Currency }),
    caseCount: t.int({ resolve: (c) => c.caseCount }),
    overdueNow: t.field({ type: MoneyRef, description: 'The overdue amount of these cases now (the history records buckets, not balances).', resolve: (c) => money(c.overdueNow, c.currency) }),
  }),
});

const CureRateRef = builder.objectRef<CureRate>('CureRate').implement({
  fields: (t) => ({
    month: t.string({ resolve: (c) => c.month }),
    fromBucket: t.field({ type: Bucket, resolve: (c) => c.fromBucket as never }),
    caseCount: t.int({ resolve: (c) => c.caseCount }),
    resolved: t.int({ resolve: (c) => c.resolved }),
    rolledForward: t.int({ description: 'Moved to a later bucket.', resolve: (c) => c.rolledForward }),
    cureRate: t.float({ nullable: true, description: 'resolved / caseCount.', resolve: (c) => ratio(c.resolved, c.caseCount) }),
    rollRate: t.float({ nullable: true, description: 'rolledForward / caseCount.', resolve: (c) => ratio(c.rolledForward, c.caseCount) }),
  }),
});

const RollRatesRef = builder.objectRef<RollRatesReport>('RollRates').implement({
  fields: (t) => ({
    asOf: t.field({ type: 'DateTime', description: 'The instant the figures stand at: now (LIVE) or the rollup’s (ROLLUP).', resolve: (r) => r.asOf }),
    source: t.field({ type: ReportSource, resolve: (r) => r.source }),
    fromMonth: t.string({ resolve: (r) => r.fromMonth }),
    toMonth: t.string({ resolve: (r) => r.toMonth }),
    cells: t.field({ type: [RollCellRef], resolve: (r) => r.cells }),
    cureRates: t.field({ type: [CureRateRef], description: 'Per month and starting bucket, over every currency.', resolve: (r) => cureRates(r.cells) }),
  }),
});

// ---------------------------------------------------------------- agency scorecards

type Placed = AgencyScorecard['placed'][number];
const PlacedBalanceRef = builder.objectRef<Placed>('PlacedBalance').implement({
  fields: (t) => ({
    caseCount: t.int({ resolve: (p) => p.caseCount }),
    balance: t.field({ type: MoneyRef, resolve: (p) => money(p.balance, p.currency) }),
  }),
});

const RecoveryRef = builder.objectRef<{ currency: string; collected: bigint; placed: bigint }>('RecoveryRate').implement({
  fields: (t) => ({
    currency: t.field({ type: CurrencyCode, resolve: (r) => r.currency as Currency }),
    rate: t.float({ nullable: true, description: 'collected ÷ (collected + placed balance).', resolve: (r) => ratio(r.collected, r.collected + r.placed) }),
  }),
});

const VisitCountRef = builder.objectRef<AgencyScorecard['visits'][number]>('VisitOutcomeCount').implement({
  fields: (t) => ({
    outcome: t.field({ type: VisitOutcome, nullable: true, resolve: (v) => v.outcome }),
    count: t.int({ resolve: (v) => v.count }),
  }),
});

const RecallCountRef = builder.objectRef<AgencyScorecard['recalls'][number]>('RecallReasonCount').implement({
  fields: (t) => ({
    reason: t.field({ type: RecallReason, resolve: (v) => v.reason }),
    count: t.int({ resolve: (v) => v.count }),
  }),
});

const ScorecardRef = builder.objectRef<AgencyScorecard>('AgencyScorecard').implement({
  fields: (t) => ({
    agency: t.field({ type: AgencyRef, resolve: (s, _a, ctx) => loadAgency(ctx, s.agencyId) as never }),
    placed: t.field({ type: [PlacedBalanceRef], description: 'Cases placed with the agency now, per currency.', resolve: (s) => s.placed }),
    collected: t.field({ type: [CollectedRef], description: 'Received in the period in the agency’s era (reversed ones excluded).', resolve: (s) => s.collected }),
    recoveryRates: t.field({
      type: [RecoveryRef],
      resolve: (s) => {
        const currencies = [...new Set([...s.placed.map((p) => p.currency), ...s.collected.map((c) => c.currency)])].sort();
        return currencies.map((currency) => ({
          currency,
          collected: s.collected.find((c) => c.currency === currency)?.amount ?? 0n,
          placed: s.placed.find((p) => p.currency === currency)?.balance ?? 0n,
        }));
      },
    }),
    promisesMade: t.int({ resolve: (s) => s.promises.made }),
    promisesKept: t.int({ resolve: (s) => s.promises.kept }),
    promisesPartlyKept: t.int({ resolve: (s) => s.promises.partial }),
    promisesBroken: t.int({ resolve: (s) => s.promises.broken }),
    promiseKeptRate: t.float({ nullable: true, description: 'kept / (kept + partly kept + broken).', resolve: (s) => ratio(s.promises.kept, s.promises.kept + s.promises.partial + s.promises.broken) }),
    placementsStarted: t.int({ description: 'Placements with the agency that started in the period.', resolve: (s) => s.placementsStarted }),
    placementsContacted: t.int({ description: 'Of which the agency has made a completed contact attempt since.', resolve: (s) => s.placementsContacted }),
    averageDaysToFirstContact: t.float({
      nullable: true,
      description: 'Over the placements contacted: days from the placement’s start to the first completed contact attempt.',
      resolve: (s) => (s.placementsContacted ? Math.round((s.daysToFirstContactTotal / s.placementsContacted) * 1000) / 1000 : null),
    }),
    visits: t.field({ type: [VisitCountRef], description: 'Visits completed in the period, by outcome.', resolve: (s) => s.visits }),
    violations: t.int({ description: 'Contact attempts recorded as breaking a rule.', resolve: (s) => s.violations }),
    refusals: t.int({ description: 'Contact attempts refused by the contact policy.', resolve: (s) => s.refusals }),
    complaints: t.int({ description: 'Complaints against the agency or its collectors received in the period.', resolve: (s) => s.complaints.received }),
    complaintsUpheld: t.int({ description: 'Complaints against the agency or its collectors that the bank upheld in the period.', resolve: (s) => s.complaints.upheld }),
    recalls: t.field({ type: [RecallCountRef], description: 'Cases recalled in the period, by reason.', resolve: (s) => s.recalls }),
  }),
});

const ScorecardsRef = builder.objectRef<ScorecardsReport>('AgencyScorecards').implement({
  fields: (t) => ({
    ...periodFields<ScorecardsReport>(t),
    scorecards: t.field({ type: [ScorecardRef], resolve: (r) => r.scorecards }),
  }),
});

// ---------------------------------------------------------------- queries

builder.queryFields((t) => ({
  portfolio: t.field({
    type: PortfolioRef,
    description: 'Counts and exact sums of the viewer’s cases per currency, grouped by the dimensions given (none: the totals).',
    authScopes: { authenticated: true },
    args: {
      filter: t.arg({ type: CaseFilter, required: false }),
      groupBy: t.arg({ type: [PortfolioDimension] }),
      period: t.arg({ type: ReportPeriod, required: false, description: 'The period of `collected`.' }),
      live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }),
    },
    resolve: (_r, args, ctx) =>
      portfolioReport(analyticsDeps(ctx), ctx.viewer, { filter: toFilter(args.filter), groupBy: args.groupBy, period: periodOf(args.period, ctx.clock.now()), live: args.live }),
  }),
  collections: t.field({
    type: CollectionsRef,
    description: 'Money collected over time: payments received, per interval and currency (reversed ones excluded).',
    authScopes: { authenticated: true },
    args: {
      period: t.arg({ type: ReportPeriod, required: false }),
      interval: t.arg({ type: ReportInterval, defaultValue: 'DAY' }),
      groupBy: t.arg({ type: [CollectionsDimension], defaultValue: [] }),
      live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }),
    },
    resolve: (_r, args, ctx) =>
      collectionsReport(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), interval: args.interval, groupBy: args.groupBy, live: args.live }),
  }),
  promiseStats: t.field({
    type: PromiseStatsRef,
    description: 'Promises to pay recorded in the period: how many were kept, partly kept, broken; kept rates by count and by money.',
    authScopes: { authenticated: true },
    args: { period: t.arg({ type: ReportPeriod, required: false }), groupBy: t.arg({ type: [PromiseDimension], defaultValue: [] }), live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }) },
    resolve: (_r, args, ctx) => promiseStatsReport(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), groupBy: args.groupBy, live: args.live }),
  }),
  collectorProductivity: t.field({
    type: ProductivityRef,
    description: 'Per collector and interval: attempts, right-party contacts, promises, money collected.',
    authScopes: { authenticated: true },
    args: { period: t.arg({ type: ReportPeriod, required: false }), interval: t.arg({ type: ReportInterval, defaultValue: 'DAY' }), live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }) },
    resolve: (_r, args, ctx) =>
      collectorProductivityReport(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), interval: args.interval, live: args.live }),
  }),
  contactCompliance: t.field({
    type: ComplianceRef,
    description: 'Contact attempts, refusals by the contact policy and recorded violations, by rule, jurisdiction, agency, channel or day.',
    authScopes: { authenticated: true },
    args: { period: t.arg({ type: ReportPeriod, required: false }), groupBy: t.arg({ type: [ComplianceDimension], defaultValue: [] }), live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }) },
    resolve: (_r, args, ctx) => contactComplianceReport(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), groupBy: args.groupBy, live: args.live }),
  }),
  rollRates: t.field({
    type: RollRatesRef,
    description: 'Month over month, from the recorded bucket history: where the cases of each bucket went (matrix), and cure rates.',
    authScopes: { authenticated: true },
    args: {
      from: t.arg({ type: 'Date' }),
      to: t.arg({ type: 'Date' }),
      filter: t.arg({ type: CaseFilter, required: false }),
      live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }),
    },
    resolve: (_r, args, ctx) =>
      rollRatesReport(analyticsDeps(ctx), ctx.viewer, { from: dateOnly(args.from), to: dateOnly(args.to), filter: toFilter(args.filter), live: args.live }),
  }),
  agencyScorecards: t.field({
    type: ScorecardsRef,
    description: 'Each partner agency side by side (an agency sees its own).',
    authScopes: { authenticated: true },
    args: { period: t.arg({ type: ReportPeriod, required: false }), live: t.arg.boolean({ required: false, description: LIVE_ARG_DESCRIPTION }) },
    resolve: (_r, args, ctx) => agencyScorecardsReport(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), live: args.live }),
  }),
}));
