/**
 * strategy-assignment (daily): applies the strategy in force to every open case
 * (src/modules/strategy/service.ts, runStrategyAssignment): segment, arm and treatment, a timeline
 * entry when they change, the work-queue priority, the placement the treatment asks for. The
 * lease (scheduler.ts) keeps two instances from running it at once; a re-run changes nothing.
 */
import { runStrategyAssignment } from '../modules/strategy/service.ts';
import type { Job } from './scheduler.ts';

export const STRATEGY_ASSIGNMENT_JOB = 'strategy-assignment';

export function strategyAssignmentJob(options: { everyMs?: number; batchSize?: number } = {}): Job {
  return {
    name: STRATEGY_ASSIGNMENT_JOB,
    everyMs: options.everyMs ?? 24 * 60 * 60_000,
    description: 'assign every open case its segment and treatment under the strategy in force (daily)',
    async run({ prisma, clock, pii, logger, signal }) {
      if (!pii) throw new Error('strategy-assignment needs the deployment’s secrets (the split key)');
      const result = await runStrategyAssignment({ prisma, clock }, pii.strategySplitKey(), { signal, ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
      if (result.failed) logger.warn({ failed: result.failed, failures: result.failures.slice(0, 5) }, 'strategy assignment: some cases failed');
      return { ...result };
    },
  };
}
