/**
 * rollRates(from, to, filter): for each calendar month of the range (bank's zone), where the cases
 * that were in a bucket when the month began stood when it ended (or now, for the month under way):
 * another bucket, RESOLVED (paid in full) or CLOSED. Read from the recorded bucket history
 * (BucketHistory, appended by the bucket-history job): the bucket of a case at an instant is the
 * last one it entered at or before it. A case counts from the first month it had a recorded bucket
 * at the month's start. The cure rate of a starting bucket is the share that ended RESOLVED.
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { BANK_TIME_ZONE } from '../../lib/time.ts';
import { badUserInput } from '../../lib/errors.ts';
import type { CaseFilterInput } from '../cases/queries.ts';
import { caseFilterSql } from './scope.ts';
import type { AnalyticsDeps } from './deps.ts';

export const MAX_ROLL_MONTHS = 24;

export interface RollCell {
  /** YYYY-MM. */
  month: string;
  fromBucket: string;
  /** A bucket, RESOLVED or CLOSED. */
  toState: string;
  currency: string;
  caseCount: number;
  /** The cases' overdue amount now (the history records buckets, not balances). */
  overdueNow: bigint;
}

export interface RollRatesReport {
  asOf: Date;
  /** LIVE: read from the tables now; ROLLUP: from the analytics rollup made at `asOf` (rollup.ts). */
  source: 'LIVE' | 'ROLLUP';
  fromMonth: string;
  toMonth: string;
  cells: RollCell[];
}

/** The months (YYYY-MM) from the month of `from` to the month of `to`. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
  const end = to.slice(0, 7);
  for (;;) {
    const s = `${y}-${String(m).padStart(2, '0')}`;
    if (s > end) break;
    out.push(s);
    if (out.length > MAX_ROLL_MONTHS) break;
    m++;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return out;
}

export async function rollRates(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: { from: string; to: string; filter?: CaseFilterInput | null },
): Promise<RollRatesReport> {
  const now = deps.clock.now();
  const months = rollMonths(input);
  const where = await caseFilterSql(viewer, input.filter, now, deps.search);
  const rows = await deps.prisma.$queryRaw<{ month: string; fromBucket: string; toState: string; currency: string; caseCount: number; overdueNow: string }[]>`
    WITH ${rollMovesSql(months, now, where)}
    SELECT month, "fromBucket", "toState", currency::text AS currency, COUNT(*)::int AS "caseCount", SUM("overdueTotal")::text AS "overdueNow"
    FROM moves
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
  return {
    asOf: now,
    source: 'LIVE',
    fromMonth: months[0]!,
    toMonth: months[months.length - 1]!,
    cells: rows.map((r) => ({ ...r, caseCount: Number(r.caseCount), overdueNow: BigInt(r.overdueNow) })),
  };
}

/** The months of a roll-rate report, checked. */
export function rollMonths(input: { from: string; to: string }): string[] {
  if (input.from > input.to) throw badUserInput('Argument "from" must not be after "to".', { argument: 'from' });
  const months = monthsBetween(input.from, input.to);
  if (months.length > MAX_ROLL_MONTHS) throw badUserInput(`A roll-rate report covers at most ${MAX_ROLL_MONTHS} months.`, { argument: 'to' });
  return months;
}

/**
 * The CTEs `months`, `scoped`, `spans` and `moves` (one row per case and month: month, fromBucket,
 * toState, currency, overdueTotal, plus the case's columns named in `extra`) for the cases of
 * `where` (on "Case" c) over `months`, as at `now`. The bucket history is read as spans (a row
 * holds from its entry to the next row of the case), once in index order; a case's bucket at an
 * instant is the span that covers it. One pass over the history, whatever the number of months.
 * The live report and the rollup job (rollup.ts) both read it.
 */
export function rollMovesSql(months: readonly string[], now: Date, where: Prisma.Sql, extra: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const startOf = (month: string) => Prisma.sql`(${`${month}-01`}::date::timestamp AT TIME ZONE ${BANK_TIME_ZONE})`;
  const values = months.map(
    (mo) =>
      Prisma.sql`(${mo}, ${startOf(mo)}, LEAST((((${`${mo}-01`}::date + interval '1 month')::date)::timestamp AT TIME ZONE ${BANK_TIME_ZONE}), ${now.toISOString()}::timestamptz))`,
  );
  return Prisma.sql`months(month, t0, t1) AS (VALUES ${Prisma.join(values)}),
    scoped AS (
      SELECT c.id, c.currency, c."overdueTotal", c."closedAt", c.stage, c.status, c."assignedAgencyId", c."assignedCollectorId", c."dueDate" FROM "Case" c WHERE ${where}
    ),
    spans AS (
      SELECT h."caseId", h.bucket::text AS bucket, h."enteredAt" AS "from",
        LEAD(h."enteredAt") OVER (PARTITION BY h."caseId" ORDER BY h."enteredAt", h.id) AS "until"
      FROM "BucketHistory" h JOIN scoped s ON s.id = h."caseId"
      WHERE h."enteredAt" <= (SELECT MAX(t1) FROM months)
    ),
    moves AS (
      SELECT mo.month, b0.bucket AS "fromBucket",
        CASE WHEN s."closedAt" <= mo.t1 THEN (CASE WHEN s.stage = 'RESOLVED' THEN 'RESOLVED' ELSE 'CLOSED' END) ELSE b1.bucket END AS "toState",
        s.currency, s."overdueTotal" ${extra}
      FROM months mo
      JOIN spans b0 ON b0."from" <= mo.t0 AND (b0."until" IS NULL OR b0."until" > mo.t0)
      JOIN scoped s ON s.id = b0."caseId" AND (s."closedAt" IS NULL OR s."closedAt" > mo.t0)
      LEFT JOIN spans b1 ON b1."caseId" = s.id AND b1."from" <= mo.t1 AND (b1."until" IS NULL OR b1."until" > mo.t1)
      WHERE mo.t0 < mo.t1
    )`;
}

export interface CureRate {
  month: string;
  fromBucket: string;
  caseCount: number;
  resolved: number;
  /** Moved to a later bucket. */
  rolledForward: number;
}

const ORDER = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS'];

/** Per month and starting bucket: how many there were, how many resolved, how many rolled forward (from the cells). */
export function cureRates(cells: readonly RollCell[]): CureRate[] {
  const out = new Map<string, CureRate>();
  for (const c of cells) {
    const k = `${c.month}|${c.fromBucket}`;
    let r = out.get(k);
    if (!r) out.set(k, (r = { month: c.month, fromBucket: c.fromBucket, caseCount: 0, resolved: 0, rolledForward: 0 }));
    r.caseCount += c.caseCount;
    if (c.toState === 'RESOLVED') r.resolved += c.caseCount;
    if (ORDER.indexOf(c.toState) > ORDER.indexOf(c.fromBucket)) r.rolledForward += c.caseCount;
  }
  return [...out.values()].sort((a, b) => a.month.localeCompare(b.month) || ORDER.indexOf(a.fromBucket) - ORDER.indexOf(b.fromBucket));
}
