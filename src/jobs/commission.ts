import type { Job } from './scheduler.ts';
import { issueDueCommissionStatements } from '../modules/commission/service.ts';

export const COMMISSION_STATEMENTS_JOB = 'commission-statements';

/**
 * Issues last month's commission statement of every agency with a fee schedule (issue 16 point
 * 5), once the month has ended in the bank's zone. Hourly: the first run of a month issues, every
 * later run finds them issued (DUPLICATE, skipped). A failure is retried by the next run.
 */
export function commissionStatementsJob(): Job {
  return {
    name: COMMISSION_STATEMENTS_JOB,
    everyMs: 60 * 60_000,
    description: "Issues last month's commission statements of the agencies with a fee schedule.",
    run: async (ctx) => issueDueCommissionStatements({ prisma: ctx.prisma, clock: ctx.clock, logger: ctx.logger }),
  };
}
