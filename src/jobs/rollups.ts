/**
 * analytics-rollup (every 6 hours): a new generation of the analytics rollups, the book as it
 * stands now (src/modules/analytics/rollup.ts). The reports answer from it while it is at most
 * 26 hours old, with its `asOf`; one transaction, so a report reads the previous generation until
 * this one commits.
 *
 * A small book is read live in milliseconds, and its figures should move as soon as a payment is
 * recorded: below `minCases` (ARREARS_ROLLUP_MIN_CASES, default 100,000) the job makes no rollup
 * and removes any earlier one, so that every report reads the tables.
 */
import { buildRollup, dropRollups } from '../modules/analytics/rollup.ts';
import type { Job } from './scheduler.ts';

export const ANALYTICS_ROLLUP_JOB = 'analytics-rollup';

export const DEFAULT_ROLLUP_MIN_CASES = 100_000;

function minCasesFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_ROLLUP_MIN_CASES;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`ARREARS_ROLLUP_MIN_CASES must be a whole number of cases (0: always), got "${value}"`);
  return n;
}

export function analyticsRollupJob(options: { everyMs?: number; minCases?: number } = {}): Job {
  const minCases = options.minCases ?? minCasesFromEnv(process.env.ARREARS_ROLLUP_MIN_CASES);
  return {
    name: ANALYTICS_ROLLUP_JOB,
    everyMs: options.everyMs ?? 6 * 60 * 60_000,
    description: `the analytics rollups: the reports' figures as they stand now, for books of ${minCases.toLocaleString('en')} cases or more (every 6 hours)`,
    async run({ prisma, clock }) {
      if (minCases > 0) {
        const [{ n }] = (await prisma.$queryRaw<{ n: number }[]>`SELECT COUNT(*)::int AS n FROM "Case"`) as [{ n: number }];
        if (n < minCases) return { skipped: `${n} cases, fewer than ${minCases}: the reports read the tables`, removed: await dropRollups(prisma) };
      }
      const r = await buildRollup(prisma, clock.now());
      return { asOf: r.asOf.toISOString(), cases: r.cases, portfolioRows: r.portfolioRows, paymentRows: r.paymentRows, rollRateRows: r.rollRateRows, activityRows: r.activityRows, ms: r.ms };
    },
  };
}
