import type { Job } from './scheduler.ts';
import { checkPromisesAndInstalments } from '../modules/repayment/service.ts';

export const PROMISE_CHECKS_JOB = 'promise-checks';

/**
 * Broken promises and missed instalments (DOMAIN.md, "Promises to pay and repayment plans").
 * The check is a daily one in the domain's words; running it hourly only finds them sooner, and
 * a re-run finds nothing new.
 */
export function promiseChecksJob(): Job {
  return {
    name: PROMISE_CHECKS_JOB,
    everyMs: 60 * 60_000,
    description: 'Marks promises broken and plans broken when their date plus the grace days passed short.',
    run: async (ctx) => checkPromisesAndInstalments({ prisma: ctx.prisma, clock: ctx.clock, logger: ctx.logger }),
  };
}
