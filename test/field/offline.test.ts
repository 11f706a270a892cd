// Issue 13, point 5: offline field work. A check-in, a visit outcome and a contact attempt carry
// the device's `occurredAt` (at most 72 h back, at most 5 minutes ahead); every rule is judged at
// that time (the window, contact hours, credentials); the server's time of recording is kept;
// the timeline shows both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { M, createVisitWorld, expectRefused, rawId, steps, type VisitWorld } from '../visits/support.ts';
import { sdkAs } from './support.ts';

let w: VisitWorld;
let st: ReturnType<typeof steps>;
const H = 3_600_000;
/** Inside tomorrow's window (10:00–12:00 Shanghai). */
const ON_SITE = '2026-11-29T02:30:00.000Z'; // 10:30 Shanghai
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  w = await createVisitWorld();
  st = steps(w);
});
afterAll(async () => w?.close());

const checkInInput = (visitId: string, occurredAt?: string) => ({
  visitId,
  credentialsShown: (['northAgent', 'northAgent2'] as const).map((k) => ({ userId: Buffer.from(`User:${w.s.users[k].id}`).toString('base64'), credentialNumber: `WC-${w.s.users[k].email}` })),
  ...(occurredAt ? { occurredAt } : {}),
});

async function scheduledVisit() {
  w.e.t.clock.set('2026-11-28T02:00:00.000Z');
  const c = await w.northCase();
  const visitId = await st.scheduled(c);
  return { c, visitId };
}

describe('check-in recorded offline', () => {
  it('is accepted up to 72 hours after it happened (exactly 72 h included), judged at its time, with both times kept and in the timeline', async () => {
    const { c, visitId } = await scheduledVisit();
    const recordedAt = iso(Date.parse(ON_SITE) + 72 * H); // 72 h exactly after: the window is long past
    w.e.t.clock.set(recordedAt);
    const p = await w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE));
    expect(p.userErrors).toEqual([]);
    expect(p.visit.status).toBe('IN_PROGRESS');
    expect(p.visit.checkedInAt).toBe(ON_SITE);
    const row = await w.e.t.prisma.visit.findUniqueOrThrow({ where: { id: rawId(visitId) } });
    expect(row.checkInRecordedAt?.toISOString()).toBe(recordedAt);
    expect(p.visit.participants.every((x: any) => x.credentialShownAt === ON_SITE)).toBe(true);

    const r = await w.as('northAgent', `query($id: ID!) { node(id: $id) { ... on Case { timeline(first: 20) { nodes { type occurredAt recordedAt summary } } } } }`, { id: c.id });
    const entry = r.data.node.timeline.nodes.find((e: any) => e.type === 'VISIT_CHECKED_IN');
    expect(entry).toMatchObject({ occurredAt: ON_SITE, recordedAt });
    expect(entry.summary).toContain('recorded offline');
    // Ordered by when things happened: the check-in sits before later entries recorded earlier.
    const planned = r.data.node.timeline.nodes.find((e: any) => e.type === 'VISIT_SCHEDULED');
    expect(planned.occurredAt).toBe(planned.recordedAt);
  });

  it('is refused 72 hours and 1 millisecond after it happened, and changes nothing', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set(iso(Date.parse(ON_SITE) + 72 * H + 1));
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE)), 'VALIDATION', ['occurredAt']);
  });

  it('is refused more than 5 minutes in the future; a device a few minutes ahead counts as now', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set(ON_SITE);
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId, iso(Date.parse(ON_SITE) + 5 * 60_000 + 1))), 'VALIDATION', ['occurredAt']);
    const p = await w.mutate('northAgent', M.checkIn, checkInInput(visitId, iso(Date.parse(ON_SITE) + 4 * 60_000)));
    expect(p.userErrors).toEqual([]);
    expect(p.visit.checkedInAt).toBe(ON_SITE); // never after its own recording
  });

  it('judges the window at the time it happened: a device time outside the window is refused, without one the late check-in is refused', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set('2026-11-30T02:00:00.000Z'); // the next day
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId)), 'VALIDATION', ['visitId']);
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId, '2026-11-29T01:59:00.000Z')), 'VALIDATION', ['occurredAt']);
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId, '2026-11-29T04:00:01.000Z')), 'VALIDATION', ['occurredAt']);
  });

  it('judges credentials on the day it happened: expired since then is fine, expired before then is CREDENTIAL_INVALID', async () => {
    const { c, visitId } = await scheduledVisit();
    const agent2 = w.s.users.northAgent2.id;
    w.e.t.clock.set('2026-12-01T02:00:00.000Z');
    try {
      // Expired on the 28th, the day before the visit (shortened after scheduling): invalid then.
      await w.e.t.prisma.user.update({ where: { id: agent2 }, data: { credentialExpiresOn: new Date('2026-11-28T00:00:00Z') } });
      await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE)), 'CREDENTIAL_INVALID', ['credentialsShown']);
      // Valid through the 29th, expired by now (1 December): valid when it happened.
      await w.e.t.prisma.user.update({ where: { id: agent2 }, data: { credentialExpiresOn: new Date('2026-11-29T00:00:00Z') } });
      const p = await w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE));
      expect(p.userErrors).toEqual([]);
    } finally {
      await w.e.t.prisma.user.update({ where: { id: agent2 }, data: { credentialExpiresOn: new Date('2027-12-31T00:00:00Z') } });
    }
  });
});

describe('visit outcome recorded offline', () => {
  it('keeps the time it happened and the time it was recorded; never before the check-in; 72 h bound', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set('2026-11-30T03:00:00.000Z');
    await w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE));
    const outcome = { visitId, outcome: 'REFUSED', delinquencyReason: 'JOB_LOSS', consequencesExplained: true };
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.complete, { ...outcome, occurredAt: '2026-11-29T02:29:00.000Z' }), 'VALIDATION', ['occurredAt']);
    w.e.t.clock.set(iso(Date.parse('2026-11-29T03:15:00.000Z') + 72 * H + 1));
    await expectRefused(w, c, visitId, () => w.mutate('northAgent', M.complete, { ...outcome, occurredAt: '2026-11-29T03:15:00.000Z' }), 'VALIDATION', ['occurredAt']);
    w.e.t.clock.set('2026-11-30T03:00:00.000Z');
    const p = await w.mutate('northAgent', M.complete, { ...outcome, occurredAt: '2026-11-29T03:15:00.000Z' });
    expect(p.userErrors).toEqual([]);
    expect(p.visit.completedAt).toBe('2026-11-29T03:15:00.000Z');
    const row = await w.e.t.prisma.visit.findUniqueOrThrow({ where: { id: rawId(visitId) } });
    expect(row.completionRecordedAt?.toISOString()).toBe('2026-11-30T03:00:00.000Z');
    const ev = await w.e.t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c.row.id, type: 'VISIT_COMPLETED' } });
    expect(ev.occurredAt.toISOString()).toBe('2026-11-29T03:15:00.000Z');
    expect(ev.recordedAt?.toISOString()).toBe('2026-11-30T03:00:00.000Z');
  });

  it('a withdrawal of consent recorded offline lapses consent from when it happened', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set('2026-11-29T10:00:00.000Z');
    await w.mutate('northAgent', M.checkIn, checkInInput(visitId, ON_SITE));
    const p = await w.mutate('northAgent', M.complete, { visitId, outcome: 'CONSENT_WITHDRAWN', occurredAt: '2026-11-29T02:40:00.000Z' });
    expect(p.userErrors).toEqual([]);
    expect(p.visit.consent.withdrawnAt).toBe('2026-11-29T02:40:00.000Z');
    expect(p.visit.completedAt).toBe('2026-11-29T02:40:00.000Z');
    expect(c).toBeTruthy();
  });
});

describe('contact attempts recorded offline', () => {
  const call = (c: { id: string; mobileId: string }, occurredAt?: string, outcome = 'NO_ANSWER') => ({ caseId: c.id, contactPointId: c.mobileId, channel: 'CALL', outcome, ...(occurredAt ? { occurredAt } : {}) });
  const CALL_DOC = `mutation($input: LogContactAttemptInput!) {
    logContactAttempt(input: $input) { contactAttempt { id attemptedAt occurredAt recordedAt violation rule } policyViolation { rule } userErrors { code field message } }
  }`;

  it('judges contact hours at the time of the call, not of the recording', async () => {
    w.e.t.clock.set('2026-11-30T15:30:00.000Z'); // 23:30 Shanghai: outside contact hours now
    const c = await w.northCase();
    // Made at 10:00 Shanghai the day before: lawful then.
    const ok = (await w.as('northAgent', CALL_DOC, { input: call(c, '2026-11-30T02:00:00.000Z') })).data.logContactAttempt;
    expect(ok.userErrors).toEqual([]);
    expect(ok.contactAttempt).toMatchObject({ occurredAt: '2026-11-30T02:00:00.000Z', attemptedAt: '2026-11-30T02:00:00.000Z', recordedAt: '2026-11-30T15:30:00.000Z', violation: false });
    expect(ok.policyViolation).toBeNull();
    // Made at 22:30 Shanghai on the 29th: outside hours then, so a recorded violation.
    w.e.t.clock.set('2026-12-01T02:00:00.000Z'); // 10:00 Shanghai: inside hours now
    const bad = (await w.as('northAgent', CALL_DOC, { input: call(c, '2026-11-29T14:30:00.000Z') })).data.logContactAttempt;
    expect(bad.contactAttempt).toMatchObject({ violation: true, rule: 'CONTACT_HOURS' });
  });

  it('accepts exactly 72 hours back, refuses 72 h + 1 ms and more than 5 minutes ahead (also through the deprecated attemptedAt)', async () => {
    const now = Date.parse('2026-12-03T02:00:00.000Z');
    w.e.t.clock.set(iso(now));
    const c = await w.northCase();
    const before = await w.e.t.prisma.contactAttempt.count({ where: { caseId: c.row.id } });
    const r1 = (await w.as('northAgent', CALL_DOC, { input: call(c, iso(now - 72 * H)) })).data.logContactAttempt;
    expect(r1.userErrors).toEqual([]);
    const r2 = (await w.as('northAgent', CALL_DOC, { input: call(c, iso(now - 72 * H - 1)) })).data.logContactAttempt;
    expect(r2.userErrors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: ['occurredAt'] })]);
    const r3 = (await w.as('northAgent', CALL_DOC, { input: call(c, iso(now + 5 * 60_000 + 1)) })).data.logContactAttempt;
    expect(r3.userErrors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: ['occurredAt'] })]);
    const { occurredAt: _o, ...legacy } = call(c);
    const r4 = (await w.as('northAgent', CALL_DOC, { input: { ...legacy, attemptedAt: iso(now - 4 * 24 * H) } })).data.logContactAttempt;
    expect(r4.userErrors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: ['attemptedAt'] })]);
    expect(await w.e.t.prisma.contactAttempt.count({ where: { caseId: c.row.id } })).toBe(before + 1);
  });

  it('through the SDK: an offline call and an offline check-in, both times read back', async () => {
    const { c, visitId } = await scheduledVisit();
    w.e.t.clock.set('2026-11-30T04:00:00.000Z');
    const sdk = sdkAs(w.e.t, w.s.users.northAgent);
    const logged = await sdk.logContactAttempt({ input: { caseId: c.id, contactPointId: c.mobileId, channel: 'CALL', outcome: 'NO_ANSWER', occurredAt: '2026-11-29T05:00:00.000Z' } });
    expect(logged.logContactAttempt.userErrors).toEqual([]);
    expect(logged.logContactAttempt.contactAttempt).toMatchObject({ occurredAt: '2026-11-29T05:00:00.000Z', recordedAt: '2026-11-30T04:00:00.000Z' });
    const checked = await sdk.checkInVisit({ input: checkInInput(visitId, ON_SITE) });
    expect(checked.checkInVisit.userErrors).toEqual([]);
    expect(checked.checkInVisit.visit).toMatchObject({ checkedInAt: ON_SITE, checkInRecordedAt: '2026-11-30T04:00:00.000Z' });
  });
});
