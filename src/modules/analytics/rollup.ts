/**
 * The analytics rollups (issue 14 point 7): the book as it stood at one instant (`asOf`), grouped
 * finely enough that the portfolio and roll-rate reports of any viewer are a sum over a few
 * thousand rows instead of a pass over every case and its history.
 *
 * - `buildRollup` (the analytics-rollup job) writes one generation in one transaction: the
 *   portfolio by every dimension, the period-free part of `collected` as payments per bank day,
 *   and the roll rates of the 24 months to `asOf`. Each row carries the dimensions a viewer's
 *   scope reads (the case's agency and collector at `asOf`), and money of records is kept twice:
 *   of every era, and of the era of the agency that holds the case (what that agency sees).
 *   The finished generation replaces the previous one at commit: a reader never sees half.
 * - `portfolioFromRollup` / `rollRatesFromRollup` answer from the latest generation when it is
 *   fresh (at most ROLLUP_MAX_AGE_MS old) and the question can be answered from it (a filter on
 *   stage, status, bucket, agency or collector; no days-past-due range, no search). Otherwise
 *   they answer null and the report reads the live tables. Either way the answer carries `asOf`.
 *
 * The same scoping module (scope.ts) applies: the rollup's columns are named as the case's, so
 * `caseScopeSql` reads them as it reads a case. The property test (test/analytics) builds a
 * rollup of random books and compares every viewer's answers with the reference, exactly.
 */
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { caseVisibility, eraAgencyOf } from '../../auth/scopes.ts';
import { BANK_TIME_ZONE } from '../../lib/time.ts';
import { badUserInput } from '../../lib/errors.ts';
import type { CaseFilterInput } from '../cases/queries.ts';
import { bankToday, bucketSql, caseScopeSql, col, type Period } from './scope.ts';
import { MAX_GROUPS, portfolio, portfolioGroups, type PortfolioDimension, type PortfolioReport } from './portfolio.ts';
import { MAX_ROLL_MONTHS, monthsBetween, rollMonths, rollMovesSql, rollRates, type RollRatesReport } from './roll-rates.ts';
import type { AnalyticsDeps } from './deps.ts';

/** A rollup older than this is not read: the report reads the live tables. */
export const ROLLUP_MAX_AGE_MS = 26 * 60 * 60_000;

/** The months a rollup holds roll rates for, up to and including the month of `asOf`. */
export const ROLLUP_MONTHS = MAX_ROLL_MONTHS;

export interface RollupResult {
  runId: string;
  asOf: Date;
  cases: number;
  portfolioRows: number;
  paymentRows: number;
  rollRateRows: number;
  activityRows: number;
  ms: number;
}

type Tx = Pick<PrismaClient, '$executeRaw' | '$queryRaw'>;

/** Builds a generation of the rollups as at `now` and makes it the current one (one transaction). */
export async function buildRollup(prisma: PrismaClient, now: Date, options: { timeoutMs?: number } = {}): Promise<RollupResult> {
  const started = performance.now();
  const months = lastMonths(bankToday(now).slice(0, 7), ROLLUP_MONTHS);
  return prisma.$transaction(
    async (tx) => {
      const [run] = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO "RollupRun" (id, "asOf", "startedAt") VALUES (gen_random_uuid(), ${now}, ${now}) RETURNING id::text`;
      const runId = run!.id;
      // Every case once, with the dimensions of the portfolio at `now` (the same SQL as the live report's).
      await tx.$executeRaw`
        CREATE TEMP TABLE rollup_case ON COMMIT DROP AS
        SELECT c.id, ${bucketSql(now, 'c')}::"Bucket" AS bucket, c.stage, c.status, c."assignedAgencyId", c."assignedCollectorId",
          d.jurisdiction, a.product, to_char(pl."startsAt" AT TIME ZONE ${BANK_TIME_ZONE}, 'YYYY-MM') AS "placementMonth",
          c.currency, c.principal, c.interest, c.fees, c."overdueTotal"
        FROM "Case" c
        JOIN "Debtor" d ON d.id = c."debtorId"
        JOIN "CardAccount" a ON a.id = c."accountId"
        LEFT JOIN LATERAL (SELECT p0."startsAt" FROM "Placement" p0 WHERE p0."caseId" = c.id AND p0."endedAt" IS NULL ORDER BY p0."startsAt" DESC LIMIT 1) pl ON TRUE`;
      await tx.$executeRawUnsafe('CREATE INDEX ON rollup_case (id)');
      await tx.$executeRawUnsafe('ANALYZE rollup_case');
      const [{ cases }] = (await tx.$queryRaw<{ cases: number }[]>`SELECT COUNT(*)::int AS cases FROM rollup_case`) as [{ cases: number }];
      const dims = Prisma.raw(`bucket, stage, status, "assignedAgencyId", "assignedCollectorId", jurisdiction, product, "placementMonth", currency`);
      const sDims = Prisma.raw(`s.bucket, s.stage, s.status, s."assignedAgencyId", s."assignedCollectorId", s.jurisdiction, s.product, s."placementMonth", s.currency`);
      const ownEra = (alias: string) => Prisma.raw(`(${alias}."agencyId" IS NULL OR ${alias}."agencyId" = s."assignedAgencyId")`);
      const portfolioRows = await tx.$executeRaw`
        INSERT INTO "PortfolioRollup" ("runId", ${dims}, "caseCount", overdue, principal, interest, fees, "promisedOpen", "promisedOpenOwnEra")
        SELECT ${runId}::uuid, ${sDims}, COUNT(*)::int, SUM(s."overdueTotal"), SUM(s.principal), SUM(s.interest), SUM(s.fees),
          COALESCE(SUM(t.amount), 0), COALESCE(SUM(t.own), 0)
        FROM rollup_case s
        LEFT JOIN (
          SELECT t."caseId", SUM(t.amount - t."paidAmount") AS amount, COALESCE(SUM(t.amount - t."paidAmount") FILTER (WHERE ${ownEra('t')}), 0) AS own
          FROM "PromiseToPay" t JOIN rollup_case s ON s.id = t."caseId"
          WHERE t.status = 'OPEN'
          GROUP BY t."caseId"
        ) t ON t."caseId" = s.id
        GROUP BY ${sDims}`;
      const paymentRows = await tx.$executeRaw`
        INSERT INTO "PaymentRollup" ("runId", day, ${dims}, amount, "amountOwnEra")
        SELECT ${runId}::uuid, (p."receivedAt" AT TIME ZONE ${BANK_TIME_ZONE})::date, ${sDims},
          SUM(p.amount), COALESCE(SUM(p.amount) FILTER (WHERE ${ownEra('p')}), 0)
        FROM "Payment" p JOIN rollup_case s ON s.id = p."caseId"
        WHERE NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
        GROUP BY 2, ${sDims}`;
      const rollRateRows = await tx.$executeRaw`
        INSERT INTO "RollRateRollup" ("runId", month, "fromBucket", "toState", currency, bucket, stage, status, "assignedAgencyId", "assignedCollectorId", "caseCount", "overdueNow")
        WITH ${rollMovesSql(months, now, Prisma.sql`TRUE`, Prisma.sql`, s.id`)}
        SELECT ${runId}::uuid, m.month, m."fromBucket", m."toState", m.currency, rc.bucket, rc.stage, rc.status, rc."assignedAgencyId", rc."assignedCollectorId",
          COUNT(*)::int, SUM(m."overdueTotal")
        FROM moves m JOIN rollup_case rc ON rc.id = m.id
        GROUP BY 2, 3, 4, 5, 6, 7, 8, 9, 10`;
      const activityRows = await rollUpActivity(tx, runId);
      await tx.$executeRaw`UPDATE "RollupRun" SET "finishedAt" = ${now}, cases = ${cases} WHERE id = ${runId}::uuid`;
      // The previous generations (and any a crashed run left unfinished) go: this one is current.
      for (const table of ROLLUP_TABLES) {
        await tx.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE "runId" <> ${runId}::uuid`;
      }
      await tx.$executeRaw`DELETE FROM "RollupRun" WHERE id <> ${runId}::uuid`;
      return { runId, asOf: now, cases, portfolioRows, paymentRows, rollRateRows, activityRows, ms: Math.round(performance.now() - started) };
    },
    { timeout: options.timeoutMs ?? 30 * 60_000, maxWait: 60_000 },
  );
}

const ROLLUP_TABLES = ['PortfolioRollup', 'PaymentRollup', 'RollRateRollup', 'ActivityRollup'] as const;

/** Removes every generation (the reports then read the tables); the number of generations removed. */
export async function dropRollups(prisma: PrismaClient): Promise<number> {
  return prisma.$transaction(async (tx) => {
    for (const table of ROLLUP_TABLES) await tx.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)}`;
    return tx.$executeRaw`DELETE FROM "RollupRun"`;
  });
}

/**
 * The records of the activity reports, per bank day and every dimension they group or scope by
 * (ActivityRollup), from the cases of `rollup_case`. Each statement groups one kind of record.
 */
async function rollUpActivity(tx: Tx, runId: string): Promise<number> {
  const day = (alias: string, column: string) => Prisma.raw(`(${alias}."${column}" AT TIME ZONE '${BANK_TIME_ZONE}')::date`);
  const cols = (names: string) => Prisma.raw(names);
  const run = Prisma.sql`${runId}::uuid`;
  const statements: Prisma.Sql[] = [
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "placedCollectorId", "placedAgencyId", channel, currency, n, amount)
      SELECT ${run}, 'PAYMENT', ${day('p', 'receivedAt')}, s."assignedAgencyId", s."assignedCollectorId", p."agencyId", pl."collectorId", pl."agencyId", p.channel::text, p.currency,
        COUNT(*)::int, SUM(p.amount)
      FROM "Payment" p JOIN rollup_case s ON s.id = p."caseId"
      LEFT JOIN LATERAL (SELECT pl."collectorId", pl."agencyId" FROM "Placement" pl
        WHERE pl."caseId" = p."caseId" AND pl."startsAt" <= p."receivedAt" AND (pl."endedAt" IS NULL OR pl."endedAt" > p."receivedAt")
        ORDER BY pl."startsAt" DESC LIMIT 1) pl ON TRUE
      WHERE NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
      GROUP BY ${cols('3, 4, 5, 6, 7, 8, 9, 10')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", status, currency, n, amount, amount2)
      SELECT ${run}, 'PROMISE', ${day('t', 'createdAt')}, s."assignedAgencyId", s."assignedCollectorId", t."agencyId", t."capturedById", t.status::text, t.currency,
        COUNT(*)::int, SUM(t.amount), SUM(t."paidAmount")
      FROM "PromiseToPay" t JOIN rollup_case s ON s.id = t."caseId"
      GROUP BY ${cols('3, 4, 5, 6, 7, 8, 9')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", channel, rule, jurisdiction, status, connected, violation, n)
      SELECT ${run}, 'ATTEMPT', ${day('a', 'attemptedAt')}, s."assignedAgencyId", s."assignedCollectorId", a."agencyId", a."actorId", a.channel::text, a.rule, d.jurisdiction::text,
        a.status::text, a.connected, a.violation, COUNT(*)::int
      FROM "ContactAttempt" a JOIN rollup_case s ON s.id = a."caseId" JOIN "Debtor" d ON d.id = a."debtorId"
      GROUP BY ${cols('3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13')}`,
    // Agency placements, each with the days to the agency's first completed contact in it.
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", n, amount, days)
      SELECT ${run}, 'PLACEMENT', ${day('pl', 'startsAt')}, s."assignedAgencyId", s."assignedCollectorId", pl."agencyId",
        COUNT(*)::int, COUNT(x.first), COALESCE(SUM(EXTRACT(EPOCH FROM (x.first - pl."startsAt")) / 86400), 0)
      FROM "Placement" pl JOIN rollup_case s ON s.id = pl."caseId"
      LEFT JOIN LATERAL (SELECT MIN(a."attemptedAt") AS first FROM "ContactAttempt" a
        WHERE a."caseId" = pl."caseId" AND a."agencyId" = pl."agencyId" AND a.status = 'COMPLETED' AND a."attemptedAt" >= pl."startsAt"
          AND (pl."endedAt" IS NULL OR a."attemptedAt" < pl."endedAt")) x ON TRUE
      WHERE pl."agencyId" IS NOT NULL
      GROUP BY ${cols('3, 4, 5, 6')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", label, n)
      SELECT ${run}, 'VISIT', ${day('v', 'completedAt')}, s."assignedAgencyId", s."assignedCollectorId", v."agencyId", v.outcome::text, COUNT(*)::int
      FROM "Visit" v JOIN rollup_case s ON s.id = v."caseId"
      WHERE v."completedAt" IS NOT NULL
      GROUP BY ${cols('3, 4, 5, 6, 7')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", label, n)
      SELECT ${run}, 'RECALL', ${day('pl', 'endedAt')}, s."assignedAgencyId", s."assignedCollectorId", pl."agencyId", pl."recallReason"::text, COUNT(*)::int
      FROM "Placement" pl JOIN rollup_case s ON s.id = pl."caseId"
      WHERE pl."recallReason" IS NOT NULL AND pl."endedAt" IS NOT NULL
      GROUP BY ${cols('3, 4, 5, 6, 7')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", n)
      SELECT ${run}, 'COMPLAINT', ${day('k', 'receivedAt')}, s."assignedAgencyId", s."assignedCollectorId", k."agencyId", k."againstAgencyId", COUNT(*)::int
      FROM "Complaint" k JOIN rollup_case s ON s.id = k."caseId"
      WHERE k."againstAgencyId" IS NOT NULL
      GROUP BY ${cols('3, 4, 5, 6, 7')}`,
    Prisma.sql`
      INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", n)
      SELECT ${run}, 'COMPLAINT_UPHELD', ${day('k', 'decidedAt')}, s."assignedAgencyId", s."assignedCollectorId", k."agencyId", k."againstAgencyId", COUNT(*)::int
      FROM "Complaint" k JOIN rollup_case s ON s.id = k."caseId"
      WHERE k."againstAgencyId" IS NOT NULL AND k.status = 'UPHELD' AND k."decidedAt" IS NOT NULL
      GROUP BY ${cols('3, 4, 5, 6, 7')}`,
  ];
  let rows = 0;
  for (const statement of statements) rows += await tx.$executeRaw(statement);
  return rows;
}

/** The `count` months (YYYY-MM) that end with `last`. */
function lastMonths(last: string, count: number): string[] {
  let [y, m] = [Number(last.slice(0, 4)), Number(last.slice(5, 7))];
  m -= count - 1;
  while (m < 1) [y, m] = [y - 1, m + 12];
  return monthsBetween(`${y}-${String(m).padStart(2, '0')}-01`, `${last}-01`).slice(0, count);
}

/** The current generation, if it is fresh at `now`. */
export async function currentRun(db: Tx, now: Date): Promise<{ id: string; asOf: Date } | null> {
  const [run] = await db.$queryRaw<{ id: string; asOf: Date }[]>`
    SELECT id::text, "asOf" FROM "RollupRun" WHERE "finishedAt" IS NOT NULL AND "asOf" <= ${now} ORDER BY "asOf" DESC LIMIT 1`;
  return run && now.getTime() - run.asOf.getTime() <= ROLLUP_MAX_AGE_MS ? run : null;
}

/**
 * The viewer's scope and a case filter as SQL on a rollup row `r`, and which money of records
 * the viewer sees (every era, or the holding agency's): null when the rollup cannot answer.
 */
function rollupScope(viewer: Viewer, filter: CaseFilterInput | null | undefined): { where: Prisma.Sql; ownEra: boolean } | null {
  const own = eraAgencyOf(viewer);
  // An agency's records are those of its era; the rollup keeps the holding agency's era, so the
  // viewer must see only the cases its own agency holds.
  if (own !== null && (caseVisibility(viewer) as { assignedAgencyId?: string }).assignedAgencyId !== own) return null;
  const and: Prisma.Sql[] = [caseScopeSql(viewer, 'r')];
  if (filter) {
    if (filter.search?.trim() || filter.minDaysPastDue != null || filter.maxDaysPastDue != null) return null;
    if (filter.stage?.length) and.push(Prisma.sql`r.stage::text IN (${Prisma.join(filter.stage)})`);
    if (filter.status?.length) and.push(Prisma.sql`r.status::text IN (${Prisma.join(filter.status)})`);
    if (filter.bucket?.length) and.push(Prisma.sql`r.bucket::text IN (${Prisma.join(filter.bucket)})`);
    if (filter.agencyId) and.push(Prisma.sql`r."assignedAgencyId" = ${filter.agencyId}::uuid`);
    if (filter.collectorId) and.push(Prisma.sql`r."assignedCollectorId" = ${filter.collectorId}::uuid`);
  }
  return { where: Prisma.join(and, ' AND '), ownEra: own !== null };
}

const ROLLUP_COLUMN: Record<PortfolioDimension, string> = {
  BUCKET: 'bucket',
  STAGE: 'stage',
  STATUS: 'status',
  AGENCY: 'assignedAgencyId',
  COLLECTOR: 'assignedCollectorId',
  JURISDICTION: 'jurisdiction',
  PRODUCT: 'product',
  PLACEMENT_MONTH: 'placementMonth',
};

/** The portfolio report from the current rollup, or null (no fresh rollup, or a filter it cannot answer). */
export async function portfolioFromRollup(
  prisma: PrismaClient,
  viewer: Viewer,
  now: Date,
  input: { filter?: CaseFilterInput | null; groupBy: readonly PortfolioDimension[]; period: Period },
): Promise<PortfolioReport | null> {
  const scope = rollupScope(viewer, input.filter);
  if (!scope) return null;
  const run = await currentRun(prisma, now);
  if (!run) return null;
  const groupBy = [...new Set(input.groupBy)];
  const dims = groupBy.map((d, i) => Prisma.sql`${col('r', ROLLUP_COLUMN[d])}::text AS ${Prisma.raw(`"k${i}"`)}`);
  const ordinals = Prisma.raw([...groupBy.map((_d, i) => String(i + 1)), String(groupBy.length + 1)].join(', '));
  const promised = Prisma.raw(scope.ownEra ? 'r."promisedOpenOwnEra"' : 'r."promisedOpen"');
  const paid = Prisma.raw(scope.ownEra ? 'r."amountOwnEra"' : 'r.amount');
  const select = (money: Prisma.Sql) => Prisma.join([...dims, Prisma.sql`r.currency::text AS currency`, money], ', ');
  const rows = await prisma.$queryRaw<Record<string, string | number | null>[]>`
    WITH parts AS (
      SELECT ${select(Prisma.sql`r."caseCount" AS n, r.overdue, r.principal, r.interest, r.fees, 0::numeric AS collected, ${promised} AS promised`)}
      FROM "PortfolioRollup" r WHERE r."runId" = ${run.id}::uuid AND ${scope.where}
      UNION ALL
      SELECT ${select(Prisma.sql`0 AS n, 0, 0, 0, 0, ${paid}, 0`)}
      FROM "PaymentRollup" r WHERE r."runId" = ${run.id}::uuid AND ${scope.where}
        AND r.day >= ${input.period.from}::date AND r.day <= ${input.period.to}::date
    )
    SELECT ${Prisma.join([...groupBy.map((_d, i) => Prisma.raw(`"k${i}"`)), Prisma.sql`currency`], ', ')},
      SUM(n)::int AS "caseCount", SUM(overdue)::text AS overdue, SUM(principal)::text AS principal, SUM(interest)::text AS interest,
      SUM(fees)::text AS fees, SUM(collected)::text AS collected, SUM(promised)::text AS "promisedOpen"
    FROM parts
    GROUP BY ${ordinals}
    ORDER BY ${ordinals}
    LIMIT ${MAX_GROUPS + 1}`;
  if (rows.length > MAX_GROUPS) throw badUserInput(`The report has more than ${MAX_GROUPS} groups: group by fewer dimensions or filter.`, { argument: 'groupBy' });
  return {
    asOf: run.asOf,
    source: 'ROLLUP',
    period: input.period,
    groupBy,
    groups: portfolioGroups(rows, groupBy),
  };
}

/** The roll-rate report from the current rollup, or null (no fresh rollup, months it does not hold, or a filter it cannot answer). */
export async function rollRatesFromRollup(
  prisma: PrismaClient,
  viewer: Viewer,
  now: Date,
  input: { months: readonly string[]; filter?: CaseFilterInput | null },
): Promise<RollRatesReport | null> {
  const scope = rollupScope(viewer, input.filter);
  if (!scope) return null;
  const run = await currentRun(prisma, now);
  if (!run) return null;
  const asOfMonth = bankToday(run.asOf).slice(0, 7);
  const held = lastMonths(asOfMonth, ROLLUP_MONTHS);
  // The month under way ends at asOf in the rollup, at now in a live answer: a month after the
  // rollup's, or the current one when the rollup is of an earlier month, is not in it.
  if (input.months.some((m) => !held.includes(m))) return null;
  const rows = await prisma.$queryRaw<{ month: string; fromBucket: string; toState: string; currency: string; caseCount: number; overdueNow: string }[]>`
    SELECT r.month, r."fromBucket", r."toState", r.currency::text AS currency, SUM(r."caseCount")::int AS "caseCount", SUM(r."overdueNow")::text AS "overdueNow"
    FROM "RollRateRollup" r
    WHERE r."runId" = ${run.id}::uuid AND r.month IN (${Prisma.join([...input.months])}) AND ${scope.where}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
  return {
    asOf: run.asOf,
    source: 'ROLLUP',
    fromMonth: input.months[0]!,
    toMonth: input.months[input.months.length - 1]!,
    cells: rows.map((r) => ({ ...r, caseCount: Number(r.caseCount), overdueNow: BigInt(r.overdueNow) })),
  };
}

/** The portfolio report: from the rollup when it can answer (unless `live`), else from the tables. */
export async function portfolioReport(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: { filter?: CaseFilterInput | null; groupBy: readonly PortfolioDimension[]; period: Period; live?: boolean | null },
): Promise<PortfolioReport> {
  if (!input.live) {
    const answer = await portfolioFromRollup(deps.prisma, viewer, deps.clock.now(), input);
    if (answer) return answer;
  }
  return portfolio(deps, viewer, input);
}

/** The roll-rate report: from the rollup when it can answer (unless `live`), else from the tables. */
export async function rollRatesReport(
  deps: AnalyticsDeps,
  viewer: Viewer,
  input: { from: string; to: string; filter?: CaseFilterInput | null; live?: boolean | null },
): Promise<RollRatesReport> {
  if (!input.live) {
    const answer = await rollRatesFromRollup(deps.prisma, viewer, deps.clock.now(), { months: rollMonths(input), filter: input.filter });
    if (answer) return answer;
  }
  return rollRates(deps, viewer, input);
}
