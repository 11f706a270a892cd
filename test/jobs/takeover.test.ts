// Work is taken over in seconds after a holder dies (issue 11, point 4): short job leases (15 s)
// renewed by a heartbeat, an abandoned run makes its job due at once, reminder claims renewed while
// a batch is handled, and the recording provider counts a repeated key as one message.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { DEFAULT_LEASE_MS, JobScheduler, type Job } from '../../src/jobs/scheduler.ts';
import { DEFAULT_LEASE_MS as CLAIM_LEASE_MS, claimDueReminders, dispatchDueReminders } from '../../src/modules/contact/outbox.ts';
import { RecordingProvider, type OutboundMessage } from '../../src/modules/contact/providers.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import { mobileOf } from '../contact/support.ts';

let t: TestApp;
const logger = createLogger('silent');

beforeAll(async () => {
  t = await createTestApp();
  await createPeople(t.prisma);
  await ensureDefaultTemplates(t.prisma);
  await ensureDefaultDunningRules(t.prisma);
});
afterAll(async () => t?.close());
beforeEach(() => t.clock.set(TEST_NOW));

describe('job leases', () => {
  it('are 15 s: a killed holder’s job is taken over once its lease expires, at once, whatever the cadence', async () => {
    expect(DEFAULT_LEASE_MS).toBe(15_000);
    let runs = 0;
    const job: Job = { name: 'takeover-job', everyMs: 30_000, run: async () => ({ n: ++runs }) };
    // The holder was killed (kill -9) one second into a run: its lease and its RUNNING run remain.
    const now = t.clock.now();
    await t.prisma.jobLease.create({ data: { name: job.name, owner: 'killed', leaseUntil: new Date(now.getTime() + DEFAULT_LEASE_MS) } });
    await t.prisma.jobRun.create({ data: { name: job.name, owner: 'killed', startedAt: new Date(now.getTime() - 1000), status: 'RUNNING' } });
    const b = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger }, [job], { owner: 'survivor' });
    expect((await b.tick())[0]).toMatchObject({ status: 'SKIPPED', reason: 'LEASE_HELD' });
    t.clock.advance(DEFAULT_LEASE_MS + 1);
    // 16 s after the last start: not due by the cadence (30 s), but the run was abandoned.
    const [r] = await b.tick();
    expect(r).toMatchObject({ status: 'SUCCEEDED', owner: 'survivor' });
    expect(runs).toBe(1);
    const all = await t.prisma.jobRun.findMany({ where: { name: job.name }, orderBy: { startedAt: 'asc' } });
    expect(all.map((x) => [x.owner, x.status])).toEqual([
      ['killed', 'ABANDONED'],
      ['survivor', 'SUCCEEDED'],
    ]);
  });

  it('stop the job when the heartbeat cannot renew the lease (another owner took it)', async () => {
    let aborted = false;
    const job: Job = {
      name: 'heartbeat-job',
      everyMs: 60_000,
      leaseMs: 600,
      run: ({ signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ stopped: true });
          });
          setTimeout(() => resolve({ stopped: false }), 3000);
        }),
    };
    const a = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger }, [job], { owner: 'holder' });
    const running = a.runOnce(job.name);
    await new Promise((r) => setTimeout(r, 100));
    await t.prisma.jobLease.update({ where: { name: job.name }, data: { owner: 'usurper' } });
    expect(await running).toMatchObject({ status: 'SUCCEEDED', detail: { stopped: true } });
    expect(aborted).toBe(true);
  });
});

describe('reminder claims', () => {
  async function dueReminder() {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 10, debtorName: '张三' });
    const mobile = await mobileOf(t.prisma, c.id);
    return t.prisma.reminder.create({
      data: {
        caseId: c.id,
        agencyId: c.assignedAgencyId,
        contactPointId: mobile.id,
        channel: 'SMS',
        templateKey: 'overdue-notice',
        language: 'ZH_CN',
        scheduledAt: t.clock.now(),
        nextAttemptAt: t.clock.now(),
        idempotencyKey: `takeover-${c.id}`,
        requestHash: 'test',
        createdAt: t.clock.now(),
      },
    });
  }

  it('are 15 s and renewed while the batch is handled: a slow send keeps its claim past the first lease', async () => {
    expect(CLAIM_LEASE_MS).toBe(15_000);
    const reminder = await dueReminder();
    const leaseMs = 600;
    let stolen: string[] = [];
    const slow = {
      name: 'slow',
      async send(msg: OutboundMessage) {
        // Time passes during the send, well beyond the claim's first lease; the heartbeat renews it.
        for (let i = 0; i < 3; i++) {
          t.clock.advance(400);
          await new Promise((r) => setTimeout(r, 450));
        }
        stolen = await claimDueReminders(t.prisma, 'another-dispatcher', t.clock.now(), leaseMs, 10);
        return { providerMessageId: `slow:${msg.reminderId}` };
      },
    };
    const result = await dispatchDueReminders({ prisma: t.prisma, clock: t.clock, logger, provider: slow }, { owner: 'dispatcher-a', leaseMs, random: () => 0 });
    expect(stolen).toEqual([]);
    expect(result).toMatchObject({ claimed: 1, sent: 1, lostLease: 0 });
    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: reminder.id } })).status).toBe('SENT');
  });
});

describe('the recording provider', () => {
  it('records a message once per idempotency key: a hand-over after a takeover is a repeat, not a second message', async () => {
    const reminder = await dueReminder2();
    const provider = new RecordingProvider(logger, t.prisma);
    const msg: OutboundMessage = { reminderId: reminder.id, idempotencyKey: reminder.idempotencyKey, channel: 'SMS', to: '13900000000', body: 'x' };
    const first = await provider.send(msg);
    const again = await provider.send(msg); // the dispatcher that took over sends the same key
    expect(again).toEqual(first);
    const rows = await t.prisma.recordedMessage.findMany({ where: { reminderId: reminder.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ idempotencyKey: reminder.idempotencyKey, handovers: 2 });
    await provider.send({ ...msg, idempotencyKey: `${reminder.idempotencyKey}-other` });
    expect(await t.prisma.recordedMessage.count({ where: { reminderId: reminder.id } })).toBe(2);
  });
});

async function dueReminder2() {
  const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 10 });
  const mobile = await mobileOf(t.prisma, c.id);
  return t.prisma.reminder.create({
    data: {
      caseId: c.id,
      agencyId: c.assignedAgencyId,
      contactPointId: mobile.id,
      channel: 'SMS',
      templateKey: 'overdue-notice',
      language: 'ZH_CN',
      scheduledAt: t.clock.now(),
      nextAttemptAt: t.clock.now(),
      idempotencyKey: `recorded-${c.id}`,
      requestHash: 'test',
      createdAt: t.clock.now(),
    },
  });
}
