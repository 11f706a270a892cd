import type { Job } from './scheduler.ts';

export const TABLE_STATISTICS_JOB = 'table-statistics';

/**
 * VACUUM (ANALYZE) of the whole database every 6 hours: the planner's statistics and the
 * visibility map that lets counts read indexes alone. The embedded store (PGlite) has no
 * autovacuum: without this, a large embedded book is planned blind (measured at 100,000 cases:
 * a search by ID number 118 ms before, against 2 ms on PostgreSQL). On PostgreSQL it only
 * repeats autovacuum's work, page by page where needed.
 */
export function tableStatisticsJob(options: { everyMs?: number } = {}): Job {
  return {
    name: TABLE_STATISTICS_JOB,
    everyMs: options.everyMs ?? 6 * 60 * 60_000,
    description: 'VACUUM (ANALYZE): planner statistics and the visibility map (every 6 hours; PGlite has no autovacuum)',
    async run({ prisma }) {
      const started = Date.now();
      await prisma.$executeRawUnsafe('VACUUM (ANALYZE)');
      return { ms: Date.now() - started };
    },
  };
}
