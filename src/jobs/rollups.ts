/**
 * analytics-rollup (every 6 hours): a new generation of the analytics rollups, the book as it
 * stands now (src/modules/analytics/rollup.ts). The portfolio and roll-rate reports answer from
 * it while it is at most 26 hours old, with its `asOf`; one transaction, so a report reads the
 * previous generation until this one commits.
 */
import { buildRollup } from '../modules/analytics/rollup.ts';
import type { Job } from './scheduler.ts';

export const ANALYTICS_ROLLUP_JOB = 'analytics-rollup';

export function analyticsRollupJob(options: { everyMs?: number } = {}): Job {
  return {
    name: ANALYTICS_ROLLUP_JOB,
    everyMs: options.everyMs ?? 6 * 60 * 60_000,
    description: 'the analytics rollups: the portfolio and roll rates as they stand now (every 6 hours)',
    async run({ prisma, clock }) {
      const r = await buildRollup(prisma, clock.now());
      return { asOf: r.asOf.toISOString(), cases: r.cases, portfolioRows: r.portfolioRows, paymentRows: r.paymentRows, rollRateRows: r.rollRateRows, ms: r.ms };
    },
  };
}
