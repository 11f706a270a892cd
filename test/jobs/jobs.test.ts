import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { DAY_MS, bucketOf, daysPastDue } from '../../src/lib/time.ts';
import { JobScheduler, type Job } from '../../src/jobs/scheduler.ts';
import { bucketHistoryJob } from '../../src/jobs/buckets.ts';
import { placementExpiryJob } from '../../src/jobs/placements.ts';
import { defaultJobs, findJob, JOB_REGISTRY } from '../../src/jobs/index.ts';
import { recallCase } from '../../src/modules/cases/lifecycle.ts';
import { createLogger } from '../../src/lib/logger.ts';

let t: TestApp;
let s: Scenario;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const schedulerOf = (jobs: Job[]) =>
  new JobScheduler({ prisma: t.prisma, clock: t.clock, logger: createLogger('silent'), pii: t.pii }, jobs, { owner: 'test' });

async function succeeded(scheduler: JobScheduler, name: string) {
  const r = await scheduler.runOnce(name);
  if (r.status !== 'SUCCEEDED') throw new Error(`${name}: ${JSON.stringify(r)}`);
  return r.detail;
}

describe('the registry', () => {
  it('has the jobs of this issue with their cadences (later issues add theirs)', () => {
    const cadences = Object.fromEntries(defaultJobs().map((j) => [j.name, j.everyMs]));
    expect(Object.keys(JOB_REGISTRY).sort()).toEqual(Object.keys(cadences).sort());
    expect(cadences).toMatchObject({ 'bucket-history': 3_600_000, 'placement-expiry': 900_000, 'promise-checks': 3_600_000 });
    expect(findJob('placement-expiry')?.name).toBe('placement-expiry');
    expect(findJob('toString')).toBeUndefined();
  });
});

describe('bucket-history', () => {
  // Pages of 2 cases: the paging is exercised.
  const scheduler = () => schedulerOf([bucketHistoryJob({ batchSize: 2 })]);
  let ids: Record<'d30' | 'd31' | 'd180' | 'd181' | 'closed' | 'resolved', string>;
  const history = async () => {
    const rows = await t.prisma.bucketHistory.findMany({ where: { caseId: { in: Object.values(ids) } }, orderBy: [{ enteredAt: 'asc' }, { id: 'asc' }] });
    const by: Record<string, string[]> = {};
    for (const [k, id] of Object.entries(ids)) by[k] = rows.filter((r) => r.caseId === id).map((r) => r.bucket);
    return { rows, by };
  };

  beforeAll(async () => {
    t.clock.set('2026-11-28T02:00:00.000Z'); // 10:00 in Shanghai
    const now = t.clock.now();
    const mk = async (daysPastDue: number, stage?: 'CLOSED' | 'RESOLVED') => (await createCase(t.prisma, t.pii, { now, daysPastDue, ...(stage ? { stage } : {}) })).id;
    ids = { d30: await mk(30), d31: await mk(31), d180: await mk(180), d181: await mk(181), closed: await mk(45, 'CLOSED'), resolved: await mk(200, 'RESOLVED') };
  });

  it('appends the current bucket of every open case that has none, and ignores ended cases', async () => {
    const detail = await succeeded(scheduler(), 'bucket-history');
    expect(detail.appended).toBeGreaterThanOrEqual(4);
    const { rows, by } = await history();
    expect(by).toEqual({ d30: ['M1'], d31: ['M2'], d180: ['M6'], d181: ['M6_PLUS'], closed: [], resolved: [] });
    for (const r of rows) expect(r.enteredAt).toEqual(t.clock.now());
    // Exactly what the API shows (bucketOf of days past due).
    for (const c of await t.prisma.case.findMany({ where: { id: { in: [ids.d30, ids.d31, ids.d180, ids.d181] } } })) {
      const latest = rows.filter((r) => r.caseId === c.id).at(-1)!;
      expect(latest.bucket).toBe(bucketOf(daysPastDue(c.dueDate, t.clock.now())));
    }
  });

  it('appends nothing when run again at the same instant', async () => {
    const before = await history();
    const detail = await succeeded(scheduler(), 'bucket-history');
    expect(detail).toMatchObject({ appended: 0 });
    expect((await history()).rows).toEqual(before.rows);
  });

  it('appends nothing later the same Shanghai day, and moves the cases at the edge of a bucket after midnight in Shanghai', async () => {
    const before = await history();
    t.clock.set('2026-11-28T15:59:59.999Z'); // 23:59:59.999 in Shanghai
    expect(await succeeded(scheduler(), 'bucket-history')).toMatchObject({ appended: 0 });

    t.clock.set('2026-11-28T16:00:00.000Z'); // midnight in Shanghai: a day later
    const detail = await succeeded(scheduler(), 'bucket-history');
    expect(detail).toMatchObject({ appended: 2, entered: { M2: 1, M6_PLUS: 1 } });
    const after = await history();
    expect(after.by).toEqual({ d30: ['M1', 'M2'], d31: ['M2'], d180: ['M6', 'M6_PLUS'], d181: ['M6_PLUS'], closed: [], resolved: [] });
    // Append-only: every earlier row is there, unchanged.
    for (const r of before.rows) expect(after.rows).toContainEqual(r);
    const added = after.rows.filter((r) => !before.rows.some((b) => b.id === r.id));
    expect(added.map((r) => r.enteredAt)).toEqual([t.clock.now(), t.clock.now()]);

    t.clock.advance(DAY_MS);
    expect(await succeeded(scheduler(), 'bucket-history')).toMatchObject({ appended: 0 });
  });

  it('is set-based: one statement per page to read, one per page to append', async () => {
    t.clock.advance(31 * DAY_MS); // 32 → 63 and 33 → 64 days: M3; 182 and 183 → still M6_PLUS
    const statements: string[] = [];
    const off = t.runtime.store.onQuery((sql) => statements.push(sql));
    const job = bucketHistoryJob({ batchSize: 2 });
    let detail: Record<string, unknown>;
    try {
      detail = await job.run({ prisma: t.prisma, clock: t.clock, logger: createLogger('silent'), owner: 'test', runId: 'none', signal: new AbortController().signal });
    } finally {
      off();
    }
    // 4 open cases: 2 full pages, then an empty one; at most an insert per page.
    expect(detail).toMatchObject({ examined: 4, appended: 2, entered: { M3: 2 }, pages: 2 });
    const reads = statements.filter((q) => /^\s*SELECT/i.test(q));
    const inserts = statements.filter((q) => /^\s*INSERT/i.test(q));
    expect(reads).toHaveLength(3);
    expect(inserts.length).toBeGreaterThanOrEqual(1);
    expect(inserts.length).toBeLessThanOrEqual(2);
    expect(statements).toHaveLength(reads.length + inserts.length);
  });

  it('records the run with its counts', async () => {
    const run = await t.prisma.jobRun.findFirst({ where: { name: 'bucket-history' }, orderBy: { startedAt: 'desc' } });
    expect(run).toMatchObject({ status: 'SUCCEEDED', owner: 'test', detail: { appended: 0 } }); // the last run through the scheduler
    expect((run!.detail as { examined: number }).examined).toBeGreaterThanOrEqual(4);
  });
});

describe('placement-expiry', () => {
  let expired: string;
  let current: string;
  let closedExpired: string;
  const now = () => t.clock.now();

  beforeAll(async () => {
    t.clock.set('2026-12-10T02:00:00.000Z'); // 10:00 in Shanghai
    const mk = async (endsInDays: number, stage?: 'CLOSED') => {
      const c = await createCase(t.prisma, t.pii, { now: new Date(now().getTime() - 30 * DAY_MS), agencyId: s.north.id, collectorId: s.users.northAgent.id, ...(stage ? { stage } : {}) });
      await t.prisma.placement.updateMany({ where: { caseId: c.id }, data: { endsAt: new Date(now().getTime() + endsInDays * DAY_MS) } });
      return c.id;
    };
    expired = await mk(-1); // ended yesterday, 2026-12-09 10:00 in Shanghai
    current = await mk(1);
    closedExpired = await mk(-1, 'CLOSED');
  });

  const northCases = () => t.prisma.case.findMany({ where: { assignedAgencyId: s.north.id, id: { in: [expired, current] } }, select: { id: true } });

  it('recalls a case whose placement ended, as the system, and leaves one ending tomorrow alone', async () => {
    const versionBefore = (await t.prisma.case.findUniqueOrThrow({ where: { id: current } })).version;
    const detail = await succeeded(schedulerOf([placementExpiryJob()]), 'placement-expiry');
    expect(detail).toEqual({ due: 1, recalled: 1, changed: 0, failed: 0, failures: [] });

    const c = await t.prisma.case.findUniqueOrThrow({ where: { id: expired }, include: { placements: true } });
    expect(c.assignedAgencyId).toBeNull();
    expect(c.assignedCollectorId).toBeNull();
    expect(c.placements).toHaveLength(1);
    expect(c.placements[0]).toMatchObject({ endedAt: now(), recallReason: 'END_OF_PLACEMENT', recallNote: 'placement ended 2026-12-09', endedById: null });
    expect((await northCases()).map((x) => x.id)).toEqual([current]);

    const events = await t.prisma.caseEvent.findMany({ where: { caseId: expired, type: 'CASE_RECALLED' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: null, actorLabel: 'system', occurredAt: now(), agencyId: s.north.id });
    expect(events[0]!.data).toMatchObject({ reason: 'END_OF_PLACEMENT', note: 'placement ended 2026-12-09', agencyId: s.north.id });
    const audits = await t.prisma.auditEvent.findMany({ where: { caseId: expired, action: 'case.recall' } });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorId: null, reason: 'placement ended 2026-12-09' });

    const untouched = await t.prisma.case.findUniqueOrThrow({ where: { id: current }, include: { placements: true } });
    expect(untouched).toMatchObject({ assignedAgencyId: s.north.id, version: versionBefore });
    expect(untouched.placements[0]).toMatchObject({ endedAt: null, recallReason: null });

    // A closed case takes no writes: its stale placement is not touched.
    const closed = await t.prisma.placement.findFirstOrThrow({ where: { caseId: closedExpired } });
    expect(closed.endedAt).toBeNull();
  });

  it('changes nothing when run again', async () => {
    const counts = async () => ({ events: await t.prisma.caseEvent.count(), audits: await t.prisma.auditEvent.count(), ended: await t.prisma.placement.count({ where: { endedAt: { not: null } } }) });
    const before = await counts();
    t.clock.advance(60_000);
    expect(await succeeded(schedulerOf([placementExpiryJob()]), 'placement-expiry')).toEqual({ due: 0, recalled: 0, changed: 0, failed: 0, failures: [] });
    expect(await counts()).toEqual(before);
  });

  it('recalls the other once its end has passed', async () => {
    t.clock.advance(DAY_MS);
    expect(await succeeded(schedulerOf([placementExpiryJob()]), 'placement-expiry')).toMatchObject({ due: 1, recalled: 1 });
    expect(await northCases()).toEqual([]);
  });

  it('records a failure on one case and goes on with the others', async () => {
    const mk = async () => {
      const c = await createCase(t.prisma, t.pii, { now: new Date(now().getTime() - 30 * DAY_MS), agencyId: s.south.id });
      await t.prisma.placement.updateMany({ where: { caseId: c.id }, data: { endsAt: new Date(now().getTime() - 3_600_000) } });
      return c.id;
    };
    const broken = await mk();
    const fine = [await mk(), await mk()];
    const recall: typeof recallCase = async (deps, actor, input, options) => {
      if (input.caseId === broken) throw new Error('database hiccup');
      return recallCase(deps, actor, input, options);
    };
    const r = await schedulerOf([placementExpiryJob({ recall, batchSize: 1 })]).runOnce('placement-expiry');
    expect(r).toMatchObject({ status: 'SUCCEEDED', detail: { due: 3, recalled: 2, changed: 0, failed: 1 } });
    if (r.status !== 'SKIPPED') {
      expect(r.detail.failures).toEqual([{ caseId: broken, placementId: expect.any(String), error: 'database hiccup' }]);
    }
    for (const id of fine) expect((await t.prisma.case.findUniqueOrThrow({ where: { id } })).assignedAgencyId).toBeNull();
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: broken } })).assignedAgencyId).toBe(s.south.id);

    // The next run picks it up.
    t.clock.advance(60_000);
    expect(await succeeded(schedulerOf([placementExpiryJob()]), 'placement-expiry')).toMatchObject({ due: 1, recalled: 1, failed: 0 });
  });

  it('leaves a case written to meanwhile for the next run instead of recalling its new placement', async () => {
    const c = await createCase(t.prisma, t.pii, { now: new Date(now().getTime() - 30 * DAY_MS), agencyId: s.south.id });
    await t.prisma.placement.updateMany({ where: { caseId: c.id }, data: { endsAt: new Date(now().getTime() - 3_600_000) } });
    // Someone writes to the case between the job's read and its recall.
    const recall: typeof recallCase = async (deps, actor, input, options) => {
      await t.prisma.case.update({ where: { id: input.caseId }, data: { version: { increment: 1 } } });
      return recallCase(deps, actor, input, options);
    };
    expect(await succeeded(schedulerOf([placementExpiryJob({ recall })]), 'placement-expiry')).toMatchObject({ due: 1, recalled: 0, changed: 1, failed: 0 });
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).assignedAgencyId).toBe(s.south.id);
  });
});
