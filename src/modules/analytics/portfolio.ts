/**
 * portfolio(filter, groupBy, period): the book as a collections manager reads it: how many cases
 * and how much money, by any of bucket, stage, status, agency, collector, jurisdiction, product
 * and placement vintage (month), always per currency (amounts of two currencies never add up).
 *
 * One SQL statement: the viewer's cases (scope.ts) with the filter, the period's payments and the
 * open promises joined per case, grouped by the chosen dimensions. Sums are exact (PostgreSQL
 * numeric → text → bigint).
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { Bucket, CaseStage, CaseStatus, Jurisdiction } from '../../generated/prisma/enums.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { BANK_TIME_ZONE } from '../../lib/time.ts';
import { badUserInput } from '../../lib/errors.ts';
import type { CaseFilterInput } from '../cases/queries.ts';
import { bucketSql, caseFilterSql, eraSql, inPeriodSql, type Period } from './scope.ts';
import type { AnalyticsDeps } from './deps.ts';

export const PORTFOLIO_DIMENSIONS = ['BUCKET', 'STAGE', 'STATUS', 'AGENCY', 'COLLECTOR', 'JURISDICTION', 'PRODUCT', 'PLACEMENT_MONTH'] as const;
export type PortfolioDimension = (typeof PORTFOLIO_DIMENSIONS)[number];

/** A report holds at most this many groups: more is a request to group less finely. */
export const MAX_GROUPS = 5_000;

export interface PortfolioKey {
  bucket: Bucket | null;
  stage: CaseStage | null;
  status: CaseStatus | null;
  agencyId: string | null;
  collectorId: string | null;
  jurisdiction: Jurisdiction | null;
  product: string | null;
  /** YYYY-MM in the bank's zone: when the current placement started. */
  placementMonth: string | null;
}

export interface PortfolioGroup {
  key: PortfolioKey;
  currency: string;
  caseCount: number;
  overdue: bigint;
  principal: bigint;
  interest: bigint;
  fees: bigint;
  /** Payments received in the period on these cases (reversed payments excluded), of the viewer's era. */
  collected: bigint;
  /** What open promises on these cases still await (amount − paid), of the viewer's era. */
  promisedOpen: bigint;
}

export interface PortfolioReport {
  asOf: Date;
  /** LIVE: read from the tables now; ROLLUP: from the analytics rollup made at `asOf` (rollup.ts). */
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  groupBy: PortfolioDimension[];
  groups: PortfolioGroup[];
}

const DIMENSION_SQL: Record<PortfolioDimension, (now: Date) => Prisma.Sql> = {
  BUCKET: (now) => bucketSql(now, 'c'),
  STAGE: () => Prisma.sql`c.stage::text`,
  STATUS: () => Prisma.sql`c.status::text`,
  AGENCY: () => Prisma.sql`c."assignedAgencyId"::text`,
  COLLECTOR: () => Prisma.sql`c."assignedCollectorId"::text`,
  JURISDICTION: () => Prisma.sql`d.jurisdiction::text`,
  PRODUCT: () => Prisma.sql`a.product`,
  PLACEMENT_MONTH: () => Prisma.sql`to_char(pl."startsAt" AT TIME ZONE ${BANK_TIME_ZONE}, 'YYYY-MM')`,
};

/** The joins a dimension reads through (joins, not a subquery per case: the planner may hash them). */
const DIMENSION_JOIN: Partial<Record<PortfolioDimension, Prisma.Sql>> = {
  JURISDICTION: Prisma.sql`JOIN "Debtor" d ON d.id = c."debtorId"`,
  PRODUCT: Prisma.sql`JOIN "CardAccount" a ON a.id = c."accountId"`,
  PLACEMENT_MONTH: Prisma.sql`LEFT JOIN LATERAL (SELECT p0."startsAt" FROM "Placement" p0 WHERE p0."caseId" = c.id AND p0."endedAt" IS NULL ORDER BY p0."startsAt" DESC LIMIT 1) pl ON TRUE`,
};

export const KEY_FIELD: Record<PortfolioDimension, keyof PortfolioKey> = {
  BUCKET: 'bucket',
  STAGE: 'stage',
  STATUS: 'status',
  AGENCY: 'agencyId',
  COLLECTOR: 'collectorId',
  JURISDICTION: 'jurisdiction',
  PRODUCT: 'product',
  PLACEMENT_MONTH: 'placementMonth',
};

export function emptyKey(): PortfolioKey {
  return { bucket: null, stage: null, status: null, agencyId: null, collectorId: null, jurisdiction: null, product: null, placementMonth: null };
}

export async function portfolio(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: { filter?: CaseFilterInput | null; groupBy: readonly PortfolioDimension[]; period: Period },
): Promise<PortfolioReport> {
  const now = deps.clock.now();
  const groupBy = [...new Set(input.groupBy)];
  const where = await caseFilterSql(viewer, input.filter, now, deps.search);
  const dims = groupBy.map((d, i) => Prisma.sql`${DIMENSION_SQL[d](now)} AS ${Prisma.raw(`"k${i}"`)}`);
  const joins = Prisma.join(groupBy.flatMap((d) => DIMENSION_JOIN[d] ?? []).concat(Prisma.empty), ' ');
  const dimCols = groupBy.map((_d, i) => Prisma.raw(`"k${i}"`));
  const ordinals = Prisma.raw([...groupBy.map((_d, i) => String(i + 1)), String(groupBy.length + 1)].join(', '));
  const period = input.period;
  const rows = await deps.prisma.$queryRaw<Record<string, string | number | null>[]>`
    WITH scoped AS (
      SELECT ${Prisma.join([...dims, Prisma.sql`c.id`, Prisma.sql`c.currency`, Prisma.sql`c.principal`, Prisma.sql`c.interest`, Prisma.sql`c.fees`, Prisma.sql`c."overdueTotal"`])}
      FROM "Case" c ${joins}
      WHERE ${where}
    ),
    pay AS (
      SELECT p."caseId", SUM(p.amount) AS amount
      FROM "Payment" p JOIN scoped s ON s.id = p."caseId"
      WHERE ${inPeriodSql(period, 'p', 'receivedAt')} AND ${eraSql(viewer, 'p')}
        AND NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
      GROUP BY p."caseId"
    ),
    promised AS (
      SELECT t."caseId", SUM(t.amount - t."paidAmount") AS amount
      FROM "PromiseToPay" t JOIN scoped s ON s.id = t."caseId"
      WHERE t.status = 'OPEN' AND ${eraSql(viewer, 't')}
      GROUP BY t."caseId"
    )
    SELECT ${Prisma.join([...dimCols, Prisma.sql`s.currency::text AS currency`], ', ')},
      COUNT(*)::int AS "caseCount",
      SUM(s."overdueTotal")::text AS overdue,
      SUM(s.principal)::text AS principal,
      SUM(s.interest)::text AS interest,
      SUM(s.fees)::text AS fees,
      COALESCE(SUM(pay.amount), 0)::text AS collected,
      COALESCE(SUM(promised.amount), 0)::text AS "promisedOpen"
    FROM scoped s
    LEFT JOIN pay ON pay."caseId" = s.id
    LEFT JOIN promised ON promised."caseId" = s.id
    GROUP BY ${ordinals}
    ORDER BY ${ordinals}
    LIMIT ${MAX_GROUPS + 1}`;
  if (rows.length > MAX_GROUPS) throw badUserInput(`The report has more than ${MAX_GROUPS} groups: group by fewer dimensions or filter.`, { argument: 'groupBy' });
  return {
    asOf: now,
    source: 'LIVE',
    period,
    groupBy,
    groups: portfolioGroups(rows, groupBy),
  };
}

/** Report rows (k0…kN, currency, and the sums as text) as groups. */
export function portfolioGroups(rows: Record<string, string | number | null>[], groupBy: readonly PortfolioDimension[]): PortfolioGroup[] {
  return rows.map((r) => {
    const key = emptyKey();
    groupBy.forEach((d, i) => {
      (key as unknown as Record<string, unknown>)[KEY_FIELD[d]] = r[`k${i}`] ?? null;
    });
    return {
      key,
      currency: String(r['currency']),
      caseCount: Number(r['caseCount']),
      overdue: BigInt(r['overdue'] as string),
      principal: BigInt(r['principal'] as string),
      interest: BigInt(r['interest'] as string),
      fees: BigInt(r['fees'] as string),
      collected: BigInt(r['collected'] as string),
      promisedOpen: BigInt(r['promisedOpen'] as string),
    };
  });
}
