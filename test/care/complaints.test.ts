/**
 * Issue 13, point 2: complaints, over HTTP and through the SDK. Deadlines come from the contact
 * policy of the debtor's jurisdiction (CN: answer in 15 days, close in 30; US: 15 and 60);
 * OPEN → INVESTIGATING → UPHELD / NOT_UPHELD, the bank deciding; overdue complaints escalate
 * (the complaint-escalation job); an agency sees the complaints of its own era only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalateOverdueComplaints } from '../../src/modules/care/complaints.ts';
import { findJob } from '../../src/jobs/index.ts';
import { createCareWorld, gid, refusedWith, type CareWorld } from './support.ts';

let w: CareWorld;
beforeAll(async () => {
  w = await createCareWorld();
});
afterAll(async () => w?.close());

const ERR = 'userErrors { code field message }';
const FIELDS = 'id status category against channel againstAgency { name } againstCollector { fullName } description receivedAt responseDueAt resolutionDueAt respondedAt response findings escalationLevel';
const RECORD = `mutation($input: RecordComplaintInput!) { recordComplaint(input: $input) { complaint { ${FIELDS} } case { id version } ${ERR} } }`;
const INVESTIGATE = `mutation($input: StartComplaintInvestigationInput!) { startComplaintInvestigation(input: $input) { complaint { ${FIELDS} } ${ERR} } }`;
const DECIDE = `mutation($input: DecideComplaintInput!) { decideComplaint(input: $input) { complaint { ${FIELDS} } ${ERR} } }`;
const CASE_COMPLAINTS = `query($id: ID!) { case(id: $id) { complaints(first: 10) { totalCount nodes { id status escalationLevel } } timeline(first: 20) { nodes { type summary } } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id } }`;

const record = (who: any, input: Record<string, unknown>) => w.gql(who, RECORD, { input: { channel: 'PHONE', category: 'HARASSMENT', description: 'Called five times on Sunday', ...input } });
const escalate = () => escalateOverdueComplaints({ prisma: w.t.prisma, clock: w.t.clock });
const START = '2026-11-28T02:00:00.000Z';

describe('recording a complaint', () => {
  it('against the agency, a collector or the bank; CN deadlines 15 and 30 days from receipt; on the timeline and audited', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const a = await record('northManager', { caseId: c.gid, against: 'AGENCY' });
    expect(a.data.recordComplaint.userErrors).toEqual([]);
    expect(a.data.recordComplaint.complaint).toMatchObject({
      status: 'OPEN',
      against: 'AGENCY',
      againstAgency: { name: 'North Recovery' },
      againstCollector: null,
      receivedAt: '2026-11-28T02:00:00.000Z',
      responseDueAt: '2026-12-13T02:00:00.000Z',
      resolutionDueAt: '2026-12-28T02:00:00.000Z',
    });
    const b = await record('supervisor', { caseId: c.gid, against: 'COLLECTOR', category: 'VISIT_CONDUCT', channel: 'LETTER', receivedAt: '2026-11-20T02:00:00.000Z' });
    expect(b.data.recordComplaint.complaint).toMatchObject({ againstCollector: { fullName: 'North Agent' }, againstAgency: { name: 'North Recovery' }, responseDueAt: '2026-12-05T02:00:00.000Z' });
    const bank = await record('northAgent', { caseId: c.gid, against: 'BANK', category: 'AMOUNT' });
    expect(bank.data.recordComplaint.complaint).toMatchObject({ against: 'BANK', againstAgency: null, againstCollector: null });
    const read = (await w.gql('northAgent', CASE_COMPLAINTS, { id: c.gid })).data.case;
    expect(read.complaints.totalCount).toBe(3);
    expect(read.timeline.nodes.filter((e: any) => e.type === 'COMPLAINT_RECORDED')).toHaveLength(3);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.id, action: 'complaint.record', actorId: w.s.users.northManager.id } });
    expect(audit.data).toMatchObject({ category: 'HARASSMENT', against: 'AGENCY', againstAgencyId: w.s.north.id, responseDueAt: '2026-12-13T02:00:00.000Z' });
  });

  it('a US debtor’s complaint closes within 60 days; the figures are the policy’s, and an admin changes them (audited)', async () => {
    await w.setClock(START);
    const us = await w.newCase({ collector: 'collector' });
    await w.t.prisma.debtor.update({ where: { id: us.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York' } });
    const r = await record('collector', { caseId: us.gid, against: 'BANK', category: 'PRIVACY' });
    expect(r.data.recordComplaint.complaint).toMatchObject({ responseDueAt: '2026-12-13T02:00:00.000Z', resolutionDueAt: '2027-01-27T02:00:00.000Z' });
    const UPDATE = `mutation($input: UpdateContactPolicyInput!) { updateContactPolicy(input: $input) { contactPolicy { complaintResponseDays complaintResolutionDays } ${ERR} } }`;
    refusedWith((await w.gql('admin', UPDATE, { input: { jurisdiction: 'CN', reason: 'tighter complaint handling', complaintResponseDays: 40 } })).data.updateContactPolicy, 'VALIDATION', ['complaintResolutionDays']);
    const upd = await w.gql('admin', UPDATE, { input: { jurisdiction: 'CN', reason: 'tighter complaint handling', complaintResponseDays: 10 } });
    expect(upd.data.updateContactPolicy.contactPolicy).toEqual({ complaintResponseDays: 10, complaintResolutionDays: 30 });
    const cn = await w.newCase({ collector: 'collector' });
    expect((await record('collector', { caseId: cn.gid, against: 'BANK' })).data.recordComplaint.complaint.responseDueAt).toBe('2026-12-08T02:00:00.000Z');
    await w.gql('admin', UPDATE, { input: { jurisdiction: 'CN', reason: 'back to the 15-day rule', complaintResponseDays: 15 } });
    const policy = (await w.gql('auditor', `{ contactPolicy(jurisdiction: US) { complaintResponseDays complaintResolutionDays } }`)).data.contactPolicy;
    expect(policy).toEqual({ complaintResponseDays: 15, complaintResolutionDays: 60 });
  });

  it('refuses: no description, a future or too old receipt, AGENCY on a bank-held case, another agency’s case or collector, the auditor', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const bankHeld = await w.newCase({ collector: 'collector' });
    refusedWith((await record('northAgent', { caseId: c.gid, against: 'BANK', description: ' ' })).data.recordComplaint, 'VALIDATION', ['description']);
    refusedWith((await record('northAgent', { caseId: c.gid, against: 'BANK', receivedAt: '2026-11-29T02:00:00.000Z' })).data.recordComplaint, 'VALIDATION', ['receivedAt']);
    refusedWith((await record('northAgent', { caseId: c.gid, against: 'BANK', receivedAt: '2026-08-01T02:00:00.000Z' })).data.recordComplaint, 'VALIDATION', ['receivedAt']);
    refusedWith((await record('collector', { caseId: bankHeld.gid, against: 'AGENCY' })).data.recordComplaint, 'VALIDATION', ['against']);
    refusedWith((await record('southManager', { caseId: c.gid, against: 'BANK' })).data.recordComplaint, 'NOT_FOUND', ['caseId']);
    refusedWith((await record('northManager', { caseId: c.gid, against: 'COLLECTOR', collectorId: gid('User', w.s.users.southAgent.id) })).data.recordComplaint, 'NOT_FOUND', ['collectorId']);
    refusedWith((await record('collector', { caseId: bankHeld.gid, against: 'BANK', collectorId: gid('User', w.s.users.collector.id) })).data.recordComplaint, 'VALIDATION', ['collectorId']);
    expect((await record('auditor', { caseId: c.gid, against: 'BANK' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A description of up to 4000 characters (a letter transcribed); longer is refused.
    refusedWith((await record('northAgent', { caseId: c.gid, against: 'BANK', description: '投'.repeat(4001) })).data.recordComplaint, 'VALIDATION', ['description']);
    expect(await w.t.prisma.complaint.count({ where: { caseId: { in: [c.id, bankHeld.id] } } })).toBe(0);
    expect((await record('northAgent', { caseId: c.gid, against: 'BANK', description: '投'.repeat(4000) })).data.recordComplaint.userErrors).toEqual([]);
  });
});

describe('handling', () => {
  it('OPEN → INVESTIGATING → UPHELD by the bank only, each step once; the upheld complaint counts on the agency’s scorecard', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const id = (await record('northAgent', { caseId: c.gid, against: 'COLLECTOR' })).data.recordComplaint.complaint.id;
    const score = async () => (await w.gql('northManager', `query($id: ID!) { node(id: $id) { ... on Agency { upheldComplaints } } }`, { id: gid('Agency', w.s.north.id) })).data.node.upheldComplaints;
    const before = await score();
    for (const who of ['northManager', 'collector', 'auditor'] as const) {
      expect((await w.gql(who, INVESTIGATE, { input: { complaintId: id, response: 'x' } })).errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
    }
    refusedWith((await w.gql('supervisor', DECIDE, { input: { complaintId: id, upheld: true, findings: 'too early' } })).data.decideComplaint, 'INVALID_TRANSITION');
    refusedWith((await w.gql('supervisor', INVESTIGATE, { input: { complaintId: id, response: '' } })).data.startComplaintInvestigation, 'VALIDATION', ['response']);
    const inv = await w.gql('supervisor', INVESTIGATE, { input: { complaintId: id, response: 'We are looking into the calls of 22 November.' } });
    expect(inv.data.startComplaintInvestigation.complaint).toMatchObject({ status: 'INVESTIGATING', respondedAt: START, response: 'We are looking into the calls of 22 November.' });
    refusedWith((await w.gql('supervisor', INVESTIGATE, { input: { complaintId: id, response: 'again' } })).data.startComplaintInvestigation, 'INVALID_TRANSITION');
    const dec = await w.gql('admin', DECIDE, { input: { complaintId: id, upheld: true, findings: 'Five calls on a Sunday: over the daily cap. Collector retrained.' } });
    expect(dec.data.decideComplaint.complaint).toMatchObject({ status: 'UPHELD', findings: 'Five calls on a Sunday: over the daily cap. Collector retrained.' });
    refusedWith((await w.gql('admin', DECIDE, { input: { complaintId: id, upheld: false, findings: 'changed my mind' } })).data.decideComplaint, 'INVALID_TRANSITION');
    expect(await score()).toBe(before + 1);
    const audits = await w.t.prisma.auditEvent.findMany({ where: { caseId: c.id, action: { startsWith: 'complaint.' } }, orderBy: { id: 'asc' } });
    expect(audits.map((a) => a.action)).toEqual(['complaint.record', 'complaint.investigate', 'complaint.decide']);
    expect(audits[2]!.data).toMatchObject({ before: { status: 'INVESTIGATING' }, after: { status: 'UPHELD' } });
    // NOT_UPHELD does not count.
    const other = (await record('northAgent', { caseId: c.gid, against: 'AGENCY' })).data.recordComplaint.complaint.id;
    await w.gql('supervisor', INVESTIGATE, { input: { complaintId: other, response: 'Looking into it.' } });
    expect((await w.gql('supervisor', DECIDE, { input: { complaintId: other, upheld: false, findings: 'Calls within the rules.' } })).data.decideComplaint.complaint.status).toBe('NOT_UPHELD');
    expect(await score()).toBe(before + 1);
  });

  it('an agency sees the complaints of its own era only; a foreign complaint id is NOT_FOUND, never a hint', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const id = (await record('northAgent', { caseId: c.gid, against: 'AGENCY' })).data.recordComplaint.complaint.id;
    expect((await w.gql('southManager', NODE, { id })).data.node).toBeNull();
    refusedWith((await w.gql('supervisor', INVESTIGATE, { input: { complaintId: gid('Complaint', '00000000-0000-4000-8000-000000000000'), response: 'x' } })).data.startComplaintInvestigation, 'NOT_FOUND', ['complaintId']);
    // Recalled from North, placed with South: South does not see North's complaint; North no longer sees the case.
    let v = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    await w.gql('supervisor', `mutation($input: RecallCaseInput!) { recallCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, reason: 'COMPLAINT', expectedVersion: v } });
    v = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    await w.gql('supervisor', `mutation($input: AssignCaseInput!) { assignCase(input: $input) { ${ERR} } }`, { input: { caseId: c.gid, agencyId: gid('Agency', w.s.south.id), collectorId: gid('User', w.s.users.southAgent.id), expectedVersion: v } });
    const south = (await w.gql('southManager', CASE_COMPLAINTS, { id: c.gid })).data.case;
    expect(south.complaints).toEqual({ totalCount: 0, nodes: [] });
    expect((await w.gql('southManager', NODE, { id })).data.node).toBeNull();
    expect((await w.gql('northManager', NODE, { id })).data.node).toBeNull();
    expect((await w.gql('supervisor', CASE_COMPLAINTS, { id: c.gid })).data.case.complaints.totalCount).toBe(1);
    // A complaint South records now is South's.
    const s2 = (await record('southAgent', { caseId: c.gid, against: 'BANK' })).data.recordComplaint.complaint.id;
    expect((await w.gql('southManager', NODE, { id: s2 })).data.node.id).toBe(s2);
  });
});

describe('escalation (the complaint-escalation job)', () => {
  it('a complaint not answered in 15 days escalates to 1, not closed in 30 to 2; answered or decided ones do not; re-runs change nothing', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const late = (await record('northAgent', { caseId: c.gid, against: 'AGENCY' })).data.recordComplaint.complaint.id;
    const answered = (await record('northAgent', { caseId: c.gid, against: 'BANK' })).data.recordComplaint.complaint.id;
    const decided = (await record('northAgent', { caseId: c.gid, against: 'BANK', category: 'OTHER' })).data.recordComplaint.complaint.id;
    await w.gql('supervisor', INVESTIGATE, { input: { complaintId: answered, response: 'Looking into it.' } });
    await w.gql('supervisor', INVESTIGATE, { input: { complaintId: decided, response: 'Looking into it.' } });
    await w.gql('supervisor', DECIDE, { input: { complaintId: decided, upheld: false, findings: 'No fault.' } });
    const level = async (id: string) => (await w.gql('supervisor', `query($id: ID!) { node(id: $id) { ... on Complaint { escalationLevel } } }`, { id })).data.node.escalationLevel;

    const audits = () => w.t.prisma.auditEvent.count({ where: { caseId: c.id, action: 'complaint.escalate' } });
    // Other tests' complaints share this store: the figures below are this case's.
    // One second before the response deadline: nothing.
    await w.setClock('2026-12-13T01:59:59.000Z');
    expect((await escalate()).failed).toBe(0);
    expect([await level(late), await level(answered), await level(decided)]).toEqual([0, 0, 0]);
    await w.setClock('2026-12-13T02:00:00.000Z');
    expect((await escalate()).failed).toBe(0);
    expect([await level(late), await level(answered), await level(decided)]).toEqual([1, 0, 0]);
    expect(await audits()).toBe(1);
    expect(await escalate()).toEqual({ escalated: 0, failed: 0 });
    expect(await audits()).toBe(1);
    // The resolution deadline: both open ones go to 2; the decided one never escalates.
    await w.setClock('2026-12-28T02:00:00.000Z');
    const job = findJob('complaint-escalation');
    expect(job?.everyMs).toBe(3_600_000);
    expect((await escalate()).failed).toBe(0);
    expect([await level(late), await level(answered), await level(decided)]).toEqual([2, 2, 0]);
    expect(await escalate()).toEqual({ escalated: 0, failed: 0 });
    const timeline = (await w.gql('northManager', CASE_COMPLAINTS, { id: c.gid })).data.case.timeline.nodes.filter((e: any) => e.type === 'COMPLAINT_ESCALATED');
    expect(timeline).toHaveLength(3);
    expect(await w.t.prisma.auditEvent.count({ where: { caseId: c.id, action: 'complaint.escalate' } })).toBe(3);
  });
});

describe('through the SDK', () => {
  it('records, investigates and decides a complaint; caseCare lists it', async () => {
    await w.setClock(START);
    const c = await w.newCase({ agency: 'south', collector: 'southAgent' });
    const agent = w.sdk('southAgent');
    const rec = await agent.recordComplaint({ input: { caseId: c.gid, channel: 'EMAIL', category: 'THIRD_PARTY_DISCLOSURE', against: 'COLLECTOR', description: 'Told my neighbour about the debt' } }, { throwOnUserErrors: true });
    const id = rec.recordComplaint.complaint!.id;
    expect(rec.recordComplaint.complaint?.againstCollector?.fullName).toBe('South Agent');
    const supervisor = w.sdk('supervisor');
    await supervisor.startComplaintInvestigation({ input: { complaintId: id, response: 'Received; we are investigating.' } }, { throwOnUserErrors: true });
    const dec = await supervisor.decideComplaint({ input: { complaintId: id, upheld: true, findings: 'Disclosure confirmed.' } }, { throwOnUserErrors: true });
    expect(dec.decideComplaint.complaint?.status).toBe('UPHELD');
    const care = (await agent.caseCare({ id: c.gid })).case!;
    expect(care.complaints.nodes.map((x) => [x.category, x.status])).toEqual([['THIRD_PARTY_DISCLOSURE', 'UPHELD']]);
    expect((await w.sdk('northManager').caseCare({ id: c.gid })).case).toBeNull();
  });
});
