import type { Job } from './scheduler.ts';
import { escalateOverdueComplaints } from '../modules/care/complaints.ts';

export const COMPLAINT_ESCALATION_JOB = 'complaint-escalation';

/**
 * Complaints past their response or resolution deadline escalate (DOMAIN.md "Care, complaints
 * and disputes"). Hourly: a deadline is found within the hour; a re-run finds nothing new.
 */
export function complaintEscalationJob(): Job {
  return {
    name: COMPLAINT_ESCALATION_JOB,
    everyMs: 60 * 60_000,
    description: 'Escalates complaints not answered or not closed by the deadlines of the contact policy.',
    run: async (ctx) => escalateOverdueComplaints({ prisma: ctx.prisma, clock: ctx.clock, logger: ctx.logger }),
  };
}
