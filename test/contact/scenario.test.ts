import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { createAutomaticReminders } from '../../src/modules/contact/dunning.ts';
import { dispatchDueReminders } from '../../src/modules/contact/outbox.ts';
import { FakeProvider, SHANGHAI } from './support.ts';

/**
 * Issue 4, "Done when": a case from its first automatic SMS through calls refused at 22:30
 * Shanghai time and allowed at 08:00, a call cap reached, a do-not-contact honoured, and a
 * dispute that stops all contact, over HTTP where a person acts.
 */
let t: TestApp;
let s: Scenario;
const gid = (type: string, id: string) => encodeGlobalID(type, id);
const provider = new FakeProvider();

const PERMISSION = `query($caseId: ID!, $cp: ID!, $at: DateTime) { contactPermission(caseId: $caseId, channel: CALL, contactPointId: $cp, at: $at) { allowed rule code nextAllowedAt } }`;
const LOG = `mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input) { contactAttempt { id violation rule connected } policyViolation { rule } userErrors { code field message } } }`;
const SCHEDULE = `mutation($input: ScheduleReminderInput!) { scheduleReminder(input: $input) { reminder { id status blockedRule } userErrors { code field message } } }`;

beforeAll(async () => {
  // The account fell due yesterday: 2026-11-27 in Shanghai; the clock is 09:00 Shanghai on the 28th.
  t = await createTestApp({ now: '2026-11-28T01:00:00.000Z' });
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

describe('a case from its first automatic SMS to a dispute', () => {
  it('runs lawfully at every step', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id, daysPastDue: 1 });
    const caseId = gid('Case', c.id);
    const mobile = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId, kind: 'MOBILE' } });
    const home = await t.prisma.contactPoint.create({ data: { debtorId: c.debtorId, kind: 'HOME_PHONE', value: '01065550000' } });
    const cp = gid('ContactPoint', mobile.id);
    const deps = { prisma: t.prisma, clock: t.clock, logger: t.runtime.logger };

    // 1. The system itself tells the debtor the overdue amount and the deadline (the source's first stage).
    const auto = await createAutomaticReminders(deps);
    expect(auto.created).toBeGreaterThanOrEqual(1);
    const sent = await dispatchDueReminders({ ...deps, provider }, { owner: 'test' });
    expect(sent.sent).toBe(1);
    const sms = provider.sent[0]!;
    expect(sms.channel).toBe('SMS');
    expect(sms.body).toMatch(/¥10,\d{3}\.\d{2}/); // the overdue amount, formatted exactly
    expect(sms.body).toMatch(/请于2026年12月\d{1,2}日前还款/); // the repayment deadline
    const again = await createAutomaticReminders(deps);
    expect(again.created).toBe(0); // never twice

    // 2. At 22:30 Shanghai a call is refused, and allowed from 08:00.
    t.clock.set(SHANGHAI('2026-11-28T22:30:00'));
    let token = await t.token(s.users.collector);
    const late = await t.gql(token, PERMISSION, { caseId, cp });
    expect(late.data.contactPermission).toMatchObject({ allowed: false, rule: 'CONTACT_HOURS', code: 'OUTSIDE_CONTACT_HOURS' });
    expect(new Date(late.data.contactPermission.nextAllowedAt).toISOString()).toBe(SHANGHAI('2026-11-29T08:00:00').toISOString());
    // A call made anyway is recorded, flagged and audited: it happened.
    const made = await t.gql(token, LOG, { input: { caseId, contactPointId: cp, channel: 'CALL', outcome: 'NO_ANSWER' } });
    expect(made.data.logContactAttempt.contactAttempt).toMatchObject({ violation: true, rule: 'CONTACT_HOURS' });
    expect(await t.prisma.auditEvent.count({ where: { action: 'contact.policyViolation', caseId: c.id } })).toBe(1);

    t.clock.set(SHANGHAI('2026-11-29T08:00:00'));
    token = await t.token(s.users.collector);
    expect((await t.gql(token, PERMISSION, { caseId, cp })).data.contactPermission.allowed).toBe(true);

    // 3. The cap of connected calls per local day (GB/T 45251-2025: 3).
    for (let i = 0; i < 3; i++) {
      t.clock.advance(30 * 60_000);
      const r = await t.gql(token, LOG, { input: { caseId, contactPointId: cp, channel: 'CALL', outcome: 'REFUSED', notes: `call ${i + 1}` } });
      expect(r.data.logContactAttempt.contactAttempt).toMatchObject({ violation: false, connected: true });
    }
    t.clock.advance(30 * 60_000);
    const capped = await t.gql(token, PERMISSION, { caseId, cp: gid('ContactPoint', home.id) });
    expect(capped.data.contactPermission).toMatchObject({ allowed: false, rule: 'CONNECTED_CALLS_PER_DAY', code: 'CONTACT_LIMIT_REACHED' });
    expect(new Date(capped.data.contactPermission.nextAllowedAt).toISOString()).toBe(SHANGHAI('2026-11-30T08:00:00').toISOString());

    // 4. The debtor asks not to be called on the home number: do-not-contact, on every channel, at every hour.
    await t.prisma.contactPoint.update({ where: { id: home.id }, data: { doNotContact: true, doNotContactAt: t.clock.now(), doNotContactReason: 'debtor request' } });
    t.clock.set(SHANGHAI('2026-11-30T10:00:00'));
    token = await t.token(s.users.collector);
    const dnc = await t.gql(token, PERMISSION, { caseId, cp: gid('ContactPoint', home.id) });
    expect(dnc.data.contactPermission).toMatchObject({ allowed: false, rule: 'DO_NOT_CONTACT', nextAllowedAt: null });
    expect((await t.gql(token, PERMISSION, { caseId, cp })).data.contactPermission.allowed).toBe(true); // the mobile still may be called

    // 5. A dispute: the case goes on hold and every contact stops.
    const dispute = await t.gql(token, LOG, { input: { caseId, contactPointId: cp, channel: 'CALL', outcome: 'DISPUTE', notes: 'disputes the annual fee' } });
    expect(dispute.data.logContactAttempt.userErrors).toEqual([]);
    const c2 = await t.gql(token, `query($id: ID!) { node(id: $id) { ... on Case { onHold holds(first: 5) { nodes { reason active } } } } }`, { id: caseId });
    expect(c2.data.node.onHold).toBe(true);
    expect(c2.data.node.holds.nodes[0]).toEqual({ reason: 'DISPUTE', active: true });
    t.clock.advance(60 * 60_000);
    token = await t.token(s.users.collector);
    expect((await t.gql(token, PERMISSION, { caseId, cp })).data.contactPermission).toMatchObject({ allowed: false, rule: 'CASE_ON_HOLD', nextAllowedAt: null });
    const sms2 = await t.gql(token, SCHEDULE, {
      input: { caseId, contactPointId: cp, channel: 'SMS', templateKey: 'overdue-followup', scheduledAt: t.clock.now().toISOString(), idempotencyKey: `manual-${c.id}` },
    });
    expect(sms2.data.scheduleReminder.userErrors[0].code).toBe('ON_HOLD');
    expect(sms2.data.scheduleReminder.reminder).toMatchObject({ status: 'BLOCKED', blockedRule: 'CASE_ON_HOLD' }); // the refusal is on record
    // Automatic reminders skip a held case; anything already queued is not sent.
    t.clock.set(SHANGHAI('2026-12-06T10:00:00')); // day 8: the weekly follow-up would be due
    expect((await createAutomaticReminders(deps)).created).toBe(0);
    const before = provider.sent.length;
    await dispatchDueReminders({ ...deps, provider }, { owner: 'test' });
    expect(provider.sent.length).toBe(before);
  });
});
