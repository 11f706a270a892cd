/**
 * The activity reports from the analytics rollup (ActivityRollup, built by rollup.ts): the same
 * figures as collections.ts, activity.ts and scorecards.ts compute from the records, summed from
 * the records' per-day counts as they stood at the rollup's `asOf`. Each row carries the record's
 * era (`agencyId`) and its case's agency and collector at `asOf`, so the viewer's scope is the
 * same SQL as on the records themselves (scope.ts: `caseScopeSql`, `eraSql`).
 *
 * Each `…Report` function answers from the rollup when one is fresh (unless `live`), else live.
 */
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { PaymentChannel, RecallReason, VisitOutcome } from '../../generated/prisma/enums.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { agencyVisibility } from '../../auth/scopes.ts';
import { badUserInput } from '../../lib/errors.ts';
import { caseScopeSql, eraSql, type Interval, type Period } from './scope.ts';
import { MAX_GROUPS } from './portfolio.ts';
import { collections, type CollectionsDimension, type CollectionsReport } from './collections.ts';
import {
  collectorProductivity,
  complianceRow,
  contactCompliance,
  productivityRows,
  promiseStats,
  promiseStatsRow,
  tooMany,
  type ComplianceDimension,
  type ComplianceReport,
  type ComplianceRow,
  type ProductivityReport,
  type PromiseDimension,
  type PromiseStatsReport,
} from './activity.ts';
import { agencyScorecards, assembleScorecards, type ScorecardsReport } from './scorecards.ts';
import { currentRun } from './rollup.ts';
import type { AnalyticsDeps } from './deps.ts';

const NULL_TEXT = Prisma.sql`NULL::text`;

/** Rows of one kind in the period that the viewer sees: their case visible now (as at asOf), and of the viewer's era. */
function rowsSql(viewer: Viewer, runId: string, kind: string | readonly string[], period: Period): Prisma.Sql {
  const kinds = typeof kind === 'string' ? [kind] : kind;
  return Prisma.sql`r."runId" = ${runId}::uuid AND r.kind IN (${Prisma.join([...kinds])}) AND r.day >= ${period.from}::date AND r.day <= ${period.to}::date
    AND ${caseScopeSql(viewer, 'r')} AND ${eraSql(viewer, 'r')}`;
}

const startSql = (interval: Interval) =>
  Prisma.sql`to_char(date_trunc(${interval === 'DAY' ? 'day' : interval === 'WEEK' ? 'week' : 'month'}, r.day::timestamp), 'YYYY-MM-DD')`;
const daySql = Prisma.sql`to_char(r.day, 'YYYY-MM-DD')`;
/** The collector placed when a payment was received, when that placement is of the viewer's era (collectorAtSql). */
const placedCollectorSql = (viewer: Viewer) => Prisma.sql`CASE WHEN ${eraSql(viewer, 'r', 'placedAgencyId')} THEN r."placedCollectorId"::text END`;
const sum = (filter?: Prisma.Sql) => (filter ? Prisma.sql`COALESCE(SUM(r.n) FILTER (WHERE ${filter}), 0)::int` : Prisma.sql`COALESCE(SUM(r.n), 0)::int`);

type Input<T> = T & { period: Period; live?: boolean | null };

async function runFor(deps: AnalyticsDeps, live: boolean | null | undefined) {
  return live ? null : currentRun(deps.prisma, deps.clock.now());
}

export async function collectionsReport(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: Input<{ interval: Interval; groupBy: readonly CollectionsDimension[] }>,
): Promise<CollectionsReport> {
  const run = await runFor(deps, input.live);
  if (!run) return collections(deps, viewer, input);
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: CollectionsDimension) => groupBy.includes(d);
  const rows = await deps.prisma.$queryRaw<
    { start: string; agencyId: string | null; collectorId: string | null; channel: PaymentChannel | null; currency: string; paymentCount: number; amount: string }[]
  >`
    SELECT ${startSql(input.interval)} AS start,
      ${has('AGENCY') ? Prisma.sql`r."agencyId"::text` : NULL_TEXT} AS "agencyId",
      ${has('COLLECTOR') ? placedCollectorSql(viewer) : NULL_TEXT} AS "collectorId",
      ${has('CHANNEL') ? Prisma.sql`r.channel` : NULL_TEXT} AS channel,
      r.currency::text AS currency, ${sum()} AS "paymentCount", SUM(r.amount)::text AS amount
    FROM "ActivityRollup" r
    WHERE ${rowsSql(viewer, run.id, 'PAYMENT', input.period)}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    LIMIT ${MAX_GROUPS + 1}`;
  if (rows.length > MAX_GROUPS) throw badUserInput(`The report has more than ${MAX_GROUPS} points: use a longer interval or group by less.`, { argument: 'groupBy' });
  return {
    asOf: run.asOf,
    source: 'ROLLUP',
    period: input.period,
    interval: input.interval,
    groupBy,
    points: rows.map((r) => ({ ...r, paymentCount: Number(r.paymentCount), amount: BigInt(r.amount) })),
  };
}

export async function promiseStatsReport(deps: AnalyticsDeps, viewer: Viewer, input: Input<{ groupBy: readonly PromiseDimension[] }>): Promise<PromiseStatsReport> {
  const run = await runFor(deps, input.live);
  if (!run) return promiseStats(deps, viewer, input);
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: PromiseDimension) => groupBy.includes(d);
  const decided = Prisma.sql`r.status IN ('KEPT', 'PARTIAL', 'BROKEN')`;
  const status = (s: string) => sum(Prisma.sql`r.status = ${s}`);
  const rows = await deps.prisma.$queryRaw<Record<string, string | number | null>[]>`
    SELECT ${has('DAY') ? daySql : NULL_TEXT} AS day,
      ${has('AGENCY') ? Prisma.sql`r."agencyId"::text` : NULL_TEXT} AS "agencyId",
      ${has('COLLECTOR') ? Prisma.sql`r."whoId"::text` : NULL_TEXT} AS "collectorId",
      r.currency::text AS currency,
      ${sum()} AS made, ${status('OPEN')} AS open, ${status('KEPT')} AS kept, ${status('PARTIAL')} AS partial,
      ${status('BROKEN')} AS broken, ${status('CANCELLED')} AS cancelled, ${status('SUPERSEDED')} AS superseded,
      SUM(r.amount)::text AS "amountMade",
      COALESCE(SUM(r.amount) FILTER (WHERE ${decided}), 0)::text AS "amountDue",
      COALESCE(SUM(r.amount2) FILTER (WHERE ${decided}), 0)::text AS "amountPaid"
    FROM "ActivityRollup" r
    WHERE ${rowsSql(viewer, run.id, 'PROMISE', input.period)}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    LIMIT ${MAX_GROUPS + 1}`;
  tooMany(rows);
  return { asOf: run.asOf, source: 'ROLLUP', period: input.period, groupBy, rows: rows.map(promiseStatsRow) };
}

export async function collectorProductivityReport(deps: AnalyticsDeps, viewer: Viewer, input: Input<{ interval: Interval }>): Promise<ProductivityReport> {
  const run = await runFor(deps, input.live);
  if (!run) return collectorProductivity(deps, viewer, input);
  const { period, interval } = input;
  const q = deps.prisma;
  const [attempts, promises, payments] = await Promise.all([
    q.$queryRaw<{ collectorId: string; start: string; attempts: number; connected: number }[]>`
      SELECT r."whoId"::text AS "collectorId", ${startSql(interval)} AS start, ${sum()} AS attempts, ${sum(Prisma.sql`r.connected`)} AS connected
      FROM "ActivityRollup" r
      WHERE ${rowsSql(viewer, run.id, 'ATTEMPT', period)} AND r."whoId" IS NOT NULL AND r.status = 'COMPLETED'
      GROUP BY 1, 2 LIMIT ${MAX_GROUPS + 1}`,
    q.$queryRaw<{ collectorId: string; start: string; promises: number }[]>`
      SELECT r."whoId"::text AS "collectorId", ${startSql(interval)} AS start, ${sum()} AS promises
      FROM "ActivityRollup" r
      WHERE ${rowsSql(viewer, run.id, 'PROMISE', period)} AND r."whoId" IS NOT NULL
      GROUP BY 1, 2 LIMIT ${MAX_GROUPS + 1}`,
    q.$queryRaw<{ collectorId: string | null; start: string; currency: string; amount: string; payments: number }[]>`
      SELECT * FROM (
        SELECT ${placedCollectorSql(viewer)} AS "collectorId", ${startSql(interval)} AS start, r.currency::text AS currency,
          SUM(r.amount)::text AS amount, ${sum()} AS payments
        FROM "ActivityRollup" r
        WHERE ${rowsSql(viewer, run.id, 'PAYMENT', period)}
        GROUP BY 1, 2, 3
      ) x WHERE x."collectorId" IS NOT NULL LIMIT ${MAX_GROUPS + 1}`,
  ]);
  return { asOf: run.asOf, source: 'ROLLUP', period, interval, rows: productivityRows(attempts, promises, payments) };
}

export async function contactComplianceReport(deps: AnalyticsDeps, viewer: Viewer, input: Input<{ groupBy: readonly ComplianceDimension[] }>): Promise<ComplianceReport> {
  const run = await runFor(deps, input.live);
  if (!run) return contactCompliance(deps, viewer, input);
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: ComplianceDimension) => groupBy.includes(d);
  const rows = await deps.prisma.$queryRaw<ComplianceRow[]>`
    SELECT ${has('RULE') ? Prisma.sql`r.rule` : NULL_TEXT} AS rule,
      ${has('JURISDICTION') ? Prisma.sql`r.jurisdiction` : NULL_TEXT} AS jurisdiction,
      ${has('AGENCY') ? Prisma.sql`r."agencyId"::text` : NULL_TEXT} AS "agencyId",
      ${has('CHANNEL') ? Prisma.sql`r.channel` : NULL_TEXT} AS channel,
      ${has('DAY') ? daySql : NULL_TEXT} AS day,
      ${sum()} AS attempts, ${sum(Prisma.sql`r.status = 'BLOCKED'`)} AS refusals, ${sum(Prisma.sql`r.violation`)} AS violations
    FROM "ActivityRollup" r
    WHERE ${rowsSql(viewer, run.id, 'ATTEMPT', input.period)}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    LIMIT ${MAX_GROUPS + 1}`;
  tooMany(rows);
  return { asOf: run.asOf, source: 'ROLLUP', period: input.period, groupBy, rows: rows.map(complianceRow) };
}

export async function agencyScorecardsReport(deps: AnalyticsDeps, viewer: Viewer, input: Input<object>): Promise<ScorecardsReport> {
  const run = await runFor(deps, input.live);
  if (!run) return agencyScorecards(deps, viewer, input);
  const { period } = input;
  const agencies = await deps.prisma.agency.findMany({ where: agencyVisibility(viewer), select: { id: true }, orderBy: { name: 'asc' } });
  const ids = agencies.map((a) => a.id);
  if (!ids.length) return { asOf: run.asOf, source: 'ROLLUP', period, scorecards: [] };
  const inIds = (column: string) => Prisma.sql`${Prisma.raw(`r."${column}"`)} IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})`;
  const of = (kind: string, column = 'agencyId') => Prisma.sql`${rowsSql(viewer, run.id, kind, period)} AND ${inIds(column)}`;
  const q: Pick<PrismaClient, '$queryRaw'> = deps.prisma;
  const [placed, collected, promises, contact, visits, attempts, recalls, complaints] = await Promise.all([
    q.$queryRaw<{ agencyId: string; currency: string; caseCount: number; balance: string }[]>`
      SELECT r."assignedAgencyId"::text AS "agencyId", r.currency::text AS currency, SUM(r."caseCount")::int AS "caseCount", SUM(r.overdue)::text AS balance
      FROM "PortfolioRollup" r
      WHERE r."runId" = ${run.id}::uuid AND ${inIds('assignedAgencyId')} AND ${caseScopeSql(viewer, 'r')}
      GROUP BY 1, 2`,
    q.$queryRaw<{ agencyId: string; currency: string; amount: string; payments: number }[]>`
      SELECT r."agencyId"::text AS "agencyId", r.currency::text AS currency, SUM(r.amount)::text AS amount, ${sum()} AS payments
      FROM "ActivityRollup" r WHERE ${of('PAYMENT')} GROUP BY 1, 2`,
    q.$queryRaw<{ agencyId: string; made: number; kept: number; partial: number; broken: number }[]>`
      SELECT r."agencyId"::text AS "agencyId", ${sum()} AS made, ${sum(Prisma.sql`r.status = 'KEPT'`)} AS kept,
        ${sum(Prisma.sql`r.status = 'PARTIAL'`)} AS partial, ${sum(Prisma.sql`r.status = 'BROKEN'`)} AS broken
      FROM "ActivityRollup" r WHERE ${of('PROMISE')} GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; started: number; contacted: number; days: string | null }[]>`
      SELECT r."agencyId"::text AS "agencyId", ${sum()} AS started, SUM(r.amount)::int AS contacted, SUM(r.days)::text AS days
      FROM "ActivityRollup" r WHERE ${of('PLACEMENT')} GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; outcome: VisitOutcome | null; count: number }[]>`
      SELECT r."agencyId"::text AS "agencyId", r.label AS outcome, ${sum()} AS count
      FROM "ActivityRollup" r WHERE ${of('VISIT')} GROUP BY 1, 2 ORDER BY 1, 2`,
    q.$queryRaw<{ agencyId: string; violations: number; refusals: number }[]>`
      SELECT r."agencyId"::text AS "agencyId", ${sum(Prisma.sql`r.violation`)} AS violations, ${sum(Prisma.sql`r.status = 'BLOCKED'`)} AS refusals
      FROM "ActivityRollup" r WHERE ${of('ATTEMPT')} GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; reason: RecallReason; count: number }[]>`
      SELECT r."agencyId"::text AS "agencyId", r.label AS reason, ${sum()} AS count
      FROM "ActivityRollup" r WHERE ${of('RECALL')} GROUP BY 1, 2 ORDER BY 1, 2`,
    q.$queryRaw<{ agencyId: string; received: number; upheld: number }[]>`
      SELECT r."whoId"::text AS "agencyId", ${sum(Prisma.sql`r.kind = 'COMPLAINT'`)} AS received, ${sum(Prisma.sql`r.kind = 'COMPLAINT_UPHELD'`)} AS upheld
      FROM "ActivityRollup" r
      WHERE ${rowsSql(viewer, run.id, ['COMPLAINT', 'COMPLAINT_UPHELD'], period)} AND ${inIds('whoId')}
      GROUP BY 1`,
  ]);
  return { asOf: run.asOf, source: 'ROLLUP', period, scorecards: assembleScorecards(ids, { placed, collected, promises, contact, visits, attempts, recalls, complaints }) };
}
