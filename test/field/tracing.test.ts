// Issue 13, point 8: skip tracing. An agency adds a phone or an address it found to a case it
// holds, with its source, UNVERIFIED; the bank verifies or rejects; wrong numbers and moved-away
// addresses are marked, never deleted. What an agency found is of its era: another agency never
// sees it, by any path. Over HTTP and through the SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario, type ScenarioUser } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createAutomaticReminders } from '../../src/modules/contact/dunning.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import { sdkAs } from './support.ts';

let t: TestApp;
let s: Scenario;
const gid = (type: string, id: string) => encodeGlobalID(type, id);

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const CP = `id kind value party source sourceNote verification verifiedAt doNotContact wrongNumberAt wrongNumberNote addedAt`;
const AD = `id kind line1 city source verification movedAwayAt movedAwayNote`;
const D = {
  addCp: `mutation($input: AddContactPointInput!) { addContactPoint(input: $input) { contactPoint { ${CP} } case { id version } userErrors { code field message } } }`,
  addAd: `mutation($input: AddAddressInput!) { addAddress(input: $input) { address { ${AD} } userErrors { code field message } } }`,
  verifyCp: `mutation($input: VerifyContactPointInput!) { verifyContactPoint(input: $input) { contactPoint { ${CP} } userErrors { code field message } } }`,
  verifyAd: `mutation($input: VerifyAddressInput!) { verifyAddress(input: $input) { address { ${AD} } userErrors { code field message } } }`,
  wrong: `mutation($input: MarkContactPointWrongNumberInput!) { markContactPointWrongNumber(input: $input) { contactPoint { ${CP} } userErrors { code field message } } }`,
  moved: `mutation($input: MarkAddressMovedAwayInput!) { markAddressMovedAway(input: $input) { address { ${AD} } userErrors { code field message } } }`,
  contacts: `query($id: ID!) { node(id: $id) { ... on Case { debtor { contactPoints { ${CP} } addresses { ${AD} } } } } }`,
  node: `query($id: ID!) { node(id: $id) { id } }`,
  permission: `query($c: ID!, $p: ID!) { contactPermission(caseId: $c, channel: CALL, contactPointId: $p) { allowed rule } }`,
  plan: `mutation($input: PlanVisitInput!) { planVisit(input: $input) { visit { id } userErrors { code field message } } }`,
};

async function as(user: ScenarioUser, query: string, variables: Record<string, unknown>) {
  return t.gql(await t.token(user), query, variables);
}
async function mutate(user: ScenarioUser, query: string, input: Record<string, unknown>) {
  const r = await as(user, query, { input });
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return Object.values(r.data as Record<string, any>)[0];
}
async function northCase(spec: Partial<Parameters<typeof createCase>[2]> = {}) {
  const row = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id, collectorId: s.users.northAgent.id, ...spec });
  return { row, id: gid('Case', row.id) };
}
const traced = (caseId: string, value = '13912345678') => ({ caseId, kind: 'MOBILE', value, source: 'AGENCY_TRACE', sourceNote: 'found through a former employer' });

describe('adding a contact point', () => {
  it('an agency adds to its case: UNVERIFIED, of its era, on the timeline and in the audit log', async () => {
    const c = await northCase();
    const p = await mutate(s.users.northAgent, D.addCp, traced(c.id, '139 1234 5678'));
    expect(p.userErrors).toEqual([]);
    expect(p.contactPoint).toMatchObject({ kind: 'MOBILE', value: '13912345678', party: 'DEBTOR', source: 'AGENCY_TRACE', verification: 'UNVERIFIED', verifiedAt: null });
    const row = await t.prisma.contactPoint.findFirstOrThrow({ where: { value: '13912345678', debtorId: c.row.debtorId } });
    expect(row).toMatchObject({ agencyId: s.north.id, addedOnCaseId: c.row.id, addedById: s.users.northAgent.id });
    expect(await t.prisma.caseEvent.count({ where: { caseId: c.row.id, type: 'CONTACT_POINT_ADDED' } })).toBe(1);
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.row.id, action: 'contactPoint.add' } });
    expect(audit).toMatchObject({ actorId: s.users.northAgent.id, agencyId: s.north.id, entityId: c.row.id });
    // The bank's own record of the same case is verified; BANK_DATA is not an agency's to give.
    const bank = await mutate(s.users.supervisor, D.addCp, { caseId: c.id, kind: 'EMAIL', value: 'Debtor@Example.com', source: 'BANK_DATA' });
    expect(bank.contactPoint).toMatchObject({ value: 'debtor@example.com', verification: 'VERIFIED' });
    const refused = await mutate(s.users.northAgent, D.addCp, { caseId: c.id, kind: 'EMAIL', value: 'x@example.com', source: 'BANK_DATA' });
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'VALIDATION', field: ['source'] })]);
  });

  it('refuses a bad value, a duplicate, a third party without a relation, and changes nothing', async () => {
    const c = await northCase();
    await mutate(s.users.northAgent, D.addCp, traced(c.id));
    const before = await t.prisma.contactPoint.count({ where: { debtorId: c.row.debtorId } });
    expect((await mutate(s.users.northAgent, D.addCp, traced(c.id, 'call me'))).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['value'] });
    expect((await mutate(s.users.northAgent, D.addCp, traced(c.id, '139-1234-5678'))).userErrors[0]).toMatchObject({ code: 'DUPLICATE' });
    expect((await mutate(s.users.northAgent, D.addCp, { ...traced(c.id, '13700000000'), party: 'THIRD_PARTY' })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['relation'] });
    expect(await t.prisma.contactPoint.count({ where: { debtorId: c.row.debtorId } })).toBe(before);
  });

  it('an attacker: another agency’s case, a case of the agency but another collector, the auditor', async () => {
    const c = await northCase();
    expect((await mutate(s.users.southManager, D.addCp, traced(c.id))).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect((await mutate(s.users.northAgent2, D.addCp, traced(c.id))).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    const r = await as(s.users.auditor, D.addCp, { input: traced(c.id) });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.prisma.contactPoint.count({ where: { debtorId: c.row.debtorId } })).toBe(1);
  });

  it('what North found is not there for South once the case moves on, by any path; the bank sees it', async () => {
    const c = await northCase();
    const p = await mutate(s.users.northManager, D.addCp, traced(c.id));
    const ad = await mutate(s.users.northManager, D.addAd, { caseId: c.id, kind: 'WORK', line1: '8 Factory Lane', city: 'Tianjin', region: 'Tianjin', source: 'AGENCY_TRACE' });
    await t.prisma.case.update({ where: { id: c.row.id }, data: { assignedAgencyId: s.south.id, assignedCollectorId: null, stage: 'FIELD_VISIT' } });
    const south = await as(s.users.southManager, D.contacts, { id: c.id });
    expect(south.data.node.debtor.contactPoints.map((x: any) => x.id)).not.toContain(p.contactPoint.id);
    expect(south.data.node.debtor.addresses.map((x: any) => x.id)).not.toContain(ad.address.id);
    expect((await as(s.users.southManager, D.node, { id: p.contactPoint.id })).data.node).toBeNull();
    expect((await as(s.users.southManager, D.node, { id: ad.address.id })).data.node).toBeNull();
    expect((await mutate(s.users.southManager, D.wrong, { caseId: c.id, contactPointId: p.contactPoint.id, note: 'guessing' })).userErrors[0]).toMatchObject({ code: 'NOT_FOUND' });
    expect((await mutate(s.users.southManager, D.plan, { caseId: c.id, addressId: ad.address.id, purpose: 'visit' })).userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['addressId'] });
    // Nor can South dial it, schedule to it or ask the policy about it by its id: not there.
    const permission = await as(s.users.southManager, D.permission, { c: c.id, p: p.contactPoint.id });
    expect(permission.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const dial = await mutate(s.users.southManager, `mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input) { contactAttempt { id } userErrors { code field } } }`, { caseId: c.id, contactPointId: p.contactPoint.id, channel: 'CALL', outcome: 'NO_ANSWER' });
    expect(dial.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['contactPointId'] }]);
    const sms = await mutate(s.users.southManager, `mutation($input: ScheduleReminderInput!) { scheduleReminder(input: $input) { reminder { id } userErrors { code field } } }`, { caseId: c.id, contactPointId: p.contactPoint.id, channel: 'SMS', templateKey: 'overdue-notice', scheduledAt: t.clock.now().toISOString(), idempotencyKey: 'south-probe-0001' });
    expect(sms.userErrors).toEqual([{ code: 'NOT_FOUND', field: ['contactPointId'] }]);
    // Nor find the case by searching for North's number; the bank does.
    const search = `query($q: String!) { cases(first: 5, filter: { search: $q }) { nodes { id } } }`;
    expect((await as(s.users.southManager, search, { q: '13912345678' })).data.cases.nodes.map((n: any) => n.id)).not.toContain(c.id);
    expect((await as(s.users.supervisor, search, { q: '13912345678' })).data.cases.nodes.map((n: any) => n.id)).toContain(c.id);
    // The bank still may.
    expect((await as(s.users.supervisor, D.permission, { c: c.id, p: p.contactPoint.id })).data.contactPermission).not.toBeNull();
    // South may record the same number itself: no DUPLICATE that would tell it North had it.
    expect((await mutate(s.users.southManager, D.addCp, traced(c.id))).userErrors).toEqual([]);
    const bank = await as(s.users.supervisor, D.contacts, { id: c.id });
    expect(bank.data.node.debtor.contactPoints.filter((x: any) => x.value === '13912345678')).toHaveLength(2);
    await t.prisma.case.update({ where: { id: c.row.id }, data: { assignedAgencyId: s.north.id, assignedCollectorId: s.users.northAgent.id, stage: 'EARLY_REMINDER' } });
  });
});

describe('verification by the bank', () => {
  it('only the bank verifies; VERIFIED and REJECTED are audited with before and after; a rejected number is not contacted', async () => {
    const c = await northCase();
    const p = await mutate(s.users.northAgent, D.addCp, traced(c.id));
    const input = { caseId: c.id, contactPointId: p.contactPoint.id, status: 'VERIFIED', note: 'matches the bureau file' };
    const denied = await as(s.users.northManager, D.verifyCp, { input });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ok = await mutate(s.users.supervisor, D.verifyCp, input);
    expect(ok.contactPoint).toMatchObject({ verification: 'VERIFIED', verifiedAt: t.clock.now().toISOString() });
    expect((await mutate(s.users.supervisor, D.verifyCp, input)).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    const rejected = await mutate(s.users.supervisor, D.verifyCp, { ...input, status: 'REJECTED', note: 'belongs to a namesake' });
    expect(rejected.contactPoint).toMatchObject({ verification: 'REJECTED', doNotContact: true });
    const audits = await t.prisma.auditEvent.findMany({ where: { caseId: c.row.id, action: 'contactPoint.verify' }, orderBy: { at: 'asc' } });
    expect(audits.map((a) => a.data)).toEqual([
      expect.objectContaining({ before: expect.objectContaining({ verification: 'UNVERIFIED' }), after: expect.objectContaining({ verification: 'VERIFIED' }) }),
      expect.objectContaining({ before: expect.objectContaining({ verification: 'VERIFIED' }), after: expect.objectContaining({ verification: 'REJECTED', doNotContact: true }) }),
    ]);
    expect(audits.map((a) => a.reason)).toEqual(['matches the bureau file', 'belongs to a namesake']);
    const perm = await as(s.users.northAgent, D.permission, { c: c.id, p: p.contactPoint.id });
    expect(perm.data.contactPermission).toMatchObject({ allowed: false, rule: 'DO_NOT_CONTACT' });
  });

  it('automatic reminders go only to verified numbers: an agency’s find waits for the bank', async () => {
    await ensureDefaultTemplates(t.prisma);
    await ensureDefaultDunningRules(t.prisma);
    const c = await northCase({ daysPastDue: 3 });
    const bankMobile = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.row.debtorId } });
    await mutate(s.users.northAgent, D.wrong, { caseId: c.id, contactPointId: gid('ContactPoint', bankMobile.id), note: 'a stranger answered' });
    const found = await mutate(s.users.northAgent, D.addCp, traced(c.id, '13955556666'));
    const deps = { prisma: t.prisma, clock: t.clock, logger: createLogger('silent') };
    await createAutomaticReminders(deps);
    expect(await t.prisma.reminder.count({ where: { caseId: c.row.id } })).toBe(0);
    await mutate(s.users.supervisor, D.verifyCp, { caseId: c.id, contactPointId: found.contactPoint.id, status: 'VERIFIED' });
    await createAutomaticReminders(deps);
    const reminders = await t.prisma.reminder.findMany({ where: { caseId: c.row.id } });
    const foundRow = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.row.debtorId, value: '13955556666' } });
    expect(reminders.map((r) => r.contactPointId)).toEqual([foundRow.id]);
  });
});

describe('marking, never deleting', () => {
  it('a wrong number is marked by whoever works the case, kept, and no longer contacted', async () => {
    const c = await northCase();
    const mobile = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.row.debtorId } });
    const id = gid('ContactPoint', mobile.id);
    const p = await mutate(s.users.northAgent, D.wrong, { caseId: c.id, contactPointId: id, note: 'a restaurant answered' });
    expect(p.contactPoint).toMatchObject({ id, doNotContact: true, wrongNumberNote: 'a restaurant answered', wrongNumberAt: t.clock.now().toISOString() });
    expect((await mutate(s.users.northAgent, D.wrong, { caseId: c.id, contactPointId: id, note: 'again' })).userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect((await mutate(s.users.northAgent, D.wrong, { caseId: c.id, contactPointId: id, note: '  ' })).userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['note'] });
    const list = await as(s.users.northAgent, D.contacts, { id: c.id });
    expect(list.data.node.debtor.contactPoints.map((x: any) => x.id)).toContain(id);
    expect((await as(s.users.northAgent, D.permission, { c: c.id, p: id })).data.contactPermission.allowed).toBe(false);
    expect(await t.prisma.caseEvent.count({ where: { caseId: c.row.id, type: 'CONTACT_POINT_MARKED' } })).toBe(1);
  });

  it('an address is added, verified, marked moved away (kept), and no visit is planned to it', async () => {
    const c = await northCase({ stage: 'FIELD_VISIT' });
    const added = await mutate(s.users.northAgent, D.addAd, { caseId: c.id, kind: 'HOME', line1: '12 New Street', city: 'Shanghai', region: 'Shanghai', source: 'PUBLIC_RECORD', sourceNote: 'court filing 2026-031' });
    expect(added.address).toMatchObject({ source: 'PUBLIC_RECORD', verification: 'UNVERIFIED', movedAwayAt: null });
    const verified = await mutate(s.users.collector, D.verifyAd, { caseId: c.id, addressId: added.address.id, status: 'VERIFIED' });
    expect(verified.userErrors[0]).toMatchObject({ code: 'NOT_FOUND' }); // a bank collector not assigned to the case
    expect((await mutate(s.users.supervisor, D.verifyAd, { caseId: c.id, addressId: added.address.id, status: 'VERIFIED' })).address.verification).toBe('VERIFIED');
    const moved = await mutate(s.users.northAgent, D.moved, { caseId: c.id, addressId: added.address.id, note: 'neighbours say they left in October' });
    expect(moved.address).toMatchObject({ movedAwayAt: t.clock.now().toISOString(), movedAwayNote: 'neighbours say they left in October' });
    const plan = await mutate(s.users.northAgent, D.plan, { caseId: c.id, addressId: added.address.id, purpose: 'Discuss the balance' });
    expect(plan.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['addressId'] });
    expect(await t.prisma.address.count({ where: { id: (await t.prisma.address.findFirstOrThrow({ where: { line1: '12 New Street' } })).id } })).toBe(1);
  });
});

describe('through the SDK', () => {
  it('an agency traces a number and an address, the bank verifies, the agency marks a wrong number', async () => {
    const c = await northCase();
    const agent = sdkAs(t, s.users.northAgent);
    const bank = sdkAs(t, s.users.supervisor);
    const cp = await agent.addContactPoint({ input: { caseId: c.id, kind: 'WORK_PHONE', value: '010-8888-0000', source: 'AGENCY_TRACE' } });
    expect(cp.addContactPoint.contactPoint).toMatchObject({ value: '01088880000', verification: 'UNVERIFIED', source: 'AGENCY_TRACE' });
    const ad = await agent.addAddress({ input: { caseId: c.id, kind: 'MAILING', line1: 'PO Box 9', city: 'Beijing', region: 'Beijing', source: 'DEBTOR' } });
    expect(ad.addAddress.address).toMatchObject({ source: 'DEBTOR', verification: 'UNVERIFIED' });
    const v = await bank.verifyContactPoint({ input: { caseId: c.id, contactPointId: cp.addContactPoint.contactPoint!.id, status: 'VERIFIED' } });
    expect(v.verifyContactPoint.contactPoint?.verification).toBe('VERIFIED');
    const m = await agent.markContactPointWrongNumber({ input: { caseId: c.id, contactPointId: cp.addContactPoint.contactPoint!.id, note: 'switchboard: nobody of that name' } });
    expect(m.markContactPointWrongNumber.contactPoint?.wrongNumberAt).not.toBeNull();
    const mv = await agent.markAddressMovedAway({ input: { caseId: c.id, addressId: ad.addAddress.address!.id, note: 'returned mail' } });
    expect(mv.markAddressMovedAway.address?.movedAwayAt).not.toBeNull();
    const read = await agent.debtorContacts({ caseId: c.id });
    const debtor = read.node && 'debtor' in read.node ? read.node.debtor : null;
    // The bank's own mobile (intake: verified) and the traced work phone, now verified and marked.
    expect(debtor?.contactPoints.map((x) => [x.source, x.verification, x.wrongNumberAt !== null])).toEqual([
      ['BANK_DATA', 'VERIFIED', false],
      ['AGENCY_TRACE', 'VERIFIED', true],
    ]);
    const bankVerify = await agent.verifyAddress({ input: { caseId: c.id, addressId: ad.addAddress.address!.id, status: 'VERIFIED' } }).catch((e: Error) => e);
    expect(bankVerify).toBeInstanceOf(Error);
  });
});
