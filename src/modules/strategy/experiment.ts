/**
 * strategyExperiment: the arms of a champion-challenger segment compared over a period.
 *
 * The cohort of an arm: every case assigned to it (by the strategy's name, so across versions)
 * at some time inside the period [from, to). A case that moved between arms in the period (a
 * promotion, a change of segment and back) counts in each. Per case, over the period:
 *  - cured: the case was resolved (paid in full) in the period; a rate, Wilson interval;
 *  - collected: payments received in the period and not reversed, in minor units; a mean per
 *    case by currency, normal interval (stats.ts);
 *  - promise kept: promises falling due in the period that ended KEPT, among those that ended
 *    KEPT, PARTIAL or BROKEN; a rate over promises, Wilson interval;
 *  - complaints: the share of cases with a complaint received in the period; Wilson interval;
 *  - contact cost: completed contacts in the period weighted by channel (CONTACT_COST_UNITS: an
 *    SMS or e-mail 1, a call 5, a letter 10), a mean per case, normal interval.
 */
import { Prisma, type PrismaClient, type Strategy } from '../../generated/prisma/client.ts';
import { DomainError } from '../../lib/errors.ts';
import { addSample, meanInterval, wilson, type Interval, type MeanSums } from './stats.ts';
import { CHAMPION } from './definition.ts';
import { definitionOf } from './service.ts';

export const CONTACT_COST_UNITS = { SMS: 1, EMAIL: 1, CALL: 5, LETTER: 10 } as const;
const MAX_PERIOD_DAYS = 366;

export interface ArmResult {
  arm: string;
  /** Percent share in the strategy version asked about; null: an arm not in that version. */
  share: number | null;
  cases: number;
  cureRate: Interval;
  collectedPerCase: (Interval & { currency: string })[];
  promiseKeptRate: Interval;
  complaintRate: Interval;
  contactCostPerCase: Interval;
}

export interface ExperimentResult {
  strategy: Strategy;
  segmentKey: string;
  from: Date;
  to: Date;
  arms: ArmResult[];
}

interface Row {
  caseId: string;
  arm: string;
  currency: string;
  cured: boolean;
  collected: bigint;
  promisesKept: number;
  promisesEnded: number;
  complaints: number;
  contactCost: number;
}

export async function strategyExperiment(prisma: PrismaClient, input: { strategyId: string; segmentKey: string; from: Date; to: Date }): Promise<ExperimentResult> {
  const strategy = await prisma.strategy.findUnique({ where: { id: input.strategyId } });
  if (!strategy) throw new DomainError('NOT_FOUND', 'No such strategy', 'strategyId');
  const segment = definitionOf(strategy).segments.find((s) => s.key === input.segmentKey);
  if (!segment) throw new DomainError('NOT_FOUND', 'No such segment in the strategy', 'segmentKey');
  const { from, to } = input;
  if (!(from < to)) throw new DomainError('VALIDATION', 'from is before to', 'from');
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * 86_400_000) throw new DomainError('VALIDATION', `a period of at most ${MAX_PERIOD_DAYS} days`, 'to');
  const cost = Prisma.raw(`CASE x.channel::text ${Object.entries(CONTACT_COST_UNITS).map(([k, v]) => `WHEN '${k}' THEN ${v}`).join(' ')} ELSE 0 END`);
  const rows = await prisma.$queryRaw<Row[]>`
    WITH cohort AS (
      SELECT DISTINCT a."caseId", a.arm FROM "CaseStrategyAssignment" AS a
       WHERE a."strategyName" = ${strategy.name} AND a."segmentKey" = ${segment.key}
         AND a."assignedAt" < ${to} AND (a."endedAt" IS NULL OR a."endedAt" > ${from})
    )
    SELECT co."caseId"::text AS "caseId", co.arm, c.currency,
           (c.stage = 'RESOLVED' AND c."closedAt" >= ${from} AND c."closedAt" < ${to}) AS cured,
           COALESCE((SELECT sum(p.amount) FROM "Payment" AS p
                      WHERE p."caseId" = co."caseId" AND p."receivedAt" >= ${from} AND p."receivedAt" < ${to}
                        AND NOT EXISTS (SELECT 1 FROM "PaymentReversal" AS r WHERE r."paymentId" = p.id AND r."createdAt" < ${to})), 0)::bigint AS collected,
           (SELECT count(*)::int FROM "PromiseToPay" AS pr WHERE pr."caseId" = co."caseId" AND pr."promisedFor" >= ${from}::date AND pr."promisedFor" < ${to}::date AND pr.status = 'KEPT') AS "promisesKept",
           (SELECT count(*)::int FROM "PromiseToPay" AS pr WHERE pr."caseId" = co."caseId" AND pr."promisedFor" >= ${from}::date AND pr."promisedFor" < ${to}::date AND pr.status IN ('KEPT', 'PARTIAL', 'BROKEN')) AS "promisesEnded",
           (SELECT count(*)::int FROM "Complaint" AS k WHERE k."caseId" = co."caseId" AND k."receivedAt" >= ${from} AND k."receivedAt" < ${to}) AS complaints,
           (SELECT COALESCE(sum(${cost}), 0)::int FROM "ContactAttempt" AS x WHERE x."caseId" = co."caseId" AND x.status = 'COMPLETED' AND x."attemptedAt" >= ${from} AND x."attemptedAt" < ${to}) AS "contactCost"
      FROM cohort AS co JOIN "Case" AS c ON c.id = co."caseId"`;

  const shares = new Map<string, number>([[CHAMPION, 100 - segment.challengers.reduce((n, c) => n + c.share, 0)], ...segment.challengers.map((c) => [c.key, c.share] as [string, number])]);
  const armKeys = [...shares.keys()];
  for (const r of rows) if (!armKeys.includes(r.arm)) armKeys.push(r.arm);
  const arms = armKeys.map((arm): ArmResult => {
    const mine = rows.filter((r) => r.arm === arm);
    const collected = new Map<string, MeanSums>();
    const contact: MeanSums = { n: 0, sum: 0, sumSquares: 0 };
    let cured = 0;
    let kept = 0;
    let ended = 0;
    let complained = 0;
    for (const r of mine) {
      if (r.cured) cured++;
      kept += r.promisesKept;
      ended += r.promisesEnded;
      if (r.complaints > 0) complained++;
      let sums = collected.get(r.currency);
      if (!sums) collected.set(r.currency, (sums = { n: 0, sum: 0, sumSquares: 0 }));
      addSample(sums, Number(r.collected));
      addSample(contact, r.contactCost);
    }
    return {
      arm,
      share: shares.get(arm) ?? null,
      cases: mine.length,
      cureRate: wilson(cured, mine.length),
      collectedPerCase: [...collected.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, s]) => {
        const i = meanInterval(s);
        // Money: whole minor units, the interval rounded outward.
        return { currency, n: i.n, estimate: i.estimate === null ? null : Math.round(i.estimate), low: i.low === null ? null : Math.floor(i.low), high: i.high === null ? null : Math.ceil(i.high) };
      }),
      promiseKeptRate: wilson(kept, ended),
      complaintRate: wilson(complained, mine.length),
      contactCostPerCase: meanInterval(contact),
    };
  });
  return { strategy, segmentKey: segment.key, from, to, arms };
}
