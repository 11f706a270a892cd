/**
 * What collectors did in a period: promises and how they ended (promiseStats), the work of each
 * collector per day (collectorProductivity), and the contact policy's refusals and recorded
 * violations (contactCompliance). Each is SQL over the records the viewer sees (their case
 * visible now, and of the viewer's era: scope.ts).
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { ContactChannel, Jurisdiction } from '../../generated/prisma/enums.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { badUserInput } from '../../lib/errors.ts';
import { BANK_TIME_ZONE } from '../../lib/time.ts';
import { inPeriodSql, intervalStartSql, recordScopeSql, type Interval, type Period } from './scope.ts';
import { collectorAtSql } from './collections.ts';
import { MAX_GROUPS } from './portfolio.ts';
import type { AnalyticsDeps } from './deps.ts';

const dayOf = (alias: string, column: string) => Prisma.sql`to_char(${Prisma.raw(`${alias}."${column}"`)} AT TIME ZONE ${BANK_TIME_ZONE}, 'YYYY-MM-DD')`;

export function tooMany(rows: unknown[]): void {
  if (rows.length > MAX_GROUPS) throw badUserInput(`The report has more than ${MAX_GROUPS} rows: group by less or shorten the period.`, { argument: 'groupBy' });
}

// ---------------------------------------------------------------- promiseStats

export const PROMISE_DIMENSIONS = ['AGENCY', 'COLLECTOR', 'DAY'] as const;
export type PromiseDimension = (typeof PROMISE_DIMENSIONS)[number];

export interface PromiseStatsRow {
  day: string | null;
  agencyId: string | null;
  collectorId: string | null;
  currency: string;
  made: number;
  open: number;
  kept: number;
  partial: number;
  broken: number;
  cancelled: number;
  /** Closed by a repayment plan approved after them. */
  superseded: number;
  amountMade: bigint;
  /** Promised by the promises that ended kept, partly kept or broken. */
  amountDue: bigint;
  /** Paid against those promises. */
  amountPaid: bigint;
}

export interface PromiseStatsReport {
  asOf: Date;
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  groupBy: PromiseDimension[];
  rows: PromiseStatsRow[];
}

/** Promises made in the period (by the day they were recorded) and where they stand now. */
export async function promiseStats(deps: AnalyticsDeps, viewer: Viewer, input: { period: Period; groupBy: readonly PromiseDimension[] }): Promise<PromiseStatsReport> {
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: PromiseDimension) => groupBy.includes(d);
  const decided = Prisma.sql`t.status IN ('KEPT', 'PARTIAL', 'BROKEN')`;
  const rows = await deps.prisma.$queryRaw<Record<string, string | number | null>[]>`
    SELECT ${has('DAY') ? dayOf('t', 'createdAt') : Prisma.sql`NULL::text`} AS day,
      ${has('AGENCY') ? Prisma.sql`t."agencyId"::text` : Prisma.sql`NULL::text`} AS "agencyId",
      ${has('COLLECTOR') ? Prisma.sql`t."capturedById"::text` : Prisma.sql`NULL::text`} AS "collectorId",
      t.currency::text AS currency,
      COUNT(*)::int AS made,
      COUNT(*) FILTER (WHERE t.status = 'OPEN')::int AS open,
      COUNT(*) FILTER (WHERE t.status = 'KEPT')::int AS kept,
      COUNT(*) FILTER (WHERE t.status = 'PARTIAL')::int AS partial,
      COUNT(*) FILTER (WHERE t.status = 'BROKEN')::int AS broken,
      COUNT(*) FILTER (WHERE t.status = 'CANCELLED')::int AS cancelled,
      COUNT(*) FILTER (WHERE t.status = 'SUPERSEDED')::int AS superseded,
      SUM(t.amount)::text AS "amountMade",
      COALESCE(SUM(t.amount) FILTER (WHERE ${decided}), 0)::text AS "amountDue",
      COALESCE(SUM(t."paidAmount") FILTER (WHERE ${decided}), 0)::text AS "amountPaid"
    FROM "PromiseToPay" t
    WHERE ${inPeriodSql(input.period, 't', 'createdAt')} AND ${recordScopeSql(viewer, 't')}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    LIMIT ${MAX_GROUPS + 1}`;
  tooMany(rows);
  return {
    asOf: deps.clock.now(),
    source: 'LIVE',
    period: input.period,
    groupBy,
    rows: rows.map(promiseStatsRow),
  };
}

/** A promiseStats SQL row (counts as numbers, sums as text) as a report row. */
export function promiseStatsRow(r: Record<string, string | number | null>): PromiseStatsRow {
  return {
    day: (r['day'] as string | null) ?? null,
    agencyId: (r['agencyId'] as string | null) ?? null,
    collectorId: (r['collectorId'] as string | null) ?? null,
    currency: String(r['currency']),
    made: Number(r['made']),
    open: Number(r['open']),
    kept: Number(r['kept']),
    partial: Number(r['partial']),
    broken: Number(r['broken']),
    cancelled: Number(r['cancelled']),
    superseded: Number(r['superseded']),
    amountMade: BigInt(r['amountMade'] as string),
    amountDue: BigInt(r['amountDue'] as string),
    amountPaid: BigInt(r['amountPaid'] as string),
  };
}

// ---------------------------------------------------------------- collectorProductivity

export interface ProductivityRow {
  collectorId: string;
  /** First day of the interval. */
  start: string;
  /** Contact attempts the collector made (completed; refused ones are in contactCompliance). */
  attempts: number;
  /** Of which the debtor was reached. */
  rightPartyContacts: number;
  promises: number;
  /** Payments received while the collector was placed on the case, per currency. */
  collected: { currency: string; amount: bigint; payments: number }[];
}

export interface ProductivityReport {
  asOf: Date;
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  interval: Interval;
  rows: ProductivityRow[];
}

export async function collectorProductivity(deps: AnalyticsDeps, viewer: Viewer, input: { period: Period; interval: Interval }): Promise<ProductivityReport> {
  const { period, interval } = input;
  const [attempts, promises, payments] = await Promise.all([
    deps.prisma.$queryRaw<{ collectorId: string; start: string; attempts: number; connected: number }[]>`
      SELECT a."actorId"::text AS "collectorId", ${intervalStartSql(interval, 'a', 'attemptedAt')} AS start,
        COUNT(*)::int AS attempts, COUNT(*) FILTER (WHERE a.connected)::int AS connected
      FROM "ContactAttempt" a
      WHERE a."actorId" IS NOT NULL AND a.status = 'COMPLETED' AND ${inPeriodSql(period, 'a', 'attemptedAt')} AND ${recordScopeSql(viewer, 'a')}
      GROUP BY 1, 2 LIMIT ${MAX_GROUPS + 1}`,
    deps.prisma.$queryRaw<{ collectorId: string; start: string; promises: number }[]>`
      SELECT t."capturedById"::text AS "collectorId", ${intervalStartSql(interval, 't', 'createdAt')} AS start, COUNT(*)::int AS promises
      FROM "PromiseToPay" t
      WHERE t."capturedById" IS NOT NULL AND ${inPeriodSql(period, 't', 'createdAt')} AND ${recordScopeSql(viewer, 't')}
      GROUP BY 1, 2 LIMIT ${MAX_GROUPS + 1}`,
    deps.prisma.$queryRaw<{ collectorId: string | null; start: string; currency: string; amount: string; payments: number }[]>`
      SELECT * FROM (
        SELECT ${collectorAtSql(viewer, 'p', 'receivedAt')} AS "collectorId", ${intervalStartSql(interval, 'p', 'receivedAt')} AS start,
          p.currency::text AS currency, SUM(p.amount)::text AS amount, COUNT(*)::int AS payments
        FROM "Payment" p
        WHERE ${inPeriodSql(period, 'p', 'receivedAt')} AND ${recordScopeSql(viewer, 'p')}
          AND NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
        GROUP BY 1, 2, 3
      ) x WHERE x."collectorId" IS NOT NULL LIMIT ${MAX_GROUPS + 1}`,
  ]);
  return { asOf: deps.clock.now(), source: 'LIVE', period, interval, rows: productivityRows(attempts, promises, payments) };
}

/** The three parts of collectorProductivity (attempts, promises, payments per collector and interval) as report rows. */
export function productivityRows(
  attempts: { collectorId: string; start: string; attempts: number; connected: number }[],
  promises: { collectorId: string; start: string; promises: number }[],
  payments: { collectorId: string | null; start: string; currency: string; amount: string; payments: number }[],
): ProductivityRow[] {
  [attempts, promises, payments].forEach(tooMany);
  const rows = new Map<string, ProductivityRow>();
  const row = (collectorId: string, start: string) => {
    const k = `${collectorId}|${start}`;
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { collectorId, start, attempts: 0, rightPartyContacts: 0, promises: 0, collected: [] }));
    return r;
  };
  for (const a of attempts) Object.assign(row(a.collectorId, a.start), { attempts: Number(a.attempts), rightPartyContacts: Number(a.connected) });
  for (const t of promises) row(t.collectorId, t.start).promises = Number(t.promises);
  for (const p of payments) row(p.collectorId!, p.start).collected.push({ currency: p.currency, amount: BigInt(p.amount), payments: Number(p.payments) });
  const out = [...rows.values()];
  tooMany(out);
  for (const r of out) r.collected.sort((a, b) => a.currency.localeCompare(b.currency));
  out.sort((a, b) => a.collectorId.localeCompare(b.collectorId) || a.start.localeCompare(b.start));
  return out;
}

// ---------------------------------------------------------------- contactCompliance

export const COMPLIANCE_DIMENSIONS = ['RULE', 'JURISDICTION', 'AGENCY', 'CHANNEL', 'DAY'] as const;
export type ComplianceDimension = (typeof COMPLIANCE_DIMENSIONS)[number];

export interface ComplianceRow {
  rule: string | null;
  jurisdiction: Jurisdiction | null;
  agencyId: string | null;
  channel: ContactChannel | null;
  day: string | null;
  /** Every attempt recorded (completed or refused). */
  attempts: number;
  /** Refused by the contact policy (BLOCKED). */
  refusals: number;
  /** Recorded as breaking a rule (a step recorded after the fact that broke it). */
  violations: number;
}

export interface ComplianceReport {
  asOf: Date;
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  groupBy: ComplianceDimension[];
  rows: ComplianceRow[];
}

export async function contactCompliance(deps: AnalyticsDeps, viewer: Viewer, input: { period: Period; groupBy: readonly ComplianceDimension[] }): Promise<ComplianceReport> {
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: ComplianceDimension) => groupBy.includes(d);
  const rows = await deps.prisma.$queryRaw<ComplianceRow[]>`
    SELECT ${has('RULE') ? Prisma.sql`a.rule` : Prisma.sql`NULL::text`} AS rule,
      ${has('JURISDICTION') ? Prisma.sql`d.jurisdiction::text` : Prisma.sql`NULL::text`} AS jurisdiction,
      ${has('AGENCY') ? Prisma.sql`a."agencyId"::text` : Prisma.sql`NULL::text`} AS "agencyId",
      ${has('CHANNEL') ? Prisma.sql`a.channel::text` : Prisma.sql`NULL::text`} AS channel,
      ${has('DAY') ? dayOf('a', 'attemptedAt') : Prisma.sql`NULL::text`} AS day,
      COUNT(*)::int AS attempts,
      COUNT(*) FILTER (WHERE a.status = 'BLOCKED')::int AS refusals,
      COUNT(*) FILTER (WHERE a.violation)::int AS violations
    FROM "ContactAttempt" a ${has('JURISDICTION') ? Prisma.sql`JOIN "Debtor" d ON d.id = a."debtorId"` : Prisma.empty}
    WHERE ${inPeriodSql(input.period, 'a', 'attemptedAt')} AND ${recordScopeSql(viewer, 'a')}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    LIMIT ${MAX_GROUPS + 1}`;
  tooMany(rows);
  return {
    asOf: deps.clock.now(),
    source: 'LIVE',
    period: input.period,
    groupBy,
    rows: rows.map(complianceRow),
  };
}

export const complianceRow = (r: ComplianceRow): ComplianceRow => ({ ...r, attempts: Number(r.attempts), refusals: Number(r.refusals), violations: Number(r.violations) });
