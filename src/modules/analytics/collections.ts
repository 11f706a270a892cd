/**
 * collections(period, interval, groupBy): money collected over time. A payment counts on the day
 * it was received (bank's zone), unless it was reversed. It is credited to the agency that held
 * the case when it was recorded (its era, `Payment.agencyId`) and to the collector of the
 * placement in force when it was received.
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { PaymentChannel } from '../../generated/prisma/enums.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { badUserInput } from '../../lib/errors.ts';
import { eraSql, inPeriodSql, intervalStartSql, recordScopeSql, type Interval, type Period } from './scope.ts';
import { MAX_GROUPS } from './portfolio.ts';
import type { AnalyticsDeps } from './deps.ts';

export const COLLECTIONS_DIMENSIONS = ['AGENCY', 'COLLECTOR', 'CHANNEL'] as const;
export type CollectionsDimension = (typeof COLLECTIONS_DIMENSIONS)[number];

export interface CollectionsPoint {
  /** First day of the interval (YYYY-MM-DD, bank's zone). */
  start: string;
  agencyId: string | null;
  collectorId: string | null;
  channel: PaymentChannel | null;
  currency: string;
  paymentCount: number;
  amount: bigint;
}

export interface CollectionsReport {
  asOf: Date;
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  interval: Interval;
  groupBy: CollectionsDimension[];
  points: CollectionsPoint[];
}

/**
 * The collector of the placement of case `p.caseId` in force at `p.<column>`, if that placement is
 * of the viewer's era (a payment dated back into another agency's placement names no collector to
 * an agency: it does not learn who worked the case then).
 */
export function collectorAtSql(viewer: Viewer, alias: string, column: 'receivedAt'): Prisma.Sql {
  return Prisma.sql`(SELECT CASE WHEN ${eraSql(viewer, 'pl')} THEN pl."collectorId"::text END FROM "Placement" pl
    WHERE pl."caseId" = ${Prisma.raw(`${alias}."caseId"`)} AND pl."startsAt" <= ${Prisma.raw(`${alias}."${column}"`)}
      AND (pl."endedAt" IS NULL OR pl."endedAt" > ${Prisma.raw(`${alias}."${column}"`)})
    ORDER BY pl."startsAt" DESC LIMIT 1)`;
}

export async function collections(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: { period: Period; interval: Interval; groupBy: readonly CollectionsDimension[] },
): Promise<CollectionsReport> {
  const groupBy = [...new Set(input.groupBy)];
  const has = (d: CollectionsDimension) => groupBy.includes(d);
  const rows = await deps.prisma.$queryRaw<
    { start: string; agencyId: string | null; collectorId: string | null; channel: PaymentChannel | null; currency: string; paymentCount: number; amount: string }[]
  >`
    SELECT ${intervalStartSql(input.interval, 'p', 'receivedAt')} AS start,
      ${has('AGENCY') ? Prisma.sql`p."agencyId"::text` : Prisma.sql`NULL::text`} AS "agencyId",
      ${has('COLLECTOR') ? collectorAtSql(viewer, 'p', 'receivedAt') : Prisma.sql`NULL::text`} AS "collectorId",
      ${has('CHANNEL') ? Prisma.sql`p.channel::text` : Prisma.sql`NULL::text`} AS channel,
      p.currency::text AS currency,
      COUNT(*)::int AS "paymentCount",
      SUM(p.amount)::text AS amount
    FROM "Payment" p
    WHERE ${inPeriodSql(input.period, 'p', 'receivedAt')} AND ${recordScopeSql(viewer, 'p')}
      AND NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    LIMIT ${MAX_GROUPS + 1}`;
  if (rows.length > MAX_GROUPS) throw badUserInput(`The report has more than ${MAX_GROUPS} points: use a longer interval or group by less.`, { argument: 'groupBy' });
  return {
    asOf: deps.clock.now(),
    source: 'LIVE',
    period: input.period,
    interval: input.interval,
    groupBy,
    points: rows.map((r) => ({ ...r, paymentCount: Number(r.paymentCount), amount: BigInt(r.amount) })),
  };
}
