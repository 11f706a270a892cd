/**
 * Every guard of the visit state machine (issue 5), each with an input that breaks only that
 * guard: the typed user error, and nothing changed (the visit's status, version and columns, the
 * case version, timeline, audit log, participants, consents, evidence, holds). Where the refusal
 * could pass for an accident, a control beside it shows that the same call succeeds once the one
 * thing at fault is put right.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import {
  CONSENT_FROM,
  CONSENT_TO,
  M,
  TEST_NOW,
  TOMORROW_10,
  TOMORROW_12,
  createVisitWorld,
  expectRefused,
  files,
  gid,
  rawId,
  stateOf,
  steps,
  type FieldCase,
  type UserKey,
  type VisitWorld,
} from './support.ts';

let w: VisitWorld;
let st: ReturnType<typeof steps>;

beforeAll(async () => {
  w = await createVisitWorld();
  st = steps(w);
});
afterAll(async () => w?.close());
afterEach(() => w.e.t.clock.set(TEST_NOW));

const user = (k: UserKey) => gid('User', w.s.users[k].id);
const IN_WINDOW = '2026-11-29T02:30:00.000Z'; // 10:30 Shanghai, inside tomorrow's 10:00–12:00
const schedule = (visitId: string, over: Record<string, unknown> = {}, who: UserKey = 'northAgent') =>
  w.mutate(who, M.schedule, { visitId, collectorIds: [user('northAgent'), user('northAgent2')], windowStart: TOMORROW_10, windowEnd: TOMORROW_12, ...over });
const shown = (k: UserKey, number = `WC-${w.s.users[k].email}`) => ({ userId: user(k), credentialNumber: number });

describe('planVisit', () => {
  it('refuses an address of another debtor (NOT_FOUND), even one the collector may see', async () => {
    const c = await w.northCase();
    const other = await w.northCase(); // also northAgent's: its address is visible, but not this debtor's
    await expectRefused(w, c, undefined, () => w.mutate('northAgent', M.plan, { caseId: c.id, addressId: other.homeId, purpose: 'visit' }), 'NOT_FOUND', ['addressId']);
    expect((await w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'visit' })).userErrors).toEqual([]);
  });

  it('refuses a case that is not in FIELD_VISIT (INVALID_TRANSITION); once moved there, it plans', async () => {
    const c = await w.northCase({ stage: 'EARLY_REMINDER' });
    await expectRefused(w, c, undefined, () => w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'visit' }), 'INVALID_TRANSITION', ['caseId']);
    expect((await w.mutate('northAgent', M.stage, { caseId: c.id, stage: 'FIELD_VISIT' })).userErrors).toEqual([]);
    expect((await w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'visit' })).userErrors).toEqual([]);
  });

  it('refuses a case on hold (ON_HOLD)', async () => {
    const c = await w.northCase();
    expect((await w.mutate('supervisor', M.hold, { caseId: c.id, reason: 'HARDSHIP', note: 'hospital' })).userErrors).toEqual([]);
    await expectRefused(w, c, undefined, () => w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'visit' }), 'ON_HOLD');
  });

  it('refuses a blank purpose (VALIDATION)', async () => {
    const c = await w.northCase();
    await expectRefused(w, c, undefined, () => w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: '   ' }), 'VALIDATION', ['purpose']);
  });

  it('another agency’s case does not exist for South (NOT_FOUND, no hint)', async () => {
    const c = await w.northCase();
    const e = await expectRefused(w, c, undefined, () => w.mutate('southAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'visit' }), 'NOT_FOUND');
    expect(e.message).toBe('No such case');
  });
});

describe('recordVisitConsent', () => {
  it('refuses a contact attempt with another outcome (CONSENT_REQUIRED); the consent call itself is accepted', async () => {
    const c = await w.northCase();
    const answered = await st.consentCall(c, 'northAgent', 'VISIT_CONSENT_REFUSED');
    const v = await st.plan(c);
    await expectRefused(
      w, c, v.id,
      () => w.mutate('northAgent', M.consent, { visitId: v.id, contactAttemptId: answered, windowStart: CONSENT_FROM, windowEnd: CONSENT_TO }),
      'CONSENT_REQUIRED', ['contactAttemptId'],
    );
    const given = await st.consentCall(c);
    expect((await st.consent(v.id, given)).consent.contactAttempt.id).toBe(given);
  });

  it('refuses a contact attempt of another case, even one of the same collector (NOT_FOUND)', async () => {
    const c = await w.northCase();
    const other = await w.northCase();
    const elsewhere = await st.consentCall(other);
    const v = await st.plan(c);
    await expectRefused(
      w, c, v.id,
      () => w.mutate('northAgent', M.consent, { visitId: v.id, contactAttemptId: elsewhere, windowStart: CONSENT_FROM, windowEnd: CONSENT_TO }),
      'NOT_FOUND', ['contactAttemptId'],
    );
  });

  it('refuses a blocked attempt, even with the consent outcome (CONSENT_REQUIRED)', async () => {
    const c = await w.northCase();
    const v = await st.plan(c);
    const blocked = await w.e.t.prisma.contactAttempt.create({
      data: { caseId: c.row.id, agencyId: w.s.north.id, debtorId: c.row.debtorId, contactPointId: rawId(c.mobileId), channel: 'CALL', attemptedAt: w.e.t.clock.now(), status: 'BLOCKED', outcome: 'VISIT_CONSENT_GIVEN', rule: 'CONTACT_HOURS' },
    });
    await expectRefused(
      w, c, v.id,
      () => w.mutate('northAgent', M.consent, { visitId: v.id, contactAttemptId: gid('ContactAttempt', blocked.id), windowStart: CONSENT_FROM, windowEnd: CONSENT_TO }),
      'CONSENT_REQUIRED',
    );
  });

  it('refuses a window longer than 30 days, one already over, one that ends before it starts (VALIDATION)', async () => {
    const c = await w.northCase();
    const a = await st.consentCall(c);
    const v = await st.plan(c);
    const record = (from: string, to: string) => () => w.mutate('northAgent', M.consent, { visitId: v.id, contactAttemptId: a, windowStart: from, windowEnd: to });
    await expectRefused(w, c, v.id, record('2026-11-29T00:00:00Z', '2026-12-29T00:00:01Z'), 'VALIDATION', ['windowEnd']);
    await expectRefused(w, c, v.id, record('2026-11-20T00:00:00Z', '2026-11-27T00:00:00Z'), 'VALIDATION', ['windowEnd']);
    await expectRefused(w, c, v.id, record('2026-11-30T00:00:00Z', '2026-11-29T00:00:00Z'), 'VALIDATION', ['windowEnd']);
    expect((await w.mutate('northAgent', M.consent, { visitId: v.id, contactAttemptId: a, windowStart: '2026-11-29T00:00:00Z', windowEnd: '2026-12-29T00:00:00Z' })).userErrors).toEqual([]);
  });
});

describe('scheduleVisit', () => {
  it('without consent recorded: CONSENT_REQUIRED', async () => {
    const c = await w.northCase();
    await st.consentCall(c); // a consent call was made, but not recorded on the visit
    const v = await st.plan(c);
    await expectRefused(w, c, v.id, () => schedule(v.id), 'CONSENT_REQUIRED');
  });

  it('with one collector (or the same one twice): VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    await expectRefused(w, c, v, () => schedule(v, { collectorIds: [user('northAgent')] }), 'VALIDATION', ['collectorIds']);
    await expectRefused(w, c, v, () => schedule(v, { collectorIds: [user('northAgent'), user('northAgent')] }), 'VALIDATION', ['collectorIds']);
  });

  it('naming a South agent on a North visit: NOT_FOUND (South is no collector of this case); a bank collector may go', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    await expectRefused(w, c, v, () => schedule(v, { collectorIds: [user('northAgent'), user('southAgent')] }), 'NOT_FOUND', ['collectorIds']);
    await expectRefused(w, c, v, () => schedule(v, { collectorIds: [user('northAgent'), user('southManager')] }), 'NOT_FOUND', ['collectorIds']);
    await expectRefused(w, c, v, () => schedule(v, { collectorIds: [user('northAgent'), user('auditor')] }), 'NOT_FOUND', ['collectorIds']);
    const ok = await schedule(v, { collectorIds: [user('northAgent'), user('collector')] });
    expect(ok.userErrors).toEqual([]);
    expect(ok.visit.participants).toHaveLength(2);
  });

  it('a deactivated collector: NOT_FOUND', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    const p = w.e.t.prisma;
    await p.user.update({ where: { id: w.s.users.northAgent2.id }, data: { active: false } });
    try {
      await expectRefused(w, c, v, () => schedule(v), 'NOT_FOUND', ['collectorIds']);
    } finally {
      await p.user.update({ where: { id: w.s.users.northAgent2.id }, data: { active: true } });
    }
  });

  describe('credentials', () => {
    const agent2 = () => w.s.users.northAgent2.id;
    const setExpiry = (d: string | null, number: string | null = 'WC-agent2@north.example') =>
      w.e.t.prisma.user.update({ where: { id: agent2() }, data: { credentialExpiresOn: d ? new Date(`${d}T00:00:00Z`) : null, credentialNumber: number } });
    afterEach(() => setExpiry('2027-12-31'));

    it('expired: CREDENTIAL_INVALID', async () => {
      const c = await w.northCase();
      const v = await st.prepared(c);
      await setExpiry('2026-10-31');
      const e = await expectRefused(w, c, v, () => schedule(v), 'CREDENTIAL_INVALID', ['collectorIds']);
      expect(e.message).toContain('North Agent Two');
    });

    it('valid today but expiring before the visit day (the day before): CREDENTIAL_INVALID; valid through the visit day: scheduled', async () => {
      const c = await w.northCase();
      const v = await st.prepared(c);
      await setExpiry('2026-11-28');
      await expectRefused(w, c, v, () => schedule(v), 'CREDENTIAL_INVALID', ['collectorIds']);
      await setExpiry('2026-11-29');
      expect((await schedule(v)).userErrors).toEqual([]);
    });

    it('none at all: CREDENTIAL_INVALID', async () => {
      const c = await w.northCase();
      const v = await st.prepared(c);
      await setExpiry(null, null);
      await expectRefused(w, c, v, () => schedule(v), 'CREDENTIAL_INVALID', ['collectorIds']);
    });
  });

  it('a window at 23:00 Shanghai (inside the consent window): OUTSIDE_CONTACT_HOURS; 07:30 too; one across midnight too', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-11-29T23:00:00+08:00', windowEnd: '2026-11-29T23:45:00+08:00' }), 'OUTSIDE_CONTACT_HOURS', ['windowStart']);
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-11-29T21:00:00+08:00', windowEnd: '2026-11-29T22:30:00+08:00' }), 'OUTSIDE_CONTACT_HOURS');
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-11-30T07:30:00+08:00', windowEnd: '2026-11-30T09:00:00+08:00' }), 'OUTSIDE_CONTACT_HOURS');
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-11-29T21:00:00+08:00', windowEnd: '2026-11-30T09:00:00+08:00' }), 'OUTSIDE_CONTACT_HOURS');
    // The same evening up to the close of contact hours is fine.
    expect((await schedule(v, { windowStart: '2026-11-29T20:00:00+08:00', windowEnd: '2026-11-29T22:00:00+08:00' })).userErrors).toEqual([]);
  });

  it('a window outside the consent window: CONSENT_REQUIRED (before, after, overlapping its end)', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c); // consent: 29 Nov 08:00 → 30 Nov 22:00 Shanghai
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-12-02T10:00:00+08:00', windowEnd: '2026-12-02T12:00:00+08:00' }), 'CONSENT_REQUIRED', ['windowStart']);
    await expectRefused(w, c, v, () => schedule(v, { windowStart: '2026-11-28T14:00:00+08:00', windowEnd: '2026-11-28T15:00:00+08:00' }), 'CONSENT_REQUIRED', ['windowStart']);
    const c2 = await w.northCase();
    const a = await st.consentCall(c2);
    const v2 = (await st.plan(c2)).id;
    await st.consent(v2, a, 'northAgent', CONSENT_FROM, '2026-11-29T03:00:00Z'); // until 11:00 Shanghai
    await expectRefused(w, c2, v2, () => schedule(v2), 'CONSENT_REQUIRED'); // 10:00–12:00 runs past it
  });

  it('a window in the past or ending before it starts: VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    w.e.t.clock.set('2026-11-29T02:30:00Z');
    await expectRefused(w, c, v, () => schedule(v), 'VALIDATION', ['windowStart']);
    w.e.t.clock.set(TEST_NOW);
    await expectRefused(w, c, v, () => schedule(v, { windowStart: TOMORROW_12, windowEnd: TOMORROW_10 }), 'VALIDATION', ['windowEnd']);
  });

  it('a case on hold: ON_HOLD', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    expect((await w.mutate('supervisor', M.hold, { caseId: c.id, reason: 'DISPUTE', note: 'disputes the fees' })).userErrors).toEqual([]);
    await expectRefused(w, c, v, () => schedule(v), 'ON_HOLD');
  });

  it('a stale expectedVersion: STALE_VERSION', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c); // version 2: planned, consent recorded
    await expectRefused(w, c, v, () => schedule(v, { expectedVersion: 1 }), 'STALE_VERSION', ['expectedVersion']);
    expect((await schedule(v, { expectedVersion: 2 })).visit.version).toBe(3);
  });

  it('twice: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    await expectRefused(w, c, v, () => schedule(v), 'INVALID_TRANSITION');
  });
});

describe('checkInVisit', () => {
  const checkIn = (visitId: string, credentials = [shown('northAgent'), shown('northAgent2')]) => () => w.mutate('northAgent', M.checkIn, { visitId, credentialsShown: credentials });

  it('before the window, and after it: VALIDATION; inside it: checked in', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    w.e.t.clock.set('2026-11-29T01:59:00Z'); // 09:59 Shanghai
    await expectRefused(w, c, v, checkIn(v), 'VALIDATION', ['visitId']);
    w.e.t.clock.set('2026-11-29T04:01:00Z'); // 12:01 Shanghai
    await expectRefused(w, c, v, checkIn(v), 'VALIDATION', ['visitId']);
    w.e.t.clock.set('2026-11-29T02:00:00Z'); // 10:00 sharp
    expect((await checkIn(v)()).visit.status).toBe('IN_PROGRESS');
  });

  it('a credential shown that does not match, or none shown for a collector: CREDENTIAL_INVALID', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    w.e.t.clock.set(IN_WINDOW);
    await expectRefused(w, c, v, checkIn(v, [shown('northAgent'), shown('northAgent2', 'WC-forged-0001')]), 'CREDENTIAL_INVALID', ['credentialsShown']);
    await expectRefused(w, c, v, checkIn(v, [shown('northAgent')]), 'CREDENTIAL_INVALID', ['credentialsShown']);
    // Another collector's number does not stand in for one's own.
    await expectRefused(w, c, v, checkIn(v, [shown('northAgent'), shown('northAgent2', 'WC-agent@north.example')]), 'CREDENTIAL_INVALID');
  });

  it('checks the credentials again: one that expired since scheduling is CREDENTIAL_INVALID', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    w.e.t.clock.set(IN_WINDOW);
    await w.e.t.prisma.user.update({ where: { id: w.s.users.northAgent2.id }, data: { credentialExpiresOn: new Date('2026-11-28T00:00:00Z') } });
    try {
      await expectRefused(w, c, v, checkIn(v), 'CREDENTIAL_INVALID', ['credentialsShown']);
    } finally {
      await w.e.t.prisma.user.update({ where: { id: w.s.users.northAgent2.id }, data: { credentialExpiresOn: new Date('2027-12-31T00:00:00Z') } });
    }
  });

  it('a case put on hold after scheduling: ON_HOLD', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    expect((await w.mutate('supervisor', M.hold, { caseId: c.id, reason: 'HARDSHIP' })).userErrors).toEqual([]);
    w.e.t.clock.set(IN_WINDOW);
    await expectRefused(w, c, v, checkIn(v), 'ON_HOLD');
  });

  it('a visit not scheduled: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const v = await st.prepared(c);
    w.e.t.clock.set(IN_WINDOW);
    await expectRefused(w, c, v, checkIn(v), 'INVALID_TRANSITION');
  });

  it('by someone not named for the visit (the agency manager at the office): FORBIDDEN_ACTION', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    w.e.t.clock.set(IN_WINDOW);
    const byManager = () => w.mutate('northManager', M.checkIn, { visitId: v, credentialsShown: [shown('northAgent'), shown('northAgent2')] });
    await expectRefused(w, c, v, byManager, 'FORBIDDEN_ACTION', ['visitId']);
    expect((await checkIn(v)()).visit.status).toBe('IN_PROGRESS');
  });
});

describe('completeVisit', () => {
  const complete = (visitId: string, input: Record<string, unknown>) => () => w.mutate('northAgent', M.complete, { visitId, ...input });

  it('without the reason for the delinquency, or OTHER without its text: VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await expectRefused(w, c, v, complete(v, { outcome: 'PROMISE_TO_PAY', consequencesExplained: true, plansOffered: ['INSTALMENTS'] }), 'VALIDATION', ['delinquencyReason']);
    await expectRefused(w, c, v, complete(v, { outcome: 'REFUSED', delinquencyReason: 'OTHER', delinquencyReasonText: '  ', consequencesExplained: true }), 'VALIDATION', ['delinquencyReasonText']);
    expect((await complete(v, { outcome: 'REFUSED', delinquencyReason: 'OTHER', delinquencyReasonText: 'Gambling debts', consequencesExplained: true })()).visit.delinquencyReasonText).toBe('Gambling debts');
  });

  it('without the consequences explained (false or left out): VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await expectRefused(w, c, v, complete(v, { outcome: 'PROMISE_TO_PAY', delinquencyReason: 'ILLNESS', consequencesExplained: false }), 'VALIDATION', ['consequencesExplained']);
    await expectRefused(w, c, v, complete(v, { outcome: 'REFUSED', delinquencyReason: 'ILLNESS' }), 'VALIDATION', ['consequencesExplained']);
  });

  it('PLAN_AGREED without the plans offered: VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await expectRefused(w, c, v, complete(v, { outcome: 'PLAN_AGREED', delinquencyReason: 'ILLNESS', consequencesExplained: true, plansOffered: [] }), 'VALIDATION', ['plansOffered']);
  });

  it('NOT_AT_HOME needs no reason (nobody was met)', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    const done = await complete(v, { outcome: 'NOT_AT_HOME' })();
    expect(done.userErrors).toEqual([]);
    expect(done.visit).toMatchObject({ status: 'COMPLETED', outcome: 'NOT_AT_HOME', delinquencyReason: null });
  });

  it('a visit not checked in: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const v = await st.scheduled(c);
    await expectRefused(w, c, v, complete(v, { outcome: 'NOT_AT_HOME' }), 'INVALID_TRANSITION');
  });
});

describe('consent withdrawn on site', () => {
  it('ends the visit at once; a new visit cannot use the old consent, nor be scheduled without new consent; new consent from a later call works', async () => {
    const c = await w.northCase();
    const firstCall = await st.consentCall(c);
    const v1 = (await st.plan(c)).id;
    await st.consent(v1, firstCall);
    await st.schedule(v1);
    w.e.t.clock.set(IN_WINDOW);
    await st.checkIn(v1);

    w.e.t.clock.set('2026-11-29T02:35:00Z');
    const ended = await w.mutate('northAgent', M.complete, { visitId: v1, outcome: 'CONSENT_WITHDRAWN' });
    expect(ended.userErrors).toEqual([]);
    expect(ended.visit).toMatchObject({ status: 'COMPLETED', outcome: 'CONSENT_WITHDRAWN', delinquencyReason: null });
    expect(new Date(ended.visit.consent.withdrawnAt).toISOString()).toBe('2026-11-29T02:35:00.000Z');
    const event = await w.e.t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c.row.id }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] });
    expect(event.type).toBe('VISIT_CONSENT_WITHDRAWN');

    // A new visit: the consent of the first call does not count any more.
    const v2 = (await st.plan(c)).id;
    await expectRefused(
      w, c, v2,
      () => w.mutate('northAgent', M.consent, { visitId: v2, contactAttemptId: firstCall, windowStart: '2026-11-30T00:00:00Z', windowEnd: '2026-11-30T14:00:00Z' }),
      'CONSENT_REQUIRED', ['contactAttemptId'],
    );
    await expectRefused(w, c, v2, () => schedule(v2, { windowStart: '2026-11-30T02:00:00Z', windowEnd: '2026-11-30T04:00:00Z' }), 'CONSENT_REQUIRED');

    // A later call obtains consent again: recorded, and the visit is scheduled.
    w.e.t.clock.set('2026-11-29T06:00:00Z');
    const secondCall = await st.consentCall(c);
    await st.consent(v2, secondCall, 'northAgent', '2026-11-30T00:00:00Z', '2026-11-30T14:00:00Z');
    const again = await schedule(v2, { windowStart: '2026-11-30T02:00:00Z', windowEnd: '2026-11-30T04:00:00Z' });
    expect(again.userErrors).toEqual([]);
    expect(again.visit.status).toBe('SCHEDULED');
  });

  it('also voids a consent recorded on another visit before the withdrawal: that visit can be neither scheduled nor checked in', async () => {
    const c = await w.northCase();
    const call = await st.consentCall(c);
    // Three visits on the consent of one call: one goes ahead, one waits to be scheduled, one is scheduled for the afternoon.
    const v1 = (await st.plan(c)).id;
    const waiting = (await st.plan(c)).id;
    const afternoon = (await st.plan(c)).id;
    for (const v of [v1, waiting, afternoon]) await st.consent(v, call);
    await st.schedule(v1);
    await st.schedule(afternoon, 'northAgent', '2026-11-29T06:00:00Z', '2026-11-29T08:00:00Z');
    w.e.t.clock.set(IN_WINDOW);
    await st.checkIn(v1);
    expect((await w.mutate('northAgent', M.complete, { visitId: v1, outcome: 'CONSENT_WITHDRAWN' })).userErrors).toEqual([]);

    await expectRefused(w, c, waiting, () => schedule(waiting, { windowStart: '2026-11-30T02:00:00Z', windowEnd: '2026-11-30T04:00:00Z' }), 'CONSENT_REQUIRED');
    w.e.t.clock.set('2026-11-29T06:30:00Z');
    await expectRefused(w, c, afternoon, () => w.mutate('northAgent', M.checkIn, { visitId: afternoon, credentialsShown: [shown('northAgent'), shown('northAgent2')] }), 'CONSENT_REQUIRED');
  });
});

describe('reportVisit', () => {
  it('PROMISE_TO_PAY without evidence of the visit: VALIDATION (evidence of the case alone does not count); with it: reported', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await st.complete(v, { outcome: 'PROMISE_TO_PAY', delinquencyReason: 'FORGOT' });
    const caseOnly = await w.upload('northAgent', { caseId: c.id, kind: 'PROMISE_LETTER' }, files.pdf('not tied to the visit'), 'letter.pdf');
    expect(caseOnly.userErrors).toEqual([]);
    const report = () => w.mutate('northAgent', M.report, { visitId: v, report: 'Debtor promised to pay by the 15th.' });
    await expectRefused(w, c, v, report, 'VALIDATION', ['visitId']);
    const letter = await w.upload('northAgent', { caseId: c.id, visitId: v, kind: 'PROMISE_LETTER' }, files.pdf('the visit letter'), 'letter.pdf');
    expect(letter.userErrors).toEqual([]);
    expect((await report()).visit.status).toBe('REPORTED');
  });

  it('PLAN_AGREED without evidence: VALIDATION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await st.complete(v, { outcome: 'PLAN_AGREED', delinquencyReason: 'ILLNESS', plansOffered: ['DEFERRAL'] });
    await expectRefused(w, c, v, () => w.mutate('northAgent', M.report, { visitId: v, report: 'Plan agreed at the door.' }), 'VALIDATION');
  });

  it('a report shorter than 10 characters: VALIDATION; a visit not completed: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await expectRefused(w, c, v, () => w.mutate('northAgent', M.report, { visitId: v, report: 'Done.' }), 'VALIDATION', ['report']);
    await expectRefused(w, c, v, () => w.mutate('northAgent', M.report, { visitId: v, report: 'Report filed before the end.' }), 'INVALID_TRANSITION');
  });
});

describe('decideVisit', () => {
  async function reported(c: FieldCase) {
    const v = await st.inProgress(c);
    await st.complete(v);
    await st.report(v);
    return v;
  }

  it('by a collector, an agency manager or the auditor: FORBIDDEN (a GraphQL error), nothing changed', async () => {
    const c = await w.northCase();
    const v = await reported(c);
    for (const who of ['northAgent', 'northManager', 'collector', 'auditor'] as const) {
      const before = await stateOf(w, c, v);
      const r = await w.as(who, M.decide, { input: { visitId: v, decision: 'CONTINUE' } });
      expect(r.errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
      expect(r.data).toBeNull();
      expect(await stateOf(w, c, v)).toEqual(before);
    }
    const ok = await w.mutate('supervisor', M.decide, { visitId: v, decision: 'CONTINUE' });
    expect(ok.userErrors).toEqual([]);
    expect(ok.visit).toMatchObject({ status: 'DECIDED', decision: 'CONTINUE' });
    expect(ok.case).toMatchObject({ stage: 'FIELD_VISIT', onHold: false });
  });

  it('a grace period without its date, ending today, or beyond the policy’s 90 days: VALIDATION', async () => {
    const c = await w.northCase();
    const v = await reported(c);
    const decide = (graceUntil?: string) => () => w.mutate('supervisor', M.decide, { visitId: v, decision: 'GRACE_PERIOD', ...(graceUntil ? { graceUntil } : {}) });
    await expectRefused(w, c, v, decide(), 'VALIDATION', ['graceUntil']);
    await expectRefused(w, c, v, decide('2026-11-29'), 'VALIDATION', ['graceUntil']); // the clock is in the window, on 29 Nov
    await expectRefused(w, c, v, decide('2027-03-01'), 'VALIDATION', ['graceUntil']);
  });

  it('CLOSE needs a reason (VALIDATION); with one the case is closed', async () => {
    const c = await w.northCase();
    const v = await reported(c);
    await expectRefused(w, c, v, () => w.mutate('supervisor', M.decide, { visitId: v, decision: 'CLOSE' }), 'VALIDATION', ['closeReason']);
    await expectRefused(w, c, v, () => w.mutate('supervisor', M.decide, { visitId: v, decision: 'CLOSE', closeReason: 'PAID_IN_FULL' }), 'VALIDATION', ['closeReason']);
    // A write-off is maker-checker (proposeWriteOff / approveWriteOff), never a visit decision.
    await expectRefused(w, c, v, () => w.mutate('supervisor', M.decide, { visitId: v, decision: 'CLOSE', closeReason: 'WRITTEN_OFF', note: 'uncollectable' }), 'APPROVAL_REQUIRED', ['closeReason']);
    const closed = await w.mutate('supervisor', M.decide, { visitId: v, decision: 'CLOSE', closeReason: 'RETURNED_TO_BANK', note: 'back to the bank' });
    expect(closed.userErrors).toEqual([]);
    expect(closed.case.stage).toBe('CLOSED');
  });

  it('a visit not reported: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await st.complete(v);
    await expectRefused(w, c, v, () => w.mutate('supervisor', M.decide, { visitId: v, decision: 'CONTINUE' }), 'INVALID_TRANSITION');
  });
});

describe('cancelVisit', () => {
  const cancel = (visitId: string, reason = 'Debtor moved away') => () => w.mutate('northAgent', M.cancel, { visitId, reason });

  it('after completion: INVALID_TRANSITION (and after reporting)', async () => {
    const c = await w.northCase();
    const v = await st.inProgress(c);
    await st.complete(v);
    await expectRefused(w, c, v, cancel(v), 'INVALID_TRANSITION');
    await st.report(v);
    await expectRefused(w, c, v, cancel(v), 'INVALID_TRANSITION');
  });

  it('from PREPARING, SCHEDULED and IN_PROGRESS, with a reason; a cancelled visit goes nowhere', async () => {
    const c = await w.northCase();
    const preparing = (await st.plan(c)).id;
    await expectRefused(w, c, preparing, cancel(preparing, '  '), 'VALIDATION', ['reason']);
    expect((await cancel(preparing)()).visit).toMatchObject({ status: 'CANCELLED', cancelReason: 'Debtor moved away' });
    const scheduled = await st.scheduled(await w.northCase());
    expect((await cancel(scheduled)()).visit.status).toBe('CANCELLED');
    const c3 = await w.northCase();
    const inProgress = await st.inProgress(c3);
    expect((await cancel(inProgress)()).visit.status).toBe('CANCELLED');
    await expectRefused(w, c3, inProgress, () => w.mutate('northAgent', M.complete, { visitId: inProgress, outcome: 'NOT_AT_HOME' }), 'INVALID_TRANSITION');
    await expectRefused(w, c3, inProgress, cancel(inProgress), 'INVALID_TRANSITION');
  });
});

describe('evidence of a visit', () => {
  it('evidence of another case’s visit: NOT_FOUND, nothing stored; of a visit not yet checked in: INVALID_TRANSITION', async () => {
    const c = await w.northCase();
    const other = await w.northCase();
    const otherVisit = await st.scheduled(other);
    const own = await st.scheduled(c);
    w.e.t.clock.set(IN_WINDOW);
    await st.checkIn(otherVisit);
    await st.checkIn(own);
    const before = { files: w.e.files().blobs.length };
    await expectRefused(
      w, c, own,
      () => w.upload('northAgent', { caseId: c.id, visitId: otherVisit, kind: 'PROMISE_LETTER' }, files.pdf('misfiled'), 'letter.pdf'),
      'NOT_FOUND', ['visitId'],
    );
    expect(w.e.files().blobs.length).toBe(before.files);
    expect(await w.e.t.prisma.evidence.count({ where: { caseId: other.row.id } })).toBe(0);

    w.e.t.clock.set(TEST_NOW);
    const c2 = await w.northCase();
    const scheduled = await st.scheduled(c2);
    await expectRefused(w, c2, scheduled, () => w.upload('northAgent', { caseId: c2.id, visitId: scheduled, kind: 'PHOTO' }, files.png(), 'door.png'), 'INVALID_TRANSITION', ['visitId']);
  });
});
