/**
 * Issue 13, point 3: disputes, over HTTP and through the SDK. An open dispute holds the case (no
 * contact, no visit) until the bank resolves it; documents are evidence of the dispute; an
 * ADJUSTED outcome reduces the debt (fees, then interest, then principal), audited with the
 * amounts before and after; a US debtor's written dispute cannot be resolved (collection stays
 * stopped) until the bank records its verification (Regulation F).
 * Amounts: principal 1 000 000, interest 12 345, fees 5 000: overdue 1 017 345.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { files } from '../evidence/files.ts';
import { createCareWorld, gid, refusedWith, type CareWorld } from './support.ts';

let w: CareWorld;
beforeAll(async () => {
  w = await createCareWorld();
});
afterAll(async () => w?.close());

const ERR = 'userErrors { code field message }';
const FIELDS = 'id status reason description amountDisputed { minorUnits } inWriting verificationRequired verifiedAt outcome adjustment { minorUnits } resolutionNote hold { id active } documents(first: 10) { totalCount nodes { id kind } }';
const OPEN = `mutation($input: OpenDisputeInput!) { openDispute(input: $input) { dispute { ${FIELDS} } case { id version onHold } ${ERR} } }`;
const RESOLVE = `mutation($input: ResolveDisputeInput!) { resolveDispute(input: $input) { dispute { ${FIELDS} } case { id onHold principal { minorUnits } interest { minorUnits } fees { minorUnits } overdue { minorUnits } } ${ERR} } }`;
const UPLOAD = `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id kind dispute { id } } ${ERR} } }`;
const PERMISSION = `query($caseId: ID!, $cp: ID!) { contactPermission(caseId: $caseId, channel: CALL, contactPointId: $cp) { allowed rule } }`;
const RELEASE = `mutation($input: ReleaseCaseHoldInput!) { releaseCaseHold(input: $input) { ${ERR} } }`;

const open = (who: any, input: Record<string, unknown>) => w.gql(who, OPEN, { input: { reason: 'AMOUNT_WRONG', description: 'The late fee was charged twice', ...input } });
const resolve = (who: any, input: Record<string, unknown>) => w.gql(who, RESOLVE, { input: { note: 'Checked the statements', ...input } });
const permission = async (c: { gid: string; contactPointGid: string }) => (await w.gql('admin', PERMISSION, { caseId: c.gid, cp: c.contactPointGid })).data.contactPermission;
const upload = (who: any, caseGid: string, disputeId: string | null, kind: string) =>
  w.upload(who, UPLOAD, { caseId: caseGid, kind, ...(disputeId ? { disputeId } : {}), description: `${kind} of the dispute` }, files.pdf(`${kind} ${Math.random()}`), `${kind.toLowerCase()}.pdf`);

describe('an open dispute holds the case', () => {
  it('no contact, no visit, releaseCaseHold refused; one open dispute at a time; on the timeline and audited', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent', stage: 'FIELD_VISIT' });
    expect((await permission(c)).allowed).toBe(true);
    const r = await open('northAgent', { caseId: c.gid, amountDisputed: 5_000, currency: 'CNY' });
    expect(r.data.openDispute.userErrors).toEqual([]);
    const d = r.data.openDispute.dispute;
    expect(d).toMatchObject({ status: 'OPEN', amountDisputed: { minorUnits: 5_000 }, inWriting: false, verificationRequired: false, hold: { active: true } });
    expect(r.data.openDispute.case.onHold).toBe(true);
    expect(await permission(c)).toEqual({ allowed: false, rule: 'CASE_ON_HOLD' });
    const address = await w.t.prisma.address.findFirstOrThrow({ where: { debtorId: c.debtorId } });
    const visit = await w.gql('northAgent', `mutation($input: PlanVisitInput!) { planVisit(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, addressId: gid('Address', address.id), purpose: 'talk about the plan' } });
    refusedWith(visit.data.planVisit, 'ON_HOLD');
    refusedWith((await w.gql('supervisor', RELEASE, { input: { caseId: c.gid, note: 'lift it' } })).data.releaseCaseHold, 'INVALID_TRANSITION');
    expect((await w.gql('supervisor', RELEASE, { input: { caseId: c.gid } })).data.releaseCaseHold.userErrors[0].message).toContain('resolveDispute');
    refusedWith((await open('northAgent', { caseId: c.gid })).data.openDispute, 'INVALID_TRANSITION', ['caseId']);
    const timeline = (await w.gql('northAgent', `query($id: ID!) { case(id: $id) { timeline(first: 10) { nodes { type } } } }`, { id: c.gid })).data.case.timeline.nodes.map((e: any) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['DISPUTE_OPENED', 'HOLD_PLACED']));
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.id, action: 'dispute.open' } });
    expect(audit.data).toMatchObject({ reason: 'AMOUNT_WRONG', amountDisputed: '5000', adoptedHold: false, verificationRequired: false });
  });

  it('a contact whose outcome was DISPUTE placed a hold: the dispute takes it over instead of adding one', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const logged = await w.gql('northAgent', `mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input) { ${ERR} } }`, {
      input: { caseId: c.gid, contactPointId: c.contactPointGid, channel: 'CALL', outcome: 'DISPUTE', notes: 'says it is not his card' },
    });
    expect(logged.data.logContactAttempt.userErrors).toEqual([]);
    const hold = await w.t.prisma.hold.findFirstOrThrow({ where: { caseId: c.id, releasedAt: null } });
    const r = await open('northAgent', { caseId: c.gid, reason: 'NOT_MY_DEBT', description: 'Not my card' });
    expect(r.data.openDispute.dispute.hold.id).toBe(gid('Hold', hold.id));
    expect(await w.t.prisma.hold.count({ where: { caseId: c.id, releasedAt: null } })).toBe(1);
  });

  it('refuses: no description, an amount above the debt or not positive, another currency, another agency, the auditor; nothing written', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    refusedWith((await open('northAgent', { caseId: c.gid, description: '' })).data.openDispute, 'VALIDATION', ['description']);
    refusedWith((await open('northAgent', { caseId: c.gid, amountDisputed: 1_017_346 })).data.openDispute, 'VALIDATION', ['amountDisputed']);
    refusedWith((await open('northAgent', { caseId: c.gid, amountDisputed: 0 })).data.openDispute, 'VALIDATION', ['amountDisputed']);
    refusedWith((await open('northAgent', { caseId: c.gid, currency: 'USD' })).data.openDispute, 'VALIDATION', ['currency']);
    refusedWith((await open('southManager', { caseId: c.gid })).data.openDispute, 'NOT_FOUND', ['caseId']);
    expect((await open('auditor', { caseId: c.gid })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await w.t.prisma.dispute.count({ where: { caseId: c.id } })).toBe(0);
    expect(await w.t.prisma.hold.count({ where: { caseId: c.id } })).toBe(0);
    // The whole debt may be disputed.
    expect((await open('northAgent', { caseId: c.gid, amountDisputed: 1_017_345 })).data.openDispute.userErrors).toEqual([]);
  });
});

describe('documents and resolution', () => {
  it('documents are evidence of the dispute; ADJUSTED takes the amount off fees, then interest; the hold is released; audited before and after', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const d = (await open('northAgent', { caseId: c.gid, amountDisputed: 8_000 })).data.openDispute.dispute;
    const doc = await upload('northAgent', c.gid, d.id, 'DISPUTE_DOCUMENT');
    expect(doc.data.uploadEvidence.userErrors).toEqual([]);
    expect(doc.data.uploadEvidence.evidence.dispute.id).toBe(d.id);
    refusedWith((await upload('northAgent', c.gid, d.id, 'DEBT_VERIFICATION')).data.uploadEvidence, 'FORBIDDEN_ACTION', ['kind']);
    refusedWith((await upload('northAgent', c.gid, null, 'DISPUTE_DOCUMENT')).data.uploadEvidence, 'VALIDATION', ['disputeId']);
    refusedWith((await upload('northAgent', c.gid, d.id, 'NOTE')).data.uploadEvidence, 'VALIDATION', ['kind']);
    const otherCase = await w.newCase({ agency: 'north', collector: 'northAgent' });
    refusedWith((await upload('northAgent', otherCase.gid, d.id, 'DISPUTE_DOCUMENT')).data.uploadEvidence, 'NOT_FOUND', ['disputeId']);

    for (const who of ['northManager', 'collector', 'auditor'] as const) {
      expect((await resolve(who, { disputeId: d.id, outcome: 'VERIFIED' })).errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
    }
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'ADJUSTED' })).data.resolveDispute, 'VALIDATION', ['adjustment']);
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'VERIFIED', adjustment: 100 })).data.resolveDispute, 'VALIDATION', ['adjustment']);
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'ADJUSTED', adjustment: 8_001 })).data.resolveDispute, 'VALIDATION', ['adjustment']);
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'ADJUSTED', adjustment: 6_000, note: ' ' })).data.resolveDispute, 'VALIDATION', ['note']);
    const r = await resolve('supervisor', { disputeId: d.id, outcome: 'ADJUSTED', adjustment: 6_000, note: 'The late fee was charged twice: 5 000 fees and 1 000 interest on it refunded' });
    expect(r.data.resolveDispute.userErrors).toEqual([]);
    expect(r.data.resolveDispute.case).toMatchObject({ onHold: false, fees: { minorUnits: 0 }, interest: { minorUnits: 11_345 }, principal: { minorUnits: 1_000_000 }, overdue: { minorUnits: 1_011_345 } });
    expect(r.data.resolveDispute.dispute).toMatchObject({ status: 'RESOLVED', outcome: 'ADJUSTED', adjustment: { minorUnits: 6_000 }, hold: { active: false }, documents: { totalCount: 1 } });
    expect((await permission(c)).allowed).toBe(true);
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'VERIFIED' })).data.resolveDispute, 'INVALID_TRANSITION');
    refusedWith((await upload('northAgent', c.gid, d.id, 'DISPUTE_DOCUMENT')).data.uploadEvidence, 'INVALID_TRANSITION', ['disputeId']);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.id, action: 'dispute.resolve' } });
    expect(audit.data).toMatchObject({ outcome: 'ADJUSTED', adjustment: '6000', before: { fees: '5000', interest: '12345', overdue: '1017345' }, after: { fees: '0', interest: '11345', overdue: '1011345' } });
  });

  it('an adjustment leaves something owed; VERIFIED and WITHDRAWN leave the amounts alone', async () => {
    const c = await w.newCase({ collector: 'collector' });
    const d = (await open('collector', { caseId: c.gid })).data.openDispute.dispute;
    refusedWith((await resolve('admin', { disputeId: d.id, outcome: 'ADJUSTED', adjustment: 1_017_345 })).data.resolveDispute, 'VALIDATION', ['adjustment']);
    const r = await resolve('admin', { disputeId: d.id, outcome: 'WITHDRAWN', note: 'The debtor found the payment was his' });
    expect(r.data.resolveDispute.case.overdue.minorUnits).toBe(1_017_345);
  });
});

describe('US: a written dispute stops collection until verification (Regulation F)', () => {
  async function usCase() {
    const c = await w.newCase({ collector: 'collector', currency: 'USD' });
    await w.t.prisma.debtor.update({ where: { id: c.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York', language: 'EN' } });
    return c;
  }

  it('cannot be resolved VERIFIED or ADJUSTED before the bank records its verification; then it can', async () => {
    const c = await usCase();
    const d = (await open('collector', { caseId: c.gid, inWriting: true, reason: 'NOT_MY_DEBT', description: 'Validation dispute letter received 2026-11-26' })).data.openDispute.dispute;
    expect(d).toMatchObject({ inWriting: true, verificationRequired: true, verifiedAt: null });
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'VERIFIED' })).data.resolveDispute, 'VERIFICATION_REQUIRED', ['disputeId']);
    refusedWith((await resolve('supervisor', { disputeId: d.id, outcome: 'ADJUSTED', adjustment: 100 })).data.resolveDispute, 'VERIFICATION_REQUIRED', ['disputeId']);
    expect((await w.t.prisma.hold.findFirstOrThrow({ where: { caseId: c.id } })).releasedAt).toBeNull();
    // The collector cannot verify; the supervisor records the verification sent to the debtor.
    refusedWith((await upload('collector', c.gid, d.id, 'DEBT_VERIFICATION')).data.uploadEvidence, 'FORBIDDEN_ACTION', ['kind']);
    const v = await upload('supervisor', c.gid, d.id, 'DEBT_VERIFICATION');
    expect(v.data.uploadEvidence.userErrors).toEqual([]);
    const ok = await resolve('supervisor', { disputeId: d.id, outcome: 'VERIFIED', note: 'Statements and the signed application sent to the debtor' });
    expect(ok.data.resolveDispute.userErrors).toEqual([]);
    expect(ok.data.resolveDispute.dispute.verifiedAt).not.toBeNull();
    expect(ok.data.resolveDispute.case.onHold).toBe(false);
    const timeline = (await w.gql('supervisor', `query($id: ID!) { case(id: $id) { timeline(first: 20) { nodes { type } } } }`, { id: c.gid })).data.case.timeline.nodes.map((e: any) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['DISPUTE_OPENED', 'DISPUTE_VERIFIED', 'DISPUTE_RESOLVED']));
  });

  it('an oral US dispute, or a written CN one, needs no verification; a withdrawn written one is resolved without it', async () => {
    const oral = await usCase();
    const d1 = (await open('collector', { caseId: oral.gid })).data.openDispute.dispute;
    expect(d1.verificationRequired).toBe(false);
    expect((await resolve('supervisor', { disputeId: d1.id, outcome: 'VERIFIED' })).data.resolveDispute.userErrors).toEqual([]);
    const cn = await w.newCase({ collector: 'collector' });
    const d2 = (await open('collector', { caseId: cn.gid, inWriting: true })).data.openDispute.dispute;
    expect(d2.verificationRequired).toBe(false);
    const written = await usCase();
    const d3 = (await open('collector', { caseId: written.gid, inWriting: true })).data.openDispute.dispute;
    expect((await resolve('supervisor', { disputeId: d3.id, outcome: 'WITHDRAWN', note: 'Withdrawn by the debtor in writing' })).data.resolveDispute.userErrors).toEqual([]);
  });
});

describe('scope', () => {
  it('an agency sees the disputes of its own era only; a foreign dispute id is NOT_FOUND', async () => {
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const d = (await open('northAgent', { caseId: c.gid })).data.openDispute.dispute;
    expect((await w.gql('southManager', `query($id: ID!) { node(id: $id) { id } }`, { id: d.id })).data.node).toBeNull();
    expect((await w.gql('northManager', `query($id: ID!) { node(id: $id) { id } }`, { id: d.id })).data.node.id).toBe(d.id);
    let v = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    await w.gql('supervisor', `mutation($input: RecallCaseInput!) { recallCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, reason: 'DISPUTE', expectedVersion: v } });
    v = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    await w.gql('supervisor', `mutation($input: AssignCaseInput!) { assignCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, agencyId: gid('Agency', w.s.south.id), collectorId: gid('User', w.s.users.southAgent.id), expectedVersion: v } });
    const south = (await w.gql('southManager', `query($id: ID!) { case(id: $id) { onHold disputes(first: 5) { totalCount } } }`, { id: c.gid })).data.case;
    // The hold still stands for South (the case is held), but North's dispute record is not South's to read.
    expect(south).toEqual({ onHold: true, disputes: { totalCount: 0 } });
    expect((await w.gql('northManager', `query($id: ID!) { node(id: $id) { id } }`, { id: d.id })).data.node).toBeNull();
    refusedWith((await upload('southAgent', c.gid, d.id, 'DISPUTE_DOCUMENT')).data.uploadEvidence, 'NOT_FOUND', ['disputeId']);
  });
});

describe('through the SDK', () => {
  it('opens a dispute, attaches nothing, resolves it ADJUSTED', async () => {
    const c = await w.newCase({ agency: 'south', collector: 'southAgent' });
    const opened = await w.sdk('southAgent').openDispute({ input: { caseId: c.gid, reason: 'ALREADY_PAID', description: 'Paid at the branch on 2026-11-01', amountDisputed: 2_000 } }, { throwOnUserErrors: true });
    expect(opened.openDispute.case?.onHold).toBe(true);
    const resolved = await w.sdk('supervisor').resolveDispute({ input: { disputeId: opened.openDispute.dispute!.id, outcome: 'ADJUSTED', adjustment: 2_000, note: 'Branch receipt found' } }, { throwOnUserErrors: true });
    expect(resolved.resolveDispute.case?.overdue.minorUnits).toBe(1_015_345);
    const care = (await w.sdk('southManager').caseCare({ id: c.gid })).case!;
    expect(care.disputes.nodes.map((d) => [d.status, d.outcome, d.adjustment.minorUnits])).toEqual([['RESOLVED', 'ADJUSTED', 2_000]]);
  });
});

describe('records of care are kept', () => {
  it('the database refuses to delete or truncate opt-outs, complaints, disputes, and to change a debtor’s reply', async () => {
    const c = await w.newCase({ collector: 'collector' });
    const d = (await open('collector', { caseId: c.gid })).data.openDispute.dispute;
    await w.t.prisma.inboundMessage.create({ data: { providerMessageId: `kept-${c.id}`, channel: 'SMS', fromAddress: c.phone, body: 'TD', receivedAt: w.t.clock.now(), createdAt: w.t.clock.now() } });
    const rawId = Buffer.from(d.id, 'base64').toString('utf8').split(':')[1]!;
    await expect(w.t.prisma.dispute.delete({ where: { id: rawId } })).rejects.toThrow(/append-only/);
    await expect(w.t.prisma.inboundMessage.updateMany({ where: { providerMessageId: `kept-${c.id}` }, data: { body: 'hello' } })).rejects.toThrow(/append-only/);
    for (const table of ['InboundMessage', 'ContactOptOut', 'Complaint', 'Dispute']) {
      await expect(w.t.prisma.$executeRawUnsafe(`TRUNCATE "${table}" CASCADE`), table).rejects.toThrow(/refused/);
    }
  });
});
