import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { DAY_MS } from '../../src/lib/time.ts';
import { createAutomaticReminders, dunningOccurrence } from '../../src/modules/contact/dunning.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import { JobScheduler } from '../../src/jobs/scheduler.ts';
import { automaticRemindersJob, reminderDispatchJob, AUTOMATIC_REMINDERS_JOB, REMINDER_DISPATCH_JOB } from '../../src/jobs/reminders.ts';
import { FakeProvider, SHANGHAI, mobileOf } from './support.ts';

let t: TestApp;
const logger = createLogger('silent');
let rules: Record<string, { id: string }>;
let s: Scenario;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  await ensureDefaultTemplates(t.prisma);
  await ensureDefaultDunningRules(t.prisma);
  rules = Object.fromEntries((await t.prisma.dunningRule.findMany()).map((r) => [r.name, r]));
});
afterAll(async () => t?.close());
beforeEach(() => t.clock.set(TEST_NOW)); // 10:00 in Shanghai

const run = (batchSize?: number) => createAutomaticReminders({ prisma: t.prisma, clock: t.clock, logger }, batchSize ? { batchSize } : {});
const remindersOf = (caseId: string) => t.prisma.reminder.findMany({ where: { caseId }, orderBy: [{ createdAt: 'asc' }, { idempotencyKey: 'asc' }] });
const newCase = (daysPastDue: number, extra: Partial<Parameters<typeof createCase>[2]> = {}) => createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue, ...extra });

describe('dunningOccurrence', () => {
  it('is 0 once for a cadence of 0, and counts cadences inside the band', () => {
    const once = { minDaysPastDue: 1, maxDaysPastDue: 7, cadenceDays: 0 };
    expect([0, 1, 7, 8].map((d) => dunningOccurrence(once, d))).toEqual([null, 0, 0, null]);
    const weekly = { minDaysPastDue: 8, maxDaysPastDue: 30, cadenceDays: 7 };
    expect([7, 8, 14, 15, 22, 29, 30, 31].map((d) => dunningOccurrence(weekly, d))).toEqual([null, 0, 0, 1, 2, 3, 3, null]);
    expect(dunningOccurrence({ minDaysPastDue: 91, maxDaysPastDue: null, cadenceDays: 14 }, 500)).toBe(29);
  });
});

describe('createAutomaticReminders', () => {
  it('gives a case 1 day past due exactly one overdue-notice SMS, now, and a re-run creates nothing', async () => {
    const c = await newCase(1);
    const mobile = await mobileOf(t.prisma, c.id);
    const first = await run();
    expect(first.created).toBeGreaterThanOrEqual(1);
    const rs = await remindersOf(c.id);
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({
      channel: 'SMS',
      templateKey: 'overdue-notice',
      status: 'SCHEDULED',
      automatic: true,
      language: 'ZH_CN',
      contactPointId: mobile.id,
      dunningRuleId: rules['overdue-notice-sms']!.id,
      idempotencyKey: `auto:${c.id}:${rules['overdue-notice-sms']!.id}:0`,
      attempts: 0,
      createdById: null,
    });
    expect(rs[0]!.scheduledAt).toEqual(t.clock.now());
    expect(rs[0]!.nextAttemptAt).toEqual(t.clock.now());
    const events = await t.prisma.caseEvent.findMany({ where: { caseId: c.id, type: 'REMINDER_SCHEDULED' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorLabel: 'system', actorId: null, data: { reminderId: rs[0]!.id, automatic: true } });
    expect(await t.prisma.auditEvent.count({ where: { action: 'reminder.autoSchedule' } })).toBeGreaterThanOrEqual(1);

    const totals = { reminders: await t.prisma.reminder.count(), events: await t.prisma.caseEvent.count(), audits: await t.prisma.auditEvent.count() };
    const again = await run();
    expect(again.created).toBe(0);
    expect(again.existing).toBe(first.created + first.existing);
    expect({ reminders: await t.prisma.reminder.count(), events: await t.prisma.caseEvent.count(), audits: await t.prisma.auditEvent.count() }).toEqual(totals);

    // Later the same week: still the one notice (cadence 0: once per rule).
    t.clock.advance(3 * DAY_MS);
    await run();
    expect(await remindersOf(c.id)).toHaveLength(1);
  });

  it('sends the follow-ups the rules ask for as the case moves to day 8 and day 15, never twice', async () => {
    const c = await newCase(1);
    await run();
    const start = t.clock.now().getTime();
    const at = async (dpd: number) => {
      t.clock.set(new Date(start + (dpd - 1) * DAY_MS));
      await run();
      return (await remindersOf(c.id)).map((r) => `${r.templateKey}#${r.idempotencyKey.split(':')[3]}`);
    };
    expect(await at(7)).toEqual(['overdue-notice#0']);
    expect(await at(8)).toEqual(['overdue-notice#0', 'overdue-followup#0']);
    expect(await at(9)).toEqual(['overdue-notice#0', 'overdue-followup#0']);
    expect(await at(14)).toEqual(['overdue-notice#0', 'overdue-followup#0']);
    expect(await at(15)).toEqual(['overdue-notice#0', 'overdue-followup#0', 'overdue-followup#1']);
    expect(await at(15)).toHaveLength(3);
    const rs = await remindersOf(c.id);
    expect(rs[1]!.dunningRuleId).toBe(rules['followup-sms-m1']!.id);
    expect(rs[2]!.scheduledAt).toEqual(new Date(start + 14 * DAY_MS));
  });

  it('gives nothing to held, ceased, ended, paid, not yet overdue or uncontactable cases', async () => {
    const held = await newCase(3);
    await t.prisma.hold.create({ data: { caseId: held.id, reason: 'DISPUTE', startsAt: new Date(t.clock.now().getTime() - DAY_MS) } });
    const released = await newCase(3);
    await t.prisma.hold.create({ data: { caseId: released.id, reason: 'DISPUTE', startsAt: new Date(t.clock.now().getTime() - 2 * DAY_MS), releasedAt: new Date(t.clock.now().getTime() - DAY_MS) } });
    const ceased = await newCase(3);
    await t.prisma.debtor.update({ where: { id: ceased.debtorId }, data: { ceaseContact: true, ceaseContactAt: t.clock.now() } });
    const closed = await newCase(40, { stage: 'CLOSED' });
    const paid = await newCase(40, { status: 'PAID' });
    const dueToday = await newCase(0);
    const dnc = await newCase(3);
    await t.prisma.contactPoint.updateMany({ where: { debtorId: dnc.debtorId }, data: { doNotContact: true } });
    // An emergency contact's mobile is never used for the debt.
    await t.prisma.contactPoint.create({ data: { debtorId: dnc.debtorId, kind: 'MOBILE', party: 'THIRD_PARTY', relation: 'spouse', value: '13900001111', primary: false } });

    const result = await run();
    expect(result.noContactPoint).toBeGreaterThanOrEqual(1);
    for (const c of [held, ceased, closed, paid, dueToday, dnc]) expect(await remindersOf(c.id), c.id).toHaveLength(0);
    expect((await remindersOf(released.id)).map((r) => r.templateKey)).toEqual(['overdue-notice']);
  });

  it('schedules at the next start of contact hours when run at night, in the debtor own zone', async () => {
    t.clock.set(SHANGHAI('2026-11-28T23:00:00'));
    const night = await newCase(2);
    // A US debtor in New York: 23:00 in Shanghai is 10:00 there, inside its hours.
    const us = await newCase(2, { currency: 'USD' });
    await t.prisma.debtor.update({ where: { id: us.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York', language: 'EN' } });
    await run();
    const [n] = await remindersOf(night.id);
    expect(n!.scheduledAt).toEqual(SHANGHAI('2026-11-29T08:00:00'));
    expect(n!.nextAttemptAt).toEqual(SHANGHAI('2026-11-29T08:00:00'));
    const [u] = await remindersOf(us.id);
    expect(u).toMatchObject({ language: 'EN', templateKey: 'overdue-notice' });
    expect(u!.scheduledAt).toEqual(t.clock.now());

    // 10:00 in Shanghai is 21:00 in New York, past the US preset's 21:00 end: 08:00 New York (EST) next morning.
    t.clock.set(TEST_NOW);
    const usLate = await newCase(2);
    await t.prisma.debtor.update({ where: { id: usLate.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York' } });
    await run();
    const [l] = await remindersOf(usLate.id);
    expect(l!.scheduledAt).toEqual(new Date('2026-11-28T13:00:00.000Z'));
  });

  it('e-mails weekly where the debtor has an own e-mail address, and pages through every case', async () => {
    const c = await newCase(20);
    const email = await t.prisma.contactPoint.create({ data: { debtorId: c.debtorId, kind: 'EMAIL', value: 'debtor@example.cn', primary: true } });
    const others = [await newCase(45, { agencyId: s.north.id }), await newCase(100), await newCase(200)];
    await run(2);
    // A placed case's reminder and event carry the agency's era.
    const [placed] = await remindersOf(others[0]!.id);
    expect(placed!.agencyId).toBe(s.north.id);
    expect((await t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: others[0]!.id, type: 'REMINDER_SCHEDULED' } })).agencyId).toBe(s.north.id);
    const rs = await remindersOf(c.id);
    expect(rs.map((r) => [r.channel, r.templateKey]).sort()).toEqual([
      ['EMAIL', 'overdue-email'],
      ['SMS', 'overdue-followup'],
    ]);
    expect(rs.find((r) => r.channel === 'EMAIL')!.contactPointId).toBe(email.id);
    // Day 20: occurrence floor((20 − 8) / 7) = 1 of the M1 follow-ups, floor((20 − 1) / 7) = 2 of the e-mails.
    expect(rs.map((r) => r.idempotencyKey.split(':')[3]).sort()).toEqual(['1', '2']);
    expect((await remindersOf(others[0]!.id)).map((r) => r.templateKey)).toEqual(['overdue-followup']);
    expect((await remindersOf(others[1]!.id)).map((r) => r.templateKey)).toEqual(['final-notice']);
    expect((await remindersOf(others[2]!.id)).map((r) => r.idempotencyKey.split(':')[3])).toEqual(['7']);
  });
});

describe('the reminder jobs', () => {
  it('automatic-reminders creates, reminder-dispatch sends, through the scheduler', async () => {
    const c = await newCase(1);
    const provider = new FakeProvider();
    const scheduler = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger }, [automaticRemindersJob(), reminderDispatchJob({ provider })], { owner: 'test' });
    const created = await scheduler.runOnce(AUTOMATIC_REMINDERS_JOB);
    expect(created).toMatchObject({ status: 'SUCCEEDED' });
    const dispatched = await scheduler.runOnce(REMINDER_DISPATCH_JOB);
    expect(dispatched).toMatchObject({ status: 'SUCCEEDED' });
    const [r] = await remindersOf(c.id);
    expect(r).toMatchObject({ status: 'SENT', templateKey: 'overdue-notice' });
    expect(r!.renderedMessage).toContain('逾期金额¥');
    expect(provider.sentTo(r!.id)).toHaveLength(1);
    expect(reminderDispatchJob().everyMs).toBe(30_000);
    expect(automaticRemindersJob().everyMs).toBe(3_600_000);
  });
});
