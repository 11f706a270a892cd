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
import { Bucket, CaseStage, CaseStatus, Jurisdiction, PaymentChannel } from '../common/enums.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';
import { CaseFilter, toFilter } from '../cases/schema.ts';
import { periodOf, type Period } from './scope.ts';
import { portfolio, PORTFOLIO_DIMENSIONS, type PortfolioGroup, type PortfolioReport } from './portfolio.ts';
import { collections, COLLECTIONS_DIMENSIONS, type CollectionsPoint, type CollectionsReport } from './collections.ts';
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

const periodFields = <T extends { asOf: Date; period: Period }>(t: any) => ({
  asOf: t.field({ type: 'DateTime', description: 'When the figures were read.', resolve: (r: T) => r.asOf }),
  from: t.field({ type: 'Date', description: 'First day of the period.', resolve: (r: T) => r.period.from }),
  to: t.field({ type: 'Date', description: 'Last day of the period.', resolve: (r: T) => r.period.to }),
});

// ---------------------------------------------------------------- portfolio

const PortfolioDimension = builder.enumType('PortfolioDimension', {
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
    },
    resolve: (_r, args, ctx) =>
      portfolio(analyticsDeps(ctx), ctx.viewer, { filter: toFilter(args.filter), groupBy: args.groupBy, period: periodOf(args.period, ctx.clock.now()) }),
  }),
  collections: t.field({
    type: CollectionsRef,
    description: 'Money collected over time: payments received, per interval and currency (reversed ones excluded).',
    authScopes: { authenticated: true },
    args: {
      period: t.arg({ type: ReportPeriod, required: false }),
      interval: t.arg({ type: ReportInterval, defaultValue: 'DAY' }),
      groupBy: t.arg({ type: [CollectionsDimension], defaultValue: [] }),
    },
    resolve: (_r, args, ctx) =>
      collections(analyticsDeps(ctx), ctx.viewer, { period: periodOf(args.period, ctx.clock.now()), interval: args.interval, groupBy: args.groupBy }),
  }),
}));
