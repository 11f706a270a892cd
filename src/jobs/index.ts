/**
 * The periodic jobs of Arrears, by name. Later issues add theirs here (the reminder dispatcher,
 * the promise checks): the scheduler and `npm run job -- <name>` pick them up.
 */
import type { Job } from './scheduler.ts';
import { bucketHistoryJob, BUCKET_HISTORY_JOB } from './buckets.ts';
import { placementExpiryJob, PLACEMENT_EXPIRY_JOB } from './placements.ts';
import { promiseChecksJob, PROMISE_CHECKS_JOB } from './promises.ts';
import { tableStatisticsJob, TABLE_STATISTICS_JOB } from './statistics.ts';
import { exportsJob, EXPORTS_JOB } from './exports.ts';
import { analyticsRollupJob, ANALYTICS_ROLLUP_JOB } from './rollups.ts';
import { reminderDispatchJob, automaticRemindersJob, REMINDER_DISPATCH_JOB, AUTOMATIC_REMINDERS_JOB } from './reminders.ts';
import { complaintEscalationJob, COMPLAINT_ESCALATION_JOB } from './complaints.ts';
import { commissionStatementsJob, COMMISSION_STATEMENTS_JOB } from './commission.ts';
import { strategyAssignmentJob, STRATEGY_ASSIGNMENT_JOB } from './strategy.ts';

export { JobScheduler, type Job, type JobContext, type JobDeps, type JobRunResult, type JobSchedulerOptions } from './scheduler.ts';
export { bucketHistoryJob, BUCKET_HISTORY_JOB } from './buckets.ts';
export { placementExpiryJob, PLACEMENT_EXPIRY_JOB } from './placements.ts';

/** Every job, built with its defaults. */
export const JOB_REGISTRY: Readonly<Record<string, () => Job>> = {
  [BUCKET_HISTORY_JOB]: () => bucketHistoryJob(),
  [PLACEMENT_EXPIRY_JOB]: () => placementExpiryJob(),
  [PROMISE_CHECKS_JOB]: () => promiseChecksJob(),
  [REMINDER_DISPATCH_JOB]: () => reminderDispatchJob(),
  [AUTOMATIC_REMINDERS_JOB]: () => automaticRemindersJob(),
  [TABLE_STATISTICS_JOB]: () => tableStatisticsJob(),
  [COMPLAINT_ESCALATION_JOB]: () => complaintEscalationJob(),
  [EXPORTS_JOB]: () => exportsJob(),
  [ANALYTICS_ROLLUP_JOB]: () => analyticsRollupJob(),
  [COMMISSION_STATEMENTS_JOB]: () => commissionStatementsJob(),
  [STRATEGY_ASSIGNMENT_JOB]: () => strategyAssignmentJob(),
};

/** The jobs a server runs. */
export function defaultJobs(): Job[] {
  return Object.values(JOB_REGISTRY).map((make) => make());
}

/** One job by name, or undefined. */
export function findJob(name: string): Job | undefined {
  const make = Object.hasOwn(JOB_REGISTRY, name) ? JOB_REGISTRY[name] : undefined;
  return make?.();
}
