// The embedded store has no autovacuum: the statistics job gives its planner what PostgreSQL's gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/store.ts';
import { findJob } from '../../src/jobs/index.ts';
import { TABLE_STATISTICS_JOB } from '../../src/jobs/statistics.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { FixedClock } from '../../src/lib/time.ts';
import type { Store } from '../../src/db/store.ts';

let store: Store;
beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => store?.close());

describe('table-statistics', () => {
  it('analyzes every table (the planner knows how many rows there are)', async () => {
    const job = findJob(TABLE_STATISTICS_JOB)!;
    expect(job.everyMs).toBe(6 * 60 * 60_000);
    await store.prisma.$executeRawUnsafe(`INSERT INTO "Agency" (id, code, name, "licenseNumber", "dataProcessingContractRef", "updatedAt") SELECT gen_random_uuid(), 'A' || g, 'A', 'L', 'D', now() FROM generate_series(1, 50) g`);
    const analyzed = () =>
      store.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pg_stat_user_tables WHERE relname = 'Agency' AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`);
    const controller = new AbortController();
    const result = await job.run({ prisma: store.prisma, clock: new FixedClock('2026-12-01T00:00:00Z'), logger: createLogger('silent'), owner: 'test', runId: 'r', signal: controller.signal });
    expect(result['ms']).toEqual(expect.any(Number));
    expect(Number((await analyzed())[0]!.n)).toBe(1);
    const [stats] = await store.prisma.$queryRawUnsafe<{ reltuples: number }[]>(`SELECT reltuples FROM pg_class WHERE relname = 'Agency'`);
    expect(Number(stats!.reltuples)).toBe(50);
  });
});
