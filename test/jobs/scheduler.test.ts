import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { JobScheduler, type Job, type JobContext } from '../../src/jobs/scheduler.ts';
import { createTestStore } from '../support/store.ts';

let store: Store;
const clock = new FixedClock('2026-11-28T02:00:00.000Z');
const logger = createLogger('silent');
const MIN = 60_000;

beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => store?.close());

let n = 0;
let jobName: string;
beforeEach(() => {
  jobName = `test-job-${++n}`; // a fresh name per test: its own lease and runs
});

/** A job that waits for the test to let it finish, counting its executions. */
function gatedJob(name: string, options: { everyMs?: number; leaseMs?: number } = {}) {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const startedP = new Promise<void>((r) => (started = r));
  const calls: JobContext[] = [];
  const job: Job = {
    name,
    everyMs: options.everyMs ?? 60 * MIN,
    leaseMs: options.leaseMs ?? 5 * MIN,
    async run(ctx) {
      calls.push(ctx);
      started();
      await gate;
      return { done: calls.length };
    },
  };
  return { job, calls, release: () => release(), started: startedP };
}

function countingJob(name: string, everyMs = 60 * MIN): Job & { calls: number } {
  const job = {
    name,
    everyMs,
    calls: 0,
    async run() {
      job.calls++;
      return { count: job.calls, big: 12345678901234567890n, at: clock.now() };
    },
  };
  return job;
}

const scheduler = (owner: string, jobs: Job[]) => new JobScheduler({ prisma: store.prisma, clock, logger }, jobs, { owner });
const runs = (name: string) => store.prisma.jobRun.findMany({ where: { name }, orderBy: { startedAt: 'asc' } });
const lease = (name: string) => store.prisma.jobLease.findUnique({ where: { name } });

describe('the lease', () => {
  it('lets exactly one of two instances run a job when both try at the same instant', async () => {
    const job = countingJob(jobName);
    const a = scheduler('instance-a', [job]);
    const b = scheduler('instance-b', [job]);
    const results = await Promise.all([a.runOnce(jobName), b.runOnce(jobName)]);
    expect(results.map((r) => r.status).sort()).toEqual(['SKIPPED', 'SUCCEEDED']);
    expect(job.calls).toBe(1);
    const skipped = results.find((r) => r.status === 'SKIPPED')!;
    expect(skipped).toMatchObject({ reason: 'LEASE_HELD' });
    expect(await runs(jobName)).toHaveLength(1);
  });

  it('keeps a second instance out while the first runs, and lets it in once the lease is released and time moves on', async () => {
    const g = gatedJob(jobName);
    const a = scheduler('instance-a', [g.job]);
    const b = scheduler('instance-b', [g.job]);
    const first = a.runOnce(jobName);
    await g.started;
    const held = await b.runOnce(jobName);
    expect(held).toMatchObject({ status: 'SKIPPED', reason: 'LEASE_HELD', holder: 'instance-a' });
    if (held.status === 'SKIPPED') expect(held.leaseUntil).toEqual(new Date(clock.now().getTime() + 5 * MIN));
    const [running] = await runs(jobName);
    expect(running).toMatchObject({ status: 'RUNNING', owner: 'instance-a', finishedAt: null, startedAt: clock.now() });

    g.release();
    const done = await first;
    expect(done).toMatchObject({ status: 'SUCCEEDED', detail: { done: 1 }, owner: 'instance-a' });
    // Released: it expires at the instant the job finished.
    expect((await lease(jobName))?.leaseUntil).toEqual(clock.now());

    clock.advance(1);
    const second = b.runOnce(jobName);
    const result = await second;
    expect(result).toMatchObject({ status: 'SUCCEEDED', owner: 'instance-b' });
    const all = await runs(jobName);
    expect(all.map((r) => [r.owner, r.status])).toEqual([
      ['instance-a', 'SUCCEEDED'],
      ['instance-b', 'SUCCEEDED'],
    ]);
  });

  it("lets another instance take over a crashed holder's lease once it expires, marking the dead run ABANDONED", async () => {
    const now = clock.now();
    await store.prisma.jobLease.create({ data: { name: jobName, owner: 'crashed', leaseUntil: new Date(now.getTime() + 5 * MIN) } });
    await store.prisma.jobRun.create({ data: { name: jobName, owner: 'crashed', startedAt: new Date(now.getTime() - MIN), status: 'RUNNING' } });
    const job = countingJob(jobName);
    const b = scheduler('instance-b', [job]);

    clock.advance(5 * MIN); // leaseUntil == now: not yet expired
    expect(await b.runOnce(jobName)).toMatchObject({ status: 'SKIPPED', reason: 'LEASE_HELD', holder: 'crashed' });
    expect(job.calls).toBe(0);

    clock.advance(1);
    expect(await b.runOnce(jobName)).toMatchObject({ status: 'SUCCEEDED' });
    const all = await runs(jobName);
    expect(all.map((r) => [r.owner, r.status])).toEqual([
      ['crashed', 'ABANDONED'],
      ['instance-b', 'SUCCEEDED'],
    ]);
    expect(all[0]!.finishedAt).toEqual(clock.now());
    expect(await lease(jobName)).toMatchObject({ owner: 'instance-b', leaseUntil: clock.now() });
  });

  it('records a failing job as FAILED with the error, and releases the lease', async () => {
    const failing: Job = {
      name: jobName,
      everyMs: 60 * MIN,
      async run() {
        throw new Error('the provider is down');
      },
    };
    const a = scheduler('instance-a', [failing]);
    const result = await a.runOnce(jobName);
    expect(result).toMatchObject({ status: 'FAILED', error: 'the provider is down', detail: { error: 'the provider is down' } });
    const [run] = await runs(jobName);
    expect(run).toMatchObject({ status: 'FAILED', owner: 'instance-a', startedAt: clock.now(), finishedAt: clock.now(), detail: { error: 'the provider is down' } });
    expect((await lease(jobName))?.leaseUntil).toEqual(clock.now());

    clock.advance(1);
    const b = scheduler('instance-b', [countingJob(jobName)]);
    expect(await b.runOnce(jobName)).toMatchObject({ status: 'SUCCEEDED', owner: 'instance-b' });
  });

  it('stores the detail as JSON and takes every time from the injected clock', async () => {
    clock.set('2030-01-02T03:04:05.678Z');
    const a = scheduler('instance-a', [countingJob(jobName)]);
    const result = await a.runOnce(jobName);
    expect(result).toMatchObject({ status: 'SUCCEEDED', detail: { count: 1, big: '12345678901234567890', at: '2030-01-02T03:04:05.678Z' } });
    const [run] = await runs(jobName);
    expect(run!.startedAt.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect(run!.finishedAt!.toISOString()).toBe('2030-01-02T03:04:05.678Z');
    expect(run!.detail).toEqual({ count: 1, big: '12345678901234567890', at: '2030-01-02T03:04:05.678Z' });
    clock.set('2026-11-28T02:00:00.000Z');
  });
});

describe('while a job runs', () => {
  it('renews the lease by the clock, and aborts the job when the lease is lost', async () => {
    const g = gatedJob(jobName, { leaseMs: 3000 }); // renewed every second (real time)
    const a = scheduler('instance-a', [g.job]);
    const running = a.runOnce(jobName);
    await g.started;
    clock.advance(2 * MIN);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await lease(jobName)).toMatchObject({ owner: 'instance-a', leaseUntil: new Date(clock.now().getTime() + 3000) });
    expect(g.calls[0]!.signal.aborted).toBe(false);

    // Someone else has it now (the job stalled past its lease, say): the job is told to stop.
    await store.prisma.jobLease.update({ where: { name: jobName }, data: { owner: 'instance-b' } });
    await new Promise((r) => setTimeout(r, 1300));
    expect(g.calls[0]!.signal.aborted).toBe(true);
    g.release();
    expect(await running).toMatchObject({ status: 'SUCCEEDED' });
    // Not released by a, which no longer holds it.
    expect(await lease(jobName)).toMatchObject({ owner: 'instance-b' });
  });
});

describe('in one process', () => {
  it('does not start a job that is already running', async () => {
    const g = gatedJob(jobName);
    const a = scheduler('instance-a', [g.job]);
    const first = a.runOnce(jobName);
    const again = await a.runOnce(jobName);
    expect(again).toEqual({ name: jobName, status: 'SKIPPED', reason: 'ALREADY_RUNNING' });
    await g.started;
    expect(await a.tick()).toEqual([]); // tick passes it by
    g.release();
    expect(await first).toMatchObject({ status: 'SUCCEEDED' });
    expect(g.calls).toHaveLength(1);
    expect(await runs(jobName)).toHaveLength(1);
  });

  it('refuses an unknown job and two jobs of one name', async () => {
    const a = scheduler('instance-a', [countingJob(jobName)]);
    await expect(a.runOnce('no-such-job')).rejects.toThrow(/no job named no-such-job/);
    expect(() => scheduler('x', [countingJob(jobName), countingJob(jobName)])).toThrow(/two jobs/);
  });
});

describe('the cadence', () => {
  it('runs a due job on tick, not again before everyMs has passed, and again after', async () => {
    const job = countingJob(jobName, 15 * MIN);
    const a = scheduler('instance-a', [job]);
    expect((await a.tick()).map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(await a.tick()).toEqual([]); // this process knows it is not due
    clock.advance(15 * MIN - 1);
    expect(await a.tick()).toEqual([]);
    clock.advance(1);
    expect((await a.tick()).map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(job.calls).toBe(2);
  });

  it('is shared by the instances: a job another instance just ran is not due', async () => {
    const job = countingJob(jobName, 15 * MIN);
    const a = scheduler('instance-a', [job]);
    const b = scheduler('instance-b', [job]);
    expect((await a.tick()).map((r) => r.status)).toEqual(['SUCCEEDED']);
    clock.advance(MIN);
    const [skip] = await b.tick();
    expect(skip).toMatchObject({ status: 'SKIPPED', reason: 'NOT_DUE', nextDueAt: new Date(clock.now().getTime() + 14 * MIN) });
    expect(await b.tick()).toEqual([]); // remembered: no query until then
    expect(job.calls).toBe(1);
    expect((await lease(jobName))?.leaseUntil).toEqual(clock.now()); // b released what it took to look
    // runOnce does not care about the cadence.
    expect(await b.runOnce(jobName)).toMatchObject({ status: 'SUCCEEDED', owner: 'instance-b' });
    clock.advance(14 * MIN);
    // Due again 15 minutes after b's run, not after a's.
    expect((await a.tick()).map((r) => r.status)).toEqual(['SKIPPED']);
    clock.advance(MIN);
    expect((await a.tick()).map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(job.calls).toBe(3);
  });
});

describe('start and stop', () => {
  it('ticks on its own timer, and stop() waits for the running job and aborts its signal', async () => {
    const g = gatedJob(jobName);
    const a = new JobScheduler({ prisma: store.prisma, clock, logger }, [g.job], { owner: 'instance-a', tickMs: 20 });
    a.start();
    await g.started;
    let stopped = false;
    const stopping = a.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    expect(g.calls[0]!.signal.aborted).toBe(true);
    g.release();
    await stopping;
    expect(stopped).toBe(true);
    const all = await runs(jobName);
    expect(all.map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(await a.runOnce(jobName)).toMatchObject({ status: 'SKIPPED', reason: 'STOPPING' });
  });
});
