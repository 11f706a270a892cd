/**
 * Issue 16 point 6, over GraphQL: a legal referral (the LEGAL stage's record: law firm, amounts at
 * referral, the document package as evidence) and its court case (filing, hearings, judgment,
 * enforcement, outcome), each step in order and by the bank only; legal records per scope. A
 * write-off is maker-checker with limits by role; approved, the balance leaves the book and the
 * case closes WRITTEN_OFF; money received afterwards is a recovery, never a payment, and earns no
 * commission. Amounts: principal 1 000 000, interest 12 345, fees 5 000: overdue 1 017 345.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { files } from '../evidence/files.ts';
import { createCareWorld, gid, refusedWith, type CareWorld, type Who } from '../care/support.ts';
import { WRITE_OFF_APPROVAL_LIMITS } from '../../src/modules/legal/service.ts';

let w: CareWorld;
beforeAll(async () => {
  w = await createCareWorld({ now: '2026-03-10T02:00:00.000Z' });
});
afterAll(async () => w?.close());

const ERR = 'userErrors { code field message }';
const REFERRAL = 'id status lawFirm principal { minorUnits } interest { minorUnits } fees { minorUnits } total { minorUnits currency } court courtReference filedOn judgmentOn judgmentResult judgmentAmount { minorUnits } enforcementStartedOn enforcementMethod outcome closedAt documents { id kind } hearings { id kind result }';
const STATE = 'case { id version stage status closeReason overdue { minorUnits } }';
const REFER = `mutation($input: ReferCaseToLegalInput!) { referCaseToLegal(input: $input) { referral { ${REFERRAL} } ${STATE} ${ERR} } }`;
const m = (name: string, input: string, extra = '') => `mutation($input: ${input}!) { ${name}(input: $input) { referral { ${REFERRAL} } ${extra} ${ERR} } }`;
const FILE = m('recordLegalFiling', 'RecordLegalFilingInput');
const HEARING = m('recordLegalHearing', 'RecordLegalHearingInput', 'hearing { id kind }');
const JUDGMENT = m('recordLegalJudgment', 'RecordLegalJudgmentInput');
const ENFORCE = m('recordLegalEnforcement', 'RecordLegalEnforcementInput');
const CLOSE = m('closeLegalReferral', 'CloseLegalReferralInput');
const ADD_DOCS = m('addLegalDocuments', 'AddLegalDocumentsInput');
const WO = 'id status total { minorUnits } principal { minorUnits } reason recovered { minorUnits }';
const PROPOSE = `mutation($input: ProposeWriteOffInput!) { proposeWriteOff(input: $input) { writeOff { ${WO} } ${STATE} ${ERR} } }`;
const APPROVE = `mutation($input: ApproveWriteOffInput!) { approveWriteOff(input: $input) { writeOff { ${WO} } ${STATE} ${ERR} } }`;
const REJECT = `mutation($input: RejectWriteOffInput!) { rejectWriteOff(input: $input) { writeOff { ${WO} } ${ERR} } }`;
const RECOVER = `mutation($input: RecordRecoveryInput!) { recordRecovery(input: $input) { recovery { id amount { minorUnits } } writeOff { ${WO} } ${STATE} ${ERR} } }`;
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { ${ERR} } }`;
const UPLOAD = `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id } ${ERR} } }`;
const NODE = `query($id: ID!) { node(id: $id) { id } }`;
const CASE_LEGAL = `query($id: ID!) { case(id: $id) { legalReferrals(first: 5) { totalCount nodes { id } } writeOffs(first: 5) { totalCount nodes { id status } } } }`;

const upload = async (who: Who, caseGid: string, kind: string) => {
  const r = await w.upload(who, UPLOAD, { caseId: caseGid, kind, description: `${kind} for the court` }, files.pdf(`${kind} ${Math.random()}`), `${kind.toLowerCase()}.pdf`);
  expect(r.data.uploadEvidence.userErrors).toEqual([]);
  return r.data.uploadEvidence.evidence.id as string;
};
const gqlOk = async (who: Who, q: string, input: Record<string, unknown>) => {
  const r = await w.gql(who, q, { input });
  const payload = Object.values(r.data ?? {})[0] as any;
  expect(r.errors ?? payload.userErrors).toEqual([]);
  return payload;
};
const refused = async (who: Who, q: string, input: Record<string, unknown>, code: string, field?: string[]) => {
  const r = await w.gql(who, q, { input });
  refusedWith(Object.values(r.data)[0] as any, code, field);
};
const forbidden = async (who: Who, q: string, input: Record<string, unknown>) => expect((await w.gql(who, q, { input })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

describe('legal referral', () => {
  let c: Awaited<ReturnType<CareWorld['newCase']>>;
  let referral: string;
  let docs: string[];

  it('the bank refers a FIELD_VISIT case with its document package: the stage moves to LEGAL, the amounts are kept', async () => {
    c = await w.newCase({ agency: 'north', collector: 'northAgent', stage: 'FIELD_VISIT' });
    const early = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const other = await w.newCase({ agency: 'north', collector: 'northAgent', stage: 'FIELD_VISIT' });
    docs = [await upload('northAgent', c.gid, 'OVERDUE_STATEMENT'), await upload('supervisor', c.gid, 'REPAYMENT_AGREEMENT')];
    const foreignDoc = await upload('northAgent', other.gid, 'OVERDUE_STATEMENT');
    const input = { caseId: c.gid, lawFirm: 'Jun He LLP', lawFirmReference: 'JH-2026-0042', documentIds: docs, note: 'no contact for 90 days' };
    await forbidden('northManager', REFER, input);
    await forbidden('collector', REFER, input);
    await refused('supervisor', REFER, { ...input, caseId: early.gid }, 'INVALID_TRANSITION', ['caseId']);
    await refused('supervisor', REFER, { ...input, documentIds: [...docs, foreignDoc] }, 'NOT_FOUND', ['documentIds']);
    await refused('supervisor', REFER, { ...input, lawFirm: ' ' }, 'VALIDATION', ['lawFirm']);
    expect(await w.t.prisma.legalReferral.count()).toBe(0);
    const r = await gqlOk('supervisor', REFER, input);
    referral = r.referral.id;
    expect(r.referral).toMatchObject({ status: 'REFERRED', lawFirm: 'Jun He LLP', principal: { minorUnits: 1_000_000 }, interest: { minorUnits: 12_345 }, fees: { minorUnits: 5_000 }, total: { minorUnits: 1_017_345, currency: 'CNY' } });
    expect(r.referral.documents.map((d: any) => d.id)).toEqual(docs);
    expect(r.case.stage).toBe('LEGAL');
    await refused('supervisor', REFER, { caseId: c.gid, lawFirm: 'Other LLP' }, 'INVALID_TRANSITION', ['caseId']);
    const events = await w.t.prisma.caseEvent.findMany({ where: { caseId: c.id }, orderBy: { recordedAt: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['STAGE_CHANGED', 'LEGAL_REFERRED']));
    expect((await w.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'legal.refer', caseId: c.id } })).data).toMatchObject({ lawFirm: 'Jun He LLP', amounts: { total: '1017345' }, from: 'FIELD_VISIT' });
  });

  it('the court case goes in order: filing, hearings, judgment, enforcement, outcome; dates checked', async () => {
    await refused('supervisor', HEARING, { referralId: referral, heldAt: '2026-03-09T02:00:00Z', kind: 'first hearing' }, 'INVALID_TRANSITION', ['referralId']);
    await refused('supervisor', JUDGMENT, { referralId: referral, judgmentOn: '2026-03-09', result: 'FOR_BANK', amount: 1_017_345 }, 'INVALID_TRANSITION', ['referralId']);
    await refused('supervisor', FILE, { referralId: referral, court: 'Chaoyang District People’s Court', courtReference: '(2026)京0105民初1234号', filedOn: '2026-03-11' }, 'VALIDATION', ['filedOn']);
    await refused('supervisor', FILE, { referralId: referral, court: 'Chaoyang District People’s Court', courtReference: '(2026)京0105民初1234号', filedOn: '2026-03-01' }, 'VALIDATION', ['filedOn']);
    await w.setClock('2026-04-20T02:00:00.000Z');
    const filed = await gqlOk('admin', FILE, { referralId: referral, court: 'Chaoyang District People’s Court', courtReference: '(2026)京0105民初1234号', filedOn: '2026-03-12' });
    expect(filed.referral).toMatchObject({ status: 'FILED', filedOn: '2026-03-12' });
    await refused('supervisor', FILE, { referralId: referral, court: 'x', courtReference: 'y', filedOn: '2026-03-12' }, 'INVALID_TRANSITION', ['referralId']);
    const heard = await gqlOk('supervisor', HEARING, { referralId: referral, heldAt: '2026-04-02T01:30:00Z', kind: 'first hearing', result: 'debtor absent' });
    expect(heard.hearing.kind).toBe('first hearing');
    await refused('supervisor', ENFORCE, { referralId: referral, startedOn: '2026-04-10', method: 'bank account freeze' }, 'INVALID_TRANSITION', ['referralId']);
    await refused('supervisor', JUDGMENT, { referralId: referral, judgmentOn: '2026-04-08', result: 'FOR_BANK' }, 'VALIDATION', ['amount']);
    await refused('supervisor', JUDGMENT, { referralId: referral, judgmentOn: '2026-04-08', result: 'AGAINST_BANK', amount: 1 }, 'VALIDATION', ['amount']);
    const judged = await gqlOk('supervisor', JUDGMENT, { referralId: referral, judgmentOn: '2026-04-08', result: 'FOR_BANK', amount: 1_017_345, currency: 'CNY' });
    expect(judged.referral).toMatchObject({ status: 'JUDGMENT', judgmentResult: 'FOR_BANK', judgmentAmount: { minorUnits: 1_017_345 } });
    await refused('supervisor', ENFORCE, { referralId: referral, startedOn: '2026-04-07', method: 'bank account freeze' }, 'VALIDATION', ['startedOn']);
    const enforced = await gqlOk('supervisor', ENFORCE, { referralId: referral, startedOn: '2026-04-15', method: 'bank account freeze' });
    expect(enforced.referral).toMatchObject({ status: 'ENFORCEMENT', enforcementStartedOn: '2026-04-15', enforcementMethod: 'bank account freeze' });
    const extra = await upload('supervisor', c.gid, 'NOTE');
    expect((await gqlOk('supervisor', ADD_DOCS, { referralId: referral, documentIds: [extra, docs[0]] })).referral.documents.map((d: any) => d.id)).toEqual([...docs, extra]);
    await forbidden('northManager', CLOSE, { referralId: referral, outcome: 'UNENFORCEABLE', note: 'no assets' });
    const closed = await gqlOk('supervisor', CLOSE, { referralId: referral, outcome: 'UNENFORCEABLE', note: 'no attachable assets found' });
    expect(closed.referral).toMatchObject({ status: 'CLOSED', outcome: 'UNENFORCEABLE' });
    await refused('supervisor', HEARING, { referralId: referral, heldAt: '2026-04-16T01:30:00Z', kind: 'late' }, 'INVALID_TRANSITION', ['referralId']);
    expect(closed.referral.hearings).toHaveLength(1);
  });

  it('scope: the agency holding the case sees the referral; another agency, a bank collector not on the case, and the agency after a recall do not', async () => {
    expect((await w.gql('northManager', NODE, { id: referral })).data.node).toEqual({ id: referral });
    expect((await w.gql('northManager', CASE_LEGAL, { id: c.gid })).data.case.legalReferrals.totalCount).toBe(1);
    expect((await w.gql('southManager', NODE, { id: referral })).data.node).toBeNull();
    expect((await w.gql('collector', NODE, { id: referral })).data.node).toBeNull();
    await forbidden('southManager', ADD_DOCS, { referralId: referral, documentIds: docs });
    await forbidden('collector', ADD_DOCS, { referralId: referral, documentIds: docs });
    expect((await w.gql('supervisor', `mutation($input: RecallCaseInput!) { recallCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, reason: 'OTHER' } })).data.recallCase.userErrors).toEqual([]);
    expect((await w.gql('northManager', NODE, { id: referral })).data.node).toBeNull();
    expect((await w.gql('auditor', NODE, { id: referral })).data.node).toEqual({ id: referral });
  });
});

describe('write-off: maker-checker', () => {
  it('the proposer cannot approve; agencies and collectors cannot decide; one proposal at a time', async () => {
    const c = await w.newCase({ collector: 'collector' });
    await forbidden('northManager', PROPOSE, { caseId: c.gid, reason: 'UNCOLLECTIBLE', note: 'x' });
    await refused('collector', PROPOSE, { caseId: c.gid, reason: 'UNCOLLECTIBLE', note: '' }, 'VALIDATION', ['note']);
    const p = await gqlOk('collector', PROPOSE, { caseId: c.gid, reason: 'UNCOLLECTIBLE', note: 'debtor emigrated, no assets' });
    expect(p.writeOff).toMatchObject({ status: 'PROPOSED', total: { minorUnits: 1_017_345 } });
    await refused('collector', PROPOSE, { caseId: c.gid, reason: 'OTHER', note: 'again' }, 'INVALID_TRANSITION', ['caseId']);
    await forbidden('collector', APPROVE, { writeOffId: p.writeOff.id });
    await forbidden('auditor', APPROVE, { writeOffId: p.writeOff.id });
    await refused('collector2', PROPOSE, { caseId: c.gid, reason: 'OTHER', note: 'not my case' }, 'NOT_FOUND', ['caseId']);
    const own = await w.newCase({ collector: 'collector' });
    const mine = await gqlOk('supervisor', PROPOSE, { caseId: own.gid, reason: 'SMALL_BALANCE', note: 'too small to pursue' });
    await refused('supervisor', APPROVE, { writeOffId: mine.writeOff.id }, 'APPROVAL_REQUIRED', ['writeOffId']);
    await refused('supervisor', REJECT, { writeOffId: mine.writeOff.id, note: 'no' }, 'APPROVAL_REQUIRED', ['writeOffId']);
    expect((await w.t.prisma.case.findUniqueOrThrow({ where: { id: own.id } })).stage).toBe('EARLY_REMINDER');
    const rejected = await gqlOk('admin', REJECT, { writeOffId: mine.writeOff.id, note: 'keep collecting' });
    expect(rejected.writeOff.status).toBe('REJECTED');
    await refused('admin', APPROVE, { writeOffId: mine.writeOff.id }, 'INVALID_TRANSITION', ['writeOffId']);
  });

  it(`limits by role: a supervisor up to ${WRITE_OFF_APPROVAL_LIMITS.BANK_SUPERVISOR} minor units, above it an admin`, async () => {
    const big = await w.newCase({ collector: 'collector', principal: 6_000_000n });
    const p = await gqlOk('collector', PROPOSE, { caseId: big.gid, reason: 'BANKRUPTCY', note: 'bankruptcy order' });
    await refused('supervisor', APPROVE, { writeOffId: p.writeOff.id }, 'APPROVAL_REQUIRED', ['writeOffId']);
    expect((await w.t.prisma.writeOff.findFirstOrThrow({ where: { caseId: big.id } })).status).toBe('PROPOSED');
    const ok = await gqlOk('admin', APPROVE, { writeOffId: p.writeOff.id, note: 'order seen' });
    expect(ok.writeOff.status).toBe('APPROVED');
    // Exactly at the limit a supervisor may.
    const edge = await w.newCase({ collector: 'collector', principal: 5_000_000n - 17_345n });
    const pe = await gqlOk('collector', PROPOSE, { caseId: edge.gid, reason: 'UNCOLLECTIBLE', note: 'at the limit' });
    expect(pe.writeOff.total.minorUnits).toBe(5_000_000);
    expect((await gqlOk('supervisor', APPROVE, { writeOffId: pe.writeOff.id })).writeOff.status).toBe('APPROVED');
  });

  it('a balance changed since the proposal is not written off', async () => {
    const c = await w.newCase({ collector: 'collector' });
    const p = await gqlOk('collector', PROPOSE, { caseId: c.gid, reason: 'UNCOLLECTIBLE', note: 'no assets' });
    expect((await w.gql('collector', PAY, { input: { caseId: c.gid, amount: 1_000, currency: 'CNY', receivedAt: w.t.clock.now().toISOString(), channel: 'CASH', idempotencyKey: 'wo-changed-1' } })).data.recordPayment.userErrors).toEqual([]);
    await refused('supervisor', APPROVE, { writeOffId: p.writeOff.id }, 'INVALID_TRANSITION', ['writeOffId']);
  });

  it('approved: off the book, closed WRITTEN_OFF, placement ended, reminders stopped, audited; closeCase cannot do it alone', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const at = new Date(w.t.clock.now().getTime() + 86_400_000);
    await w.t.prisma.reminder.create({ data: { caseId: c.id, agencyId: w.s.north.id, channel: 'SMS', language: 'ZH_CN', contactPointId: c.contactPointId, scheduledAt: at, nextAttemptAt: at, idempotencyKey: `wo-rem-${c.id}`, requestHash: 'x' } });
    expect(await w.t.prisma.reminder.count({ where: { caseId: c.id, status: 'SCHEDULED' } })).toBe(1);
    refusedWith((await w.gql('supervisor', `mutation($input: CloseCaseInput!) { closeCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, reason: 'WRITTEN_OFF' } })).data.closeCase, 'APPROVAL_REQUIRED', ['reason']);
    const p = await gqlOk('supervisor', PROPOSE, { caseId: c.gid, reason: 'LEGAL_EXHAUSTED', note: 'judgment unenforceable' });
    const a = await gqlOk('admin', APPROVE, { writeOffId: p.writeOff.id, note: 'approved' });
    expect(a.case).toMatchObject({ stage: 'CLOSED', status: 'WRITTEN_OFF', closeReason: 'WRITTEN_OFF', overdue: { minorUnits: 0 } });
    expect(a.writeOff).toMatchObject({ status: 'APPROVED', total: { minorUnits: 1_017_345 }, principal: { minorUnits: 1_000_000 } });
    expect(await w.t.prisma.placement.count({ where: { caseId: c.id, endedAt: null } })).toBe(0);
    expect(await w.t.prisma.reminder.count({ where: { caseId: c.id, status: 'SCHEDULED' } })).toBe(0);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.id, action: 'writeOff.approve' } });
    expect(audit.data).toMatchObject({ proposedById: w.s.users.supervisor.id, amounts: { total: '1017345' } });
    expect((await w.gql('northManager', CASE_LEGAL, { id: c.gid })).data.case.writeOffs.nodes).toEqual([{ id: p.writeOff.id, status: 'APPROVED' }]);
    expect((await w.gql('southManager', NODE, { id: p.writeOff.id })).data.node).toBeNull();
  });
});

describe('recoveries after write-off', () => {
  it('a payment is refused (pointing to recordRecovery); a recovery is recorded once, up to what was written off, and earns no commission', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent', daysPastDue: 40 });
    await gqlOk('admin', `mutation($input: SetCommissionScheduleInput!) { setCommissionSchedule(input: $input) { ${ERR} } }`, { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', effectiveFrom: '2026-04-01', rates: [], defaultRateBps: 1000 });
    // Paid before the write-off: a payment of the agency's era, commissioned.
    await gqlOk('supervisor', PAY, { caseId: c.gid, amount: 5_000, currency: 'CNY', receivedAt: w.t.clock.now().toISOString(), channel: 'CASH', idempotencyKey: 'before-wo-pay-1' });
    const p = await gqlOk('supervisor', PROPOSE, { caseId: c.gid, reason: 'UNCOLLECTIBLE', note: 'no assets' });
    expect(p.writeOff.total.minorUnits).toBe(1_012_345);
    await gqlOk('admin', APPROVE, { writeOffId: p.writeOff.id });
    const now = w.t.clock.now().toISOString();
    const pay = await w.gql('supervisor', PAY, { input: { caseId: c.gid, amount: 10_000, currency: 'CNY', receivedAt: now, channel: 'BANK_TRANSFER', idempotencyKey: 'after-wo-pay-1' } });
    refusedWith(pay.data.recordPayment, 'CASE_ENDED');
    expect(pay.data.recordPayment.userErrors[0].message).toContain('recordRecovery');
    const input = { caseId: c.gid, amount: 10_000, currency: 'CNY', receivedAt: now, channel: 'BANK_TRANSFER', idempotencyKey: 'recovery-0001' };
    await forbidden('northManager', RECOVER, input);
    await refused('supervisor', RECOVER, { ...input, amount: 1_012_346, idempotencyKey: 'recovery-big' }, 'VALIDATION', ['amount']);
    await refused('supervisor', RECOVER, { ...input, receivedAt: '2026-03-01T00:00:00Z', idempotencyKey: 'recovery-early' }, 'VALIDATION', ['receivedAt']);
    const r = await gqlOk('supervisor', RECOVER, input);
    expect(r.writeOff.recovered.minorUnits).toBe(10_000);
    expect(r.case).toMatchObject({ stage: 'CLOSED', status: 'WRITTEN_OFF', overdue: { minorUnits: 0 } });
    const again = await gqlOk('supervisor', RECOVER, input);
    expect(again.recovery.id).toBe(r.recovery.id);
    await refused('supervisor', RECOVER, { ...input, amount: 9_999 }, 'DUPLICATE');
    expect(await w.t.prisma.recovery.count({ where: { caseId: c.id } })).toBe(1);
    expect(await w.t.prisma.payment.count({ where: { caseId: c.id } })).toBe(1);
    await expect(w.t.prisma.recovery.update({ where: { id: Buffer.from(r.recovery.id, 'base64').toString().split(':')[1]! }, data: { amount: 1n } })).rejects.toThrow();
    // Commission counts payments only: the recovery is in no statement.
    const preview = await w.gql('admin', `query($a: ID!) { commissionStatementPreview(agencyId: $a, currency: CNY, period: "2026-04") { collected { minorUnits } fee { minorUnits } lineCount } }`, { a: gid('Agency', w.s.north.id) });
    const { computeStatement } = await import('../../src/modules/commission/service.ts');
    const month = await computeStatement(w.t.prisma, w.s.north.id, 'CNY', '2026-04');
    expect(month.lines.filter((l) => l.caseId === c.id).map((l) => [l.kind, l.basisAmount, l.fee])).toEqual([['COLLECTION', 5_000n, 500n]]);
    expect(preview.data.commissionStatementPreview.lineCount).toBe(month.lines.length);
    // A case not written off takes payments, not recoveries.
    const open = await w.newCase({ collector: 'collector' });
    await refused('supervisor', RECOVER, { ...input, caseId: open.gid, idempotencyKey: 'recovery-open' }, 'INVALID_TRANSITION', ['caseId']);
  });
});
