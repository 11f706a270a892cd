/**
 * Home visits end to end (issue 5; DOMAIN.md "Home visits", source 上门的具体操作步骤): a North
 * agency pair walks all five steps over HTTP — the consent call, the dossier, the preparation,
 * the check-in, the evidence (real multipart uploads), the outcome, the report — and the bank
 * decides (a grace period; in a second visit, legal). A signed download of the promise letter is
 * fetched through the app. Every step is one timeline event and one audit entry. Finally the
 * agency loses the case: its visits and evidence are gone from every path at once, the signed
 * link included.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_FROM, CONSENT_TO, M, TOMORROW_10, TOMORROW_12, createVisitWorld, files, gid, rawId, steps, type FieldCase, type VisitWorld } from './support.ts';

let w: VisitWorld;
let st: ReturnType<typeof steps>;
let c: FieldCase;
let bankCase: FieldCase;
let nationalId: string;
let emailValue: string;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const letterBytes = files.pdf('承诺于2026年12月31日前还款 / I promise to repay by 31 Dec 2026');
const audioBytes = files.wav();

// The walk's records, filled in as it goes.
let attemptId: string;
let visitId: string;
let letterId: string;
let audioId: string;
let secondVisitId: string;

const CASE_VIEW = `query($id: ID!) { node(id: $id) { ... on Case {
  id stage onHold version
  visits(first: 10) { totalCount nodes { id status } }
  evidence(first: 10) { totalCount nodes { id } }
  holds(first: 10) { nodes { reason active endsAt } }
  timeline(first: 100) { nodes { type summary actorLabel data occurredAt } }
} } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Visit { status } ... on Evidence { kind downloadUrl } ... on VisitConsent { withdrawnAt } } }`;

beforeAll(async () => {
  w = await createVisitWorld();
  st = steps(w);
  nationalId = '110101198003071234';
  c = await w.northCase({ nationalId, debtorName: '王小明' });
  // The debtor also has an e-mail, a work phone they asked not to be called on, an emergency
  // contact (a third party, never told of the debt) and a work address.
  emailValue = 'wang.xiaoming@example.cn';
  const p = w.e.t.prisma;
  await p.contactPoint.createMany({
    data: [
      { debtorId: c.row.debtorId, kind: 'EMAIL', value: emailValue },
      { debtorId: c.row.debtorId, kind: 'WORK_PHONE', value: '01088889999', doNotContact: true },
      { debtorId: c.row.debtorId, kind: 'MOBILE', value: '13900001111', party: 'THIRD_PARTY', relation: 'brother' },
    ],
  });
  await p.address.create({ data: { debtorId: c.row.debtorId, kind: 'WORK', line1: '1 Office Park', city: 'Beijing', region: 'Beijing' } });
  // One SMS template, to show that a reminder is refused during the grace period.
  await p.messageTemplate.create({ data: { key: 'visit-test-notice', channel: 'SMS', language: 'ZH_CN', body: '您的信用卡已逾期, 请尽快还款。' } });
  bankCase = await w.northCase({ agencyId: null, collectorId: w.s.users.collector.id });
  await p.contactPoint.create({ data: { debtorId: bankCase.row.debtorId, kind: 'EMAIL', value: 'bank.debtor@example.cn' } });
});
afterAll(async () => w?.close());

describe('a home visit, all five steps over HTTP, by a North agency pair', () => {
  it('0. a call obtains the debtor’s consent to a visit (logContactAttempt VISIT_CONSENT_GIVEN)', async () => {
    const p = await w.mutate('northAgent', M.call, { caseId: c.id, contactPointId: c.mobileId, channel: 'CALL', outcome: 'VISIT_CONSENT_GIVEN', notes: '同意上门' });
    expect(p.userErrors).toEqual([]);
    expect(p.policyViolation).toBeNull();
    expect(p.contactAttempt).toMatchObject({ outcome: 'VISIT_CONSENT_GIVEN', status: 'COMPLETED', violation: false });
    attemptId = p.contactAttempt.id;
  });

  it('1. planVisit compiles the dossier from the case; an agency’s holds only what the visit needs', async () => {
    const p = await w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: '核实逾期原因, 商谈还款方案' });
    expect(p.userErrors).toEqual([]);
    const v = p.visit;
    visitId = v.id;
    expect(v).toMatchObject({ status: 'PREPARING', version: 1, purpose: '核实逾期原因, 商谈还款方案', address: { id: c.homeId, kind: 'HOME' }, consent: null, participants: [], windowStart: null });
    expect(p.case.version).toBe(c.row.version + 2); // the call, then the plan

    const d = v.dossier;
    const row = c.row;
    expect(d.caseNumber).toMatch(/^C-\d{6}$/);
    expect(d.debtor).toMatchObject({ fullName: '王小明', nationalIdMasked: '1101**********1234', timeZone: 'Asia/Shanghai' });
    expect(d.form).toBe('AGENCY');
    expect(d.card).toEqual({ last4: expect.stringMatching(/^\d{4}$/), product: 'Platinum', creditLimit: null });
    expect(d.amounts).toMatchObject({ total: { minorUnits: Number(row.overdueTotal), currency: 'CNY' }, daysPastDue: 10, firstMissedDueDate: row.dueDate.toISOString().slice(0, 10) });
    expect(d.amounts.total.formatted).toContain('10,17'); // ¥10,173.46 and so on: the amount people read
    // The call that obtained consent is in the contact history summary.
    expect(d.contactHistory).toMatchObject({ totalAttempts: 1, lastOutcome: 'VISIT_CONSENT_GIVEN', byChannel: [{ channel: 'CALL', attempts: 1 }] });
    // Only the debtor's own reachable phones: no e-mail (agency), no do-not-contact number, no third party.
    expect(d.contactPoints).toEqual([{ kind: 'MOBILE', value: expect.stringMatching(/^1380000/) }]);
    expect(d.address).toMatchObject({ kind: 'HOME', city: 'Beijing', region: 'Beijing', country: 'CN' });
    // What an agency does not need: the credit limit, the principal/interest/fees split, e-mails, the full ID.
    const text = JSON.stringify(d);
    expect(d.card.creditLimit).toBeNull();
    expect(d.amounts.principal).toBeNull();
    expect(d.amounts.interest).toBeNull();
    expect(d.amounts.fees).toBeNull();
    expect(text).not.toContain(emailValue);
    expect(text).not.toContain(nationalId);
    expect(text).not.toContain('13900001111');
    expect(text).not.toContain('01088889999');

    // The bank's own dossier of a comparable case has them (the control: the agency's lacks them by design).
    const bank = await w.mutate('collector', M.plan, { caseId: bankCase.id, addressId: bankCase.homeId, purpose: 'Home visit' });
    expect(bank.userErrors).toEqual([]);
    const bd = bank.visit.dossier;
    expect(bd.form).toBe('BANK');
    expect(bd.card).toMatchObject({ creditLimit: { minorUnits: 5000000, currency: 'CNY' } });
    expect(bd.amounts).toMatchObject({ principal: { minorUnits: Number(bankCase.row.principal) }, interest: { minorUnits: 12345 }, fees: { minorUnits: 5000 } });
    expect(bd.contactPoints).toEqual(expect.arrayContaining([{ kind: 'EMAIL', value: 'bank.debtor@example.cn' }]));
    expect(JSON.stringify(bd)).not.toMatch(/\d{17}[\dX]/); // never the full ID number, not even for the bank
  });

  it('records the consent, tied to the call that obtained it, with the window it covers', async () => {
    const p = await w.mutate('northAgent', M.consent, { visitId, contactAttemptId: attemptId, windowStart: CONSENT_FROM, windowEnd: CONSENT_TO });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'PREPARING', version: 2 });
    expect(p.visit.consent).toMatchObject({ contactAttempt: { id: attemptId, outcome: 'VISIT_CONSENT_GIVEN' }, withdrawnAt: null });
    expect(new Date(p.visit.consent.windowStart).toISOString()).toBe(CONSENT_FROM);
    expect(new Date(p.visit.consent.windowEnd).toISOString()).toBe(CONSENT_TO);
  });

  it('2. scheduleVisit: two collectors with valid credentials, tomorrow 10:00–12:00 Shanghai, the materials', async () => {
    const p = await w.mutate('northAgent', M.schedule, {
      visitId,
      collectorIds: [gid('User', w.s.users.northAgent.id), gid('User', w.s.users.northAgent2.id)],
      windowStart: '2026-11-29T10:00:00+08:00',
      windowEnd: '2026-11-29T12:00:00+08:00',
      materials: ['OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT'],
    });
    expect(p.userErrors).toEqual([]);
    const v = p.visit;
    expect(v).toMatchObject({ status: 'SCHEDULED', version: 3, materials: ['OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT'] });
    expect(new Date(v.windowStart).toISOString()).toBe(TOMORROW_10);
    expect(new Date(v.windowEnd).toISOString()).toBe(TOMORROW_12);
    expect(v.participants).toHaveLength(2);
    expect(v.participants).toEqual(
      expect.arrayContaining([
        { user: { id: gid('User', w.s.users.northAgent.id) }, credentialNumber: 'WC-agent@north.example', credentialExpiresOn: '2027-12-31', credentialShownAt: null, credentialShownNumber: null },
        { user: { id: gid('User', w.s.users.northAgent2.id) }, credentialNumber: 'WC-agent2@north.example', credentialExpiresOn: '2027-12-31', credentialShownAt: null, credentialShownNumber: null },
      ]),
    );
  });

  it('3. checkInVisit on site inside the window: each credential shown is recorded and checked again', async () => {
    w.e.t.clock.set('2026-11-29T02:20:00.000Z'); // 10:20 in Shanghai
    const p = await w.mutate('northAgent', M.checkIn, {
      visitId,
      credentialsShown: [
        { userId: gid('User', w.s.users.northAgent.id), credentialNumber: 'WC-agent@north.example' },
        { userId: gid('User', w.s.users.northAgent2.id), credentialNumber: ' WC-agent2@north.example ' },
      ],
    });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'IN_PROGRESS', version: 4 });
    expect(new Date(p.visit.checkedInAt).toISOString()).toBe('2026-11-29T02:20:00.000Z');
    for (const part of p.visit.participants) {
      expect(new Date(part.credentialShownAt).toISOString()).toBe('2026-11-29T02:20:00.000Z');
      expect(part.credentialShownNumber).toBe(part.credentialNumber);
    }
  });

  it('4a. the promise letter (PDF) and the recording (audio) are uploaded as multipart evidence of the visit', async () => {
    w.e.t.clock.set('2026-11-29T02:45:00.000Z');
    const letter = await w.upload('northAgent', { caseId: c.id, visitId, kind: 'PROMISE_LETTER', description: 'Signed at the door', capturedAt: '2026-11-29T02:40:00Z' }, letterBytes, '还款承诺书.pdf', 'application/pdf');
    expect(letter.userErrors).toEqual([]);
    expect(letter.evidence).toMatchObject({ kind: 'PROMISE_LETTER', sha256: sha(letterBytes), sizeBytes: letterBytes.length, contentType: 'application/pdf', fileName: '还款承诺书.pdf', visit: { id: visitId } });
    letterId = letter.evidence.id;
    const audio = await w.upload('northAgent', { caseId: c.id, visitId, kind: 'AUDIO', description: 'Recording of the visit' }, audioBytes, 'visit.wav');
    expect(audio.userErrors).toEqual([]);
    expect(audio.evidence).toMatchObject({ kind: 'AUDIO', sha256: sha(audioBytes), contentType: 'audio/wav', visit: { id: visitId } });
    audioId = audio.evidence.id;
  });

  it('4b. completeVisit: the reason (job loss), consequences explained, instalments offered, a promise to pay', async () => {
    w.e.t.clock.set('2026-11-29T03:10:00.000Z');
    const p = await w.mutate('northAgent', M.complete, { visitId, outcome: 'PROMISE_TO_PAY', delinquencyReason: 'JOB_LOSS', consequencesExplained: true, plansOffered: ['INSTALMENTS'] });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'COMPLETED', version: 5, outcome: 'PROMISE_TO_PAY', delinquencyReason: 'JOB_LOSS', delinquencyReasonText: null, consequencesExplained: true, plansOffered: ['INSTALMENTS'] });
    expect(new Date(p.visit.completedAt).toISOString()).toBe('2026-11-29T03:10:00.000Z');
  });

  it('5a. reportVisit: the collector’s report, with the evidence of the visit', async () => {
    w.e.t.clock.set('2026-11-29T06:00:00.000Z');
    const p = await w.mutate('northAgent', M.report, { visitId, report: '债务人因失业逾期, 已解释后果, 同意分期并签署还款承诺书。' });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'REPORTED', version: 6, report: '债务人因失业逾期, 已解释后果, 同意分期并签署还款承诺书。' });
    expect(p.visit.evidence.totalCount).toBe(2);
    expect(p.visit.evidence.nodes.map((n: { id: string }) => n.id).sort()).toEqual([letterId, audioId].sort());
  });

  it('5b. decideVisit by the supervisor: a grace period until a date is a hold — no contact until then', async () => {
    const p = await w.mutate('supervisor', M.decide, { visitId, decision: 'GRACE_PERIOD', graceUntil: '2026-12-13', note: 'New job starts in December' });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'DECIDED', version: 7, decision: 'GRACE_PERIOD', graceUntil: '2026-12-13', decisionNote: 'New job starts in December' });
    expect(p.case).toMatchObject({ stage: 'FIELD_VISIT', onHold: true });
    const view = await w.as('northAgent', CASE_VIEW, { id: c.id });
    expect(view.data.node.holds.nodes).toEqual([{ reason: 'GRACE_PERIOD', active: true, endsAt: expect.any(String) }]);
    expect(view.data.node.holds.nodes[0].endsAt.slice(0, 10)).toBe('2026-12-13');

    // No contact until then: a reminder is refused, a call is recorded as a policy violation.
    const r = await w.mutate('northAgent', M.reminder, { caseId: c.id, contactPointId: c.mobileId, channel: 'SMS', templateKey: 'visit-test-notice', scheduledAt: '2026-11-30T02:00:00Z', idempotencyKey: `grace-${c.row.id}` });
    expect(r.userErrors).toEqual([expect.objectContaining({ code: 'ON_HOLD' })]);
    const call = await w.mutate('northAgent', M.call, { caseId: c.id, contactPointId: c.mobileId, channel: 'CALL', outcome: 'ANSWERED' });
    expect(call.userErrors).toEqual([]);
    expect(call.policyViolation).toEqual({ rule: 'CASE_ON_HOLD', code: 'ON_HOLD' });
    expect(call.contactAttempt.violation).toBe(true);
    // Nor a new visit while the grace period runs.
    const plan = await w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'another visit' });
    expect(plan.userErrors).toEqual([expect.objectContaining({ code: 'ON_HOLD' })]);
  });

  it('the promise letter downloads through a signed link: the same bytes, its content type', async () => {
    const r = await w.as('northAgent', NODE, { id: letterId });
    expect(r.errors).toBeUndefined();
    const url: string = r.data.node.downloadUrl;
    expect(new URL(url).pathname).toBe(`/evidence/${rawId(letterId)}`);
    const res = await w.e.download(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(letterBytes);
  });

  it('the case timeline holds one event per step, each naming the visit', async () => {
    const r = await w.as('northAgent', CASE_VIEW, { id: c.id });
    expect(r.errors).toBeUndefined();
    const events = [...r.data.node.timeline.nodes].reverse(); // oldest first
    const types = events.map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'CASE_OPENED',
      'CONTACT_ATTEMPTED', // the consent call
      'VISIT_PLANNED',
      'VISIT_CONSENT_RECORDED',
      'VISIT_SCHEDULED',
      'VISIT_CHECKED_IN',
      'EVIDENCE_UPLOADED',
      'EVIDENCE_UPLOADED',
      'VISIT_COMPLETED',
      'VISIT_REPORTED',
      'VISIT_DECIDED',
      'REMINDER_BLOCKED', // during the grace period
      'CONTACT_ATTEMPTED',
    ]);
    const raw = rawId(visitId);
    for (const e of events.filter((x: { type: string }) => x.type.startsWith('VISIT_'))) expect(e.data.visitId).toBe(raw);
    const byType = (t: string) => events.find((e: { type: string }) => e.type === t);
    expect(byType('VISIT_SCHEDULED').actorLabel).toContain('North Agent');
    expect(byType('VISIT_DECIDED').summary).toBe('Grace period until 2026-12-13');
    expect(byType('VISIT_DECIDED').actorLabel).toContain('Supervisor');
  });

  it('the audit log (auditor) holds every action of the walk, with its actor', async () => {
    const r = await w.as('auditor', `query($f: AuditEventFilter) { auditEvents(first: 100, filter: $f) { totalCount nodes { action actorId actorRole entityType data } } }`, { f: { caseId: c.id } });
    expect(r.errors).toBeUndefined();
    const nodes = [...r.data.auditEvents.nodes].reverse();
    const actions = nodes.map((n: { action: string }) => n.action);
    expect(actions.filter((a: string) => a.startsWith('visit.') || a.startsWith('evidence.'))).toEqual([
      'visit.plan',
      'visit.consent',
      'visit.schedule',
      'visit.checkIn',
      'evidence.upload',
      'evidence.upload',
      'visit.complete',
      'visit.report',
      'visit.decide',
      'evidence.download',
    ]);
    expect(actions[0]).toBe('contact.log');
    const of = (a: string) => nodes.find((n: { action: string }) => n.action === a);
    expect(of('visit.schedule')).toMatchObject({ actorId: gid('User', w.s.users.northAgent.id), actorRole: 'AGENCY_COLLECTOR', data: { visitId: rawId(visitId), from: 'PREPARING', to: 'SCHEDULED' } });
    expect(of('visit.decide')).toMatchObject({ actorId: gid('User', w.s.users.supervisor.id), actorRole: 'BANK_SUPERVISOR', data: { from: 'REPORTED', to: 'DECIDED' } });
    expect(of('visit.plan').data).toMatchObject({ visitId: rawId(visitId) });
  });

  it('after the grace period, a second visit ends in ESCALATE_TO_LEGAL: the case goes to LEGAL', async () => {
    w.e.t.clock.set('2026-12-14T02:00:00.000Z'); // the hold ended by itself
    const before = await w.as('northAgent', CASE_VIEW, { id: c.id });
    expect(before.data.node.onHold).toBe(false);
    const attempt = await st.consentCall(c);
    const v = await st.plan(c);
    secondVisitId = v.id;
    await st.consent(v.id, attempt, 'northAgent', '2026-12-15T00:00:00Z', '2026-12-15T14:00:00Z');
    await st.schedule(v.id, 'northAgent', '2026-12-15T06:00:00Z', '2026-12-15T08:00:00Z'); // 14:00–16:00 Shanghai
    w.e.t.clock.set('2026-12-15T06:05:00.000Z');
    await st.checkIn(v.id);
    await st.complete(v.id, { outcome: 'REFUSED', delinquencyReason: 'OTHER', delinquencyReasonText: 'Says the debt is not a priority', plansOffered: ['INSTALMENTS', 'DEFERRAL'] });
    const reported = await st.report(v.id);
    expect(reported.status).toBe('REPORTED'); // a refusal needs no evidence

    const p = await w.mutate('supervisor', M.decide, { visitId: v.id, decision: 'ESCALATE_TO_LEGAL', note: 'Refuses to pay' });
    expect(p.userErrors).toEqual([]);
    expect(p.visit).toMatchObject({ status: 'DECIDED', decision: 'ESCALATE_TO_LEGAL' });
    expect(p.case.stage).toBe('LEGAL');
    const row = await w.e.t.prisma.case.findUniqueOrThrow({ where: { id: c.row.id } });
    expect(row.stage).toBe('LEGAL');
    const after = await w.as('northAgent', CASE_VIEW, { id: c.id });
    expect(after.data.node.stage).toBe('LEGAL');
    expect(after.data.node.timeline.nodes[0]).toMatchObject({ type: 'VISIT_DECIDED', summary: 'Escalated to legal after the visit' });
    // No visit for a case in LEGAL.
    const plan = await w.mutate('northAgent', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'again' });
    expect(plan.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_TRANSITION' })]);
  });
});

describe('the agency loses the case (recallCase): its visits and evidence are gone at once', () => {
  it('node(id), the case’s connections, the consent and the signed link answer nothing for North; the bank still sees all', async () => {
    // Before: North sees everything, and a link it holds works.
    const link = await w.as('northAgent', NODE, { id: letterId });
    const url: string = link.data.node.downloadUrl;
    expect((await w.e.download(url)).status).toBe(200);
    const view = await w.as('northManager', CASE_VIEW, { id: c.id });
    expect(view.data.node.visits.totalCount).toBe(2);
    expect(view.data.node.evidence.totalCount).toBe(2);
    const consentIds = (await w.e.t.prisma.visitConsent.findMany({ where: { caseId: c.row.id } })).map((x) => gid('VisitConsent', x.id));
    expect(consentIds).toHaveLength(2);
    for (const who of ['northAgent', 'northManager'] as const) {
      for (const id of [visitId, secondVisitId, letterId, audioId, ...consentIds]) {
        const r = await w.as(who, NODE, { id });
        expect(r.data.node, `${who} sees ${id} before the recall`).not.toBeNull();
      }
    }

    const recall = await w.mutate('supervisor', M.recall, { caseId: c.id, reason: 'PERFORMANCE', note: 'moved to legal in-house' });
    expect(recall.userErrors).toEqual([]);
    expect(recall.case.assignedAgency).toBeNull();

    for (const who of ['northAgent', 'northAgent2', 'northManager'] as const) {
      for (const id of [c.id, visitId, secondVisitId, letterId, audioId, ...consentIds]) {
        const r = await w.as(who, NODE, { id });
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        expect(r.data.node, `${who} still sees ${id}`).toBeNull();
      }
      const list = await w.as(who, `query { cases(first: 100) { totalCount nodes { id } } }`);
      expect(list.data.cases.nodes.map((n: { id: string }) => n.id)).not.toContain(c.id);
      const many = await w.as(who, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [visitId, letterId] });
      expect(many.data.nodes).toEqual([null, null]);
    }
    // The link North was given a moment ago: 404, as for evidence that does not exist.
    const res = await w.e.download(url);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
    // Nor can North write to the visit or its case.
    const cancel = await w.mutate('northAgent', M.cancel, { visitId: secondVisitId, reason: 'x' });
    expect(cancel.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    const up = await w.upload('northAgent', { caseId: c.id, visitId, kind: 'PHOTO' }, files.png(), 'door.png');
    expect(up.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);

    // The control: the bank still sees the visits, the evidence and the consent; its own link works.
    const bank = await w.as('supervisor', CASE_VIEW, { id: c.id });
    expect(bank.data.node.visits.totalCount).toBe(2);
    expect(bank.data.node.evidence.totalCount).toBe(2);
    const bankLink = await w.as('supervisor', NODE, { id: letterId });
    const got = await w.e.download(bankLink.data.node.downloadUrl);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(letterBytes);
  });
});
