import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

/**
 * Writes that name a record by id find only records of the viewer's era of the case: an agency
 * that now holds a case cannot act on (or learn of) what another agency did with it before.
 */
let t: TestApp;
let s: Scenario;
const gid = (type: string, id: string) => encodeGlobalID(type, id);
let ids: { caseId: string; reminder: string; attempt: string; plan: string; evidence: string; visit: string };

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  // North worked the case first: every record carries North's era.
  const c = await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, stage: 'FIELD_VISIT' });
  const north = s.north.id;
  const debtor = await t.prisma.debtor.findUniqueOrThrow({ where: { id: c.debtorId }, include: { contactPoints: true, addresses: true } });
  const cp = debtor.contactPoints[0]!;
  const reminder = await t.prisma.reminder.create({ data: { caseId: c.id, agencyId: north, contactPointId: cp.id, channel: 'SMS', language: 'ZH_CN', scheduledAt: new Date(now.getTime() + 86_400_000), nextAttemptAt: new Date(now.getTime() + 86_400_000), idempotencyKey: `era-${c.id}`, requestHash: 'h' } });
  const attempt = await t.prisma.contactAttempt.create({ data: { caseId: c.id, agencyId: north, debtorId: c.debtorId, contactPointId: cp.id, channel: 'CALL', attemptedAt: new Date(now.getTime() - 3_600_000), outcome: 'VISIT_CONSENT_GIVEN', connected: true } });
  const plan = await t.prisma.repaymentPlan.create({ data: { caseId: c.id, agencyId: north, kind: 'DEFERRAL', currency: 'CNY', totalAmount: c.overdueTotal, instalmentCount: 1, firstDueDate: new Date('2026-12-20T00:00:00Z'), proposedAt: now, instalments: { create: { seq: 1, amount: c.overdueTotal, dueDate: new Date('2026-12-20T00:00:00Z') } } } });
  const evidence = await t.prisma.evidence.create({ data: { caseId: c.id, agencyId: north, kind: 'AUDIO', sha256: 'a'.repeat(64), sizeBytes: 10, contentType: 'audio/wav', fileName: 'call.wav', uploadedAt: now } });
  const visit = await t.prisma.visit.create({ data: { caseId: c.id, agencyId: north, addressId: debtor.addresses[0]!.id, purpose: 'North visit', dossier: {} } });
  // Then the case went to South.
  await t.prisma.case.update({ where: { id: c.id }, data: { assignedAgencyId: s.south.id } });
  ids = { caseId: c.id, reminder: reminder.id, attempt: attempt.id, plan: plan.id, evidence: evidence.id, visit: visit.id };
});
afterAll(async () => t?.close());

describe("writes that name another agency's record", () => {
  it('are NOT_FOUND for the agency now holding the case, and work for the bank', async () => {
    const south = await t.token(s.users.southManager);
    const bank = await t.token(s.users.supervisor);
    const calls = {
      cancel: (tok: string) => t.gql(tok, `mutation($i: CancelReminderInput!) { cancelReminder(input: $i) { userErrors { code field } } }`, { i: { reminderId: gid('Reminder', ids.reminder) } }),
      promise: (tok: string) => t.gql(tok, `mutation($i: RecordPromiseToPayInput!) { recordPromiseToPay(input: $i) { userErrors { code field } } }`, { i: { caseId: gid('Case', ids.caseId), amount: 1000, currency: 'CNY', promisedFor: '2026-12-05', contactAttemptId: gid('ContactAttempt', ids.attempt) } }),
      recording: (tok: string) => t.gql(tok, `mutation($i: LogContactAttemptInput!) { logContactAttempt(input: $i) { userErrors { code field } } }`, { i: { caseId: gid('Case', ids.caseId), channel: 'LETTER', outcome: 'SENT', recordingEvidenceId: gid('Evidence', ids.evidence) } }),
      consent: (tok: string) => t.gql(tok, `mutation($i: RecordVisitConsentInput!) { recordVisitConsent(input: $i) { userErrors { code field } } }`, { i: { visitId: gid('Visit', ids.visit), contactAttemptId: gid('ContactAttempt', ids.attempt), windowStart: '2026-11-29T02:00:00Z', windowEnd: '2026-11-29T04:00:00Z' } }),
      cancelPlan: (tok: string) => t.gql(tok, `mutation($i: CancelRepaymentPlanInput!) { cancelRepaymentPlan(input: $i) { userErrors { code field } } }`, { i: { planId: gid('RepaymentPlan', ids.plan), reason: 'no longer' } }),
    };
    const southResults = {
      cancel: (await calls.cancel(south)).data.cancelReminder.userErrors[0],
      promise: (await calls.promise(south)).data.recordPromiseToPay.userErrors[0],
      recording: (await calls.recording(south)).data.logContactAttempt.userErrors[0],
      consent: (await calls.consent(south)).data.recordVisitConsent.userErrors[0],
      cancelPlan: (await calls.cancelPlan(south)).data.cancelRepaymentPlan.userErrors[0],
    };
    expect(southResults).toEqual({
      cancel: { code: 'NOT_FOUND', field: ['reminderId'] },
      promise: { code: 'NOT_FOUND', field: ['contactAttemptId'] },
      recording: { code: 'NOT_FOUND', field: ['recordingEvidenceId'] },
      consent: { code: 'NOT_FOUND', field: ['visitId'] },
      cancelPlan: { code: 'NOT_FOUND', field: ['planId'] },
    });
    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: ids.reminder } })).status).toBe('SCHEDULED');
    // The bank sees every era: the same writes go through.
    expect((await calls.cancel(bank)).data.cancelReminder.userErrors).toEqual([]);
    expect((await calls.promise(bank)).data.recordPromiseToPay.userErrors).toEqual([]);
    expect((await calls.cancelPlan(bank)).data.cancelRepaymentPlan.userErrors).toEqual([]);
  });
});
