/**
 * agencyScorecards(period): each partner agency side by side (an agency sees only its own), from
 * the records the viewer sees (scope.ts). Every figure is one grouped SQL statement over all the
 * agencies at once (no statement per agency).
 *
 * - placed: the cases placed with the agency now, and their overdue amount, per currency;
 * - collected: payments received in the period in the agency's era (reversed ones excluded);
 * - recovery rate: collected ÷ (collected + placed balance), per currency;
 * - promises recorded in the period in its era: kept, partly kept, broken;
 * - days to first contact: for the placements that started in the period, the days from the
 *   start to the agency's first completed contact attempt on the case (average over those
 *   contacted; those not yet contacted are counted apart);
 * - visits completed in the period, by outcome; violations and refusals of the contact policy;
 * - recalls in the period, by reason;
 * - complaints against the agency or its collectors (`againstAgencyId`) received in the period, and
 *   those the bank upheld in the period (decided UPHELD), of the records the viewer sees.
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { RecallReason, VisitOutcome } from '../../generated/prisma/enums.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { agencyVisibility } from '../../auth/scopes.ts';
import { caseScopeSql, inPeriodSql, recordScopeSql, type Period } from './scope.ts';
import type { AnalyticsDeps } from './deps.ts';

export interface AgencyScorecard {
  agencyId: string;
  placed: { currency: string; caseCount: number; balance: bigint }[];
  collected: { currency: string; amount: bigint; payments: number }[];
  promises: { made: number; kept: number; partial: number; broken: number };
  placementsStarted: number;
  placementsContacted: number;
  /** Sum of days to first contact over the contacted placements (the average is this ÷ placementsContacted). */
  daysToFirstContactTotal: number;
  visits: { outcome: VisitOutcome | null; count: number }[];
  violations: number;
  refusals: number;
  recalls: { reason: RecallReason; count: number }[];
  complaints: { received: number; upheld: number };
}

export interface ScorecardsReport {
  asOf: Date;
  source: 'LIVE' | 'ROLLUP';
  period: Period;
  scorecards: AgencyScorecard[];
}

export async function agencyScorecards(deps: AnalyticsDeps, viewer: Viewer, input: { period: Period }): Promise<ScorecardsReport> {
  const { period } = input;
  const agencies = await deps.prisma.agency.findMany({ where: agencyVisibility(viewer), select: { id: true }, orderBy: { name: 'asc' } });
  const ids = agencies.map((a) => a.id);
  if (!ids.length) return { asOf: deps.clock.now(), source: 'LIVE', period, scorecards: [] };
  const inAgencies = (alias: string) => Prisma.sql`${Prisma.raw(`${alias}."agencyId"`)} IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})`;
  const q = deps.prisma;
  const [placed, collected, promises, contact, visits, attempts, recalls, complaints] = await Promise.all([
    q.$queryRaw<{ agencyId: string; currency: string; caseCount: number; balance: string }[]>`
      SELECT c."assignedAgencyId"::text AS "agencyId", c.currency::text AS currency, COUNT(*)::int AS "caseCount", SUM(c."overdueTotal")::text AS balance
      FROM "Case" c
      WHERE c."assignedAgencyId" IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))}) AND ${caseScopeSql(viewer, 'c')}
      GROUP BY 1, 2`,
    q.$queryRaw<{ agencyId: string; currency: string; amount: string; payments: number }[]>`
      SELECT p."agencyId"::text AS "agencyId", p.currency::text AS currency, SUM(p.amount)::text AS amount, COUNT(*)::int AS payments
      FROM "Payment" p
      WHERE ${inAgencies('p')} AND ${inPeriodSql(period, 'p', 'receivedAt')} AND ${recordScopeSql(viewer, 'p')}
        AND NOT EXISTS (SELECT 1 FROM "PaymentReversal" r WHERE r."paymentId" = p.id)
      GROUP BY 1, 2`,
    q.$queryRaw<{ agencyId: string; made: number; kept: number; partial: number; broken: number }[]>`
      SELECT t."agencyId"::text AS "agencyId", COUNT(*)::int AS made,
        COUNT(*) FILTER (WHERE t.status = 'KEPT')::int AS kept,
        COUNT(*) FILTER (WHERE t.status = 'PARTIAL')::int AS partial,
        COUNT(*) FILTER (WHERE t.status = 'BROKEN')::int AS broken
      FROM "PromiseToPay" t
      WHERE ${inAgencies('t')} AND ${inPeriodSql(period, 't', 'createdAt')} AND ${recordScopeSql(viewer, 't')}
      GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; started: number; contacted: number; days: string | null }[]>`
      SELECT x."agencyId", COUNT(*)::int AS started, COUNT(x.first)::int AS contacted,
        SUM(EXTRACT(EPOCH FROM (x.first - x."startsAt")) / 86400)::text AS days
      FROM (
        SELECT pl."agencyId"::text AS "agencyId", pl."startsAt",
          (SELECT MIN(a."attemptedAt") FROM "ContactAttempt" a
            WHERE a."caseId" = pl."caseId" AND a."agencyId" = pl."agencyId" AND a.status = 'COMPLETED' AND a."attemptedAt" >= pl."startsAt"
              AND (pl."endedAt" IS NULL OR a."attemptedAt" < pl."endedAt")) AS first
        FROM "Placement" pl
        WHERE ${inAgencies('pl')} AND ${inPeriodSql(period, 'pl', 'startsAt')} AND ${recordScopeSql(viewer, 'pl')}
      ) x
      GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; outcome: VisitOutcome | null; count: number }[]>`
      SELECT v."agencyId"::text AS "agencyId", v.outcome::text AS outcome, COUNT(*)::int AS count
      FROM "Visit" v
      WHERE ${inAgencies('v')} AND ${inPeriodSql(period, 'v', 'completedAt')} AND ${recordScopeSql(viewer, 'v')}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    q.$queryRaw<{ agencyId: string; violations: number; refusals: number }[]>`
      SELECT a."agencyId"::text AS "agencyId", COUNT(*) FILTER (WHERE a.violation)::int AS violations, COUNT(*) FILTER (WHERE a.status = 'BLOCKED')::int AS refusals
      FROM "ContactAttempt" a
      WHERE ${inAgencies('a')} AND ${inPeriodSql(period, 'a', 'attemptedAt')} AND ${recordScopeSql(viewer, 'a')}
      GROUP BY 1`,
    q.$queryRaw<{ agencyId: string; reason: RecallReason; count: number }[]>`
      SELECT pl."agencyId"::text AS "agencyId", pl."recallReason"::text AS reason, COUNT(*)::int AS count
      FROM "Placement" pl
      WHERE ${inAgencies('pl')} AND pl."recallReason" IS NOT NULL AND ${inPeriodSql(period, 'pl', 'endedAt')} AND ${recordScopeSql(viewer, 'pl')}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    q.$queryRaw<{ agencyId: string; received: number; upheld: number }[]>`
      SELECT k."againstAgencyId"::text AS "agencyId",
        COUNT(*) FILTER (WHERE ${inPeriodSql(period, 'k', 'receivedAt')})::int AS received,
        COUNT(*) FILTER (WHERE k.status = 'UPHELD' AND ${inPeriodSql(period, 'k', 'decidedAt')})::int AS upheld
      FROM "Complaint" k
      WHERE k."againstAgencyId" IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})
        AND ((${inPeriodSql(period, 'k', 'receivedAt')}) OR (${inPeriodSql(period, 'k', 'decidedAt')}))
        AND ${recordScopeSql(viewer, 'k')}
      GROUP BY 1`,
  ]);
  return { asOf: deps.clock.now(), source: 'LIVE', period, scorecards: assembleScorecards(ids, { placed, collected, promises, contact, visits, attempts, recalls, complaints }) };
}

/** What each scorecard query answers, live or from the rollup. */
export interface ScorecardParts {
  placed: { agencyId: string; currency: string; caseCount: number; balance: string }[];
  collected: { agencyId: string; currency: string; amount: string; payments: number }[];
  promises: { agencyId: string; made: number; kept: number; partial: number; broken: number }[];
  contact: { agencyId: string; started: number; contacted: number; days: string | null }[];
  visits: { agencyId: string; outcome: VisitOutcome | null; count: number }[];
  attempts: { agencyId: string; violations: number; refusals: number }[];
  recalls: { agencyId: string; reason: RecallReason; count: number }[];
  complaints: { agencyId: string; received: number; upheld: number }[];
}

/** The scorecards of `ids` (in that order) from the answers of their queries. */
export function assembleScorecards(ids: readonly string[], { placed, collected, promises, contact, visits, attempts, recalls, complaints }: ScorecardParts): AgencyScorecard[] {
  const of = <T extends { agencyId: string }>(rows: T[], id: string) => rows.filter((r) => r.agencyId === id);
  return ids.map((id) => {
      const p = of(promises, id)[0];
      const c = of(contact, id)[0];
      const a = of(attempts, id)[0];
      const k = of(complaints, id)[0];
      return {
        agencyId: id,
        placed: of(placed, id).map((r) => ({ currency: r.currency, caseCount: Number(r.caseCount), balance: BigInt(r.balance) })).sort((x, y) => x.currency.localeCompare(y.currency)),
        collected: of(collected, id).map((r) => ({ currency: r.currency, amount: BigInt(r.amount), payments: Number(r.payments) })).sort((x, y) => x.currency.localeCompare(y.currency)),
        promises: { made: Number(p?.made ?? 0), kept: Number(p?.kept ?? 0), partial: Number(p?.partial ?? 0), broken: Number(p?.broken ?? 0) },
        placementsStarted: Number(c?.started ?? 0),
        placementsContacted: Number(c?.contacted ?? 0),
        daysToFirstContactTotal: c?.days ? Number(c.days) : 0,
        visits: of(visits, id).map((r) => ({ outcome: r.outcome, count: Number(r.count) })),
        violations: Number(a?.violations ?? 0),
        refusals: Number(a?.refusals ?? 0),
        recalls: of(recalls, id).map((r) => ({ reason: r.reason, count: Number(r.count) })),
        complaints: { received: Number(k?.received ?? 0), upheld: Number(k?.upheld ?? 0) },
      };
    });
}
