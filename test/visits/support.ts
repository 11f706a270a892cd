/**
 * Helpers for the visit tests (issue 5): the evidence test app (real multipart uploads, the
 * signed-download route), the people, North cases in FIELD_VISIT, and one GraphQL document per
 * mutation of the visit state machine. Every call goes through the app's Fetch handler, as a
 * client over HTTP would; tokens are signed at the clock's current time on every call (they
 * expire 12 h after signing, and the tests move the clock across days).
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import { createEvidenceTestApp, type EvidenceTestApp } from '../evidence/support.ts';
import { TEST_NOW, type GqlResult } from '../support/app.ts';
import { createCase, createPeople, type Scenario, type ScenarioUser } from '../support/scenario.ts';
import { blob, files } from '../evidence/files.ts';

export { files, blob, TEST_NOW };
export type CaseRow = Awaited<ReturnType<typeof createCase>>;
export type UserKey = keyof Scenario['users'];

export const gid = (type: string, id: string) => encodeGlobalID(type, id);
/** The uuid inside a global id. */
export const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':').slice(1).join(':');

/** 2026-11-28 is "today" (10:00 Shanghai); the visit day is tomorrow, 2026-11-29. */
export const TOMORROW_10 = '2026-11-29T02:00:00.000Z'; // 10:00 Asia/Shanghai
export const TOMORROW_12 = '2026-11-29T04:00:00.000Z'; // 12:00 Asia/Shanghai
/** Consent covers tomorrow and the day after, 08:00 → 22:00 Shanghai. */
export const CONSENT_FROM = '2026-11-29T00:00:00.000Z'; // 08:00 Shanghai, 29 Nov
export const CONSENT_TO = '2026-11-30T14:00:00.000Z'; // 22:00 Shanghai, 30 Nov

/** Every field of the typed dossier (issue 18). */
export const DOSSIER_FIELDS = `dossier { form compiledAt caseNumber
  debtor { fullName nationalIdMasked language timeZone jurisdiction }
  card { last4 product creditLimit { minorUnits currency } }
  amounts { total { minorUnits currency formatted } principal { minorUnits } interest { minorUnits } fees { minorUnits } firstMissedDueDate daysPastDue }
  contactPoints { kind value }
  address { kind line1 line2 city region postalCode country }
  statements { periodStart periodEnd statementBalance { minorUnits currency } minimumDue { minorUnits } amountPaid { minorUnits } dueDate }
  recentTransactions { postedOn merchantCategory merchantName amount { minorUnits currency } }
  promises { amount { minorUnits } promisedFor status paidAmount { minorUnits } }
  plans { kind status totalAmount { minorUnits } paidAmount { minorUnits } instalmentCount firstDueDate }
  contactHistory { totalAttempts connected lastAttemptAt lastOutcome byChannel { channel attempts } }
  holds { reason startsAt endsAt releasedAt }
  complaints { category status receivedAt } }`;

export const VISIT_FIELDS = `id status version purpose ${DOSSIER_FIELDS} windowStart windowEnd materials checkedInAt
  delinquencyReason delinquencyReasonText consequencesExplained plansOffered outcome completedAt report reportedAt
  decision graceUntil decisionNote decidedAt cancelReason cancelledAt
  address { id kind city }
  consent { id windowStart windowEnd withdrawnAt contactAttempt { id outcome } }
  participants { user { id } credentialNumber credentialExpiresOn credentialShownAt credentialShownNumber }
  evidence(first: 10) { totalCount nodes { id kind } }`;

const payload = (name: string, input: string) => `mutation($input: ${input}!) {
  ${name}(input: $input) { visit { ${VISIT_FIELDS} } case { id version stage onHold } userErrors { code field message } }
}`;

export const M = {
  plan: payload('planVisit', 'PlanVisitInput'),
  consent: payload('recordVisitConsent', 'RecordVisitConsentInput'),
  schedule: payload('scheduleVisit', 'ScheduleVisitInput'),
  checkIn: payload('checkInVisit', 'CheckInVisitInput'),
  complete: payload('completeVisit', 'CompleteVisitInput'),
  report: payload('reportVisit', 'ReportVisitInput'),
  decide: payload('decideVisit', 'DecideVisitInput'),
  cancel: payload('cancelVisit', 'CancelVisitInput'),
  call: `mutation($input: LogContactAttemptInput!) {
    logContactAttempt(input: $input) { contactAttempt { id outcome status violation rule } policyViolation { rule code } userErrors { code field message } }
  }`,
  upload: `mutation($input: UploadEvidenceInput!) {
    uploadEvidence(input: $input) { evidence { id kind sha256 sizeBytes contentType fileName visit { id } } case { id version } userErrors { code field message } }
  }`,
  recall: `mutation($input: RecallCaseInput!) { recallCase(input: $input) { case { id version assignedAgency { id } } userErrors { code field message } } }`,
  stage: `mutation($input: ChangeCaseStageInput!) { changeCaseStage(input: $input) { case { id stage version } userErrors { code field message } } }`,
  hold: `mutation($input: HoldCaseInput!) { holdCase(input: $input) { hold { id reason } userErrors { code field message } } }`,
  reminder: `mutation($input: ScheduleReminderInput!) { scheduleReminder(input: $input) { reminder { id status } userErrors { code field message } } }`,
} as const;

export interface VisitWorld {
  e: EvidenceTestApp;
  s: Scenario;
  /** A GraphQL request as this user, with a token signed now. */
  as<T = any>(who: UserKey, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** A mutation as this user: no GraphQL errors, and the named field's payload. */
  mutate(who: UserKey, doc: string, input: Record<string, unknown>): Promise<any>;
  upload(who: UserKey, input: Record<string, unknown>, bytes: Buffer, fileName: string, type?: string): Promise<any>;
  /** A North case in FIELD_VISIT, assigned to northAgent; its debtor's mobile and home address. */
  northCase(spec?: Partial<Parameters<typeof createCase>[2]>): Promise<FieldCase>;
  close(): Promise<void>;
}

export interface FieldCase {
  row: CaseRow;
  id: string; // global id
  mobileId: string; // global id of the debtor's MOBILE
  homeId: string; // global id of the debtor's HOME address
}

export async function createVisitWorld(): Promise<VisitWorld> {
  const e = await createEvidenceTestApp();
  const s = await createPeople(e.t.prisma);
  const tokenOf = (who: UserKey) => e.t.token(s.users[who] as ScenarioUser);
  const as = async (who: UserKey, query: string, variables?: Record<string, unknown>) => e.gql(await tokenOf(who), query, variables);
  const world: VisitWorld = {
    e,
    s,
    as,
    async mutate(who, doc, input) {
      const r = await as(who, doc, { input });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      const key = Object.keys(r.data)[0]!;
      return r.data[key];
    },
    async upload(who, input, bytes, fileName, type = 'application/octet-stream') {
      const r = await e.upload(await tokenOf(who), M.upload, input, blob(bytes, type), fileName);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r.data.uploadEvidence;
    },
    async northCase(spec = {}) {
      const row = await createCase(e.t.prisma, e.t.pii, {
        agencyId: s.north.id,
        collectorId: s.users.northAgent.id,
        stage: 'FIELD_VISIT',
        now: e.t.clock.now(),
        ...spec,
      });
      const debtor = await e.t.prisma.debtor.findUniqueOrThrow({ where: { id: row.debtorId }, include: { contactPoints: true, addresses: true } });
      return { row, id: gid('Case', row.id), mobileId: gid('ContactPoint', debtor.contactPoints[0]!.id), homeId: gid('Address', debtor.addresses[0]!.id) };
    },
    close: () => e.close(),
  };
  return world;
}

/** The steps, each asserting success; they return the payload. */
export function steps(w: VisitWorld) {
  const ok = (p: any) => {
    expect(p.userErrors).toEqual([]);
    return p;
  };
  return {
    /** A call in which the debtor agreed to a visit: the contact attempt's global id. */
    async consentCall(c: FieldCase, who: UserKey = 'northAgent', outcome = 'VISIT_CONSENT_GIVEN'): Promise<string> {
      const p = ok(await w.mutate(who, M.call, { caseId: c.id, contactPointId: c.mobileId, channel: 'CALL', outcome, notes: 'Debtor agrees to a home visit' }));
      expect(p.policyViolation).toBeNull();
      return p.contactAttempt.id;
    },
    async plan(c: FieldCase, who: UserKey = 'northAgent') {
      return ok(await w.mutate(who, M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'Discuss the overdue balance and a repayment plan' })).visit;
    },
    async consent(visitId: string, attemptId: string, who: UserKey = 'northAgent', from = CONSENT_FROM, to = CONSENT_TO) {
      return ok(await w.mutate(who, M.consent, { visitId, contactAttemptId: attemptId, windowStart: from, windowEnd: to })).visit;
    },
    async schedule(visitId: string, who: UserKey = 'northAgent', from = TOMORROW_10, to = TOMORROW_12, collectors: UserKey[] = ['northAgent', 'northAgent2']) {
      return ok(await w.mutate(who, M.schedule, { visitId, collectorIds: collectors.map((k) => gid('User', w.s.users[k].id)), windowStart: from, windowEnd: to })).visit;
    },
    async checkIn(visitId: string, who: UserKey = 'northAgent', collectors: UserKey[] = ['northAgent', 'northAgent2']) {
      return ok(await w.mutate(who, M.checkIn, { visitId, credentialsShown: collectors.map((k) => ({ userId: gid('User', w.s.users[k].id), credentialNumber: `WC-${w.s.users[k].email}` })) })).visit;
    },
    async complete(visitId: string, input: Record<string, unknown> = {}, who: UserKey = 'northAgent') {
      return ok(await w.mutate(who, M.complete, { visitId, outcome: 'REFUSED', delinquencyReason: 'BUSINESS_FAILURE', consequencesExplained: true, plansOffered: ['INSTALMENTS'], ...input })).visit;
    },
    async report(visitId: string, who: UserKey = 'northAgent') {
      return ok(await w.mutate(who, M.report, { visitId, report: 'Met the debtor at home; see the outcome recorded.' })).visit;
    },
    /** A visit planned with consent recorded (PREPARING). */
    async prepared(c: FieldCase) {
      const attempt = await this.consentCall(c);
      const v = await this.plan(c);
      await this.consent(v.id, attempt);
      return v.id as string;
    },
    /** A visit scheduled tomorrow 10:00–12:00 Shanghai by the North pair. */
    async scheduled(c: FieldCase) {
      const id = await this.prepared(c);
      await this.schedule(id);
      return id;
    },
    /** A visit checked in (the clock is moved into tomorrow's window). */
    async inProgress(c: FieldCase) {
      const id = await this.scheduled(c);
      w.e.t.clock.set('2026-11-29T02:30:00.000Z');
      await this.checkIn(id);
      return id;
    },
  };
}

/**
 * What a refused write must leave as it was: the visit (status, version, every column), the case
 * version, its timeline, its audit entries, participants, consents, evidence, holds.
 */
export async function stateOf(w: VisitWorld, c: FieldCase, visitId?: string) {
  const p = w.e.t.prisma;
  const caseId = c.row.id;
  return {
    visit: visitId ? await p.visit.findUniqueOrThrow({ where: { id: rawId(visitId) } }) : null,
    visits: await p.visit.count({ where: { caseId } }),
    caseVersion: (await p.case.findUniqueOrThrow({ where: { id: caseId } })).version,
    stage: (await p.case.findUniqueOrThrow({ where: { id: caseId } })).stage,
    events: await p.caseEvent.count({ where: { caseId } }),
    audits: await p.auditEvent.count({ where: { caseId } }),
    participants: await p.visitParticipant.findMany({ where: { visit: { caseId } }, orderBy: { id: 'asc' } }),
    consents: await p.visitConsent.findMany({ where: { caseId }, orderBy: { id: 'asc' } }),
    evidence: await p.evidence.count({ where: { caseId } }),
    holds: await p.hold.count({ where: { caseId } }),
  };
}

/** Expects a single user error with this code (and field), and that nothing changed. */
export async function expectRefused(w: VisitWorld, c: FieldCase, visitId: string | undefined, run: () => Promise<any>, code: string, field?: string[]) {
  const before = await stateOf(w, c, visitId);
  const p = await run();
  expect(p.userErrors).toHaveLength(1);
  expect(p.userErrors[0]).toMatchObject({ code, ...(field ? { field } : {}) });
  if ('visit' in p) expect(p.visit).toBeNull();
  const after = await stateOf(w, c, visitId);
  expect(after).toEqual(before);
  return p.userErrors[0] as { code: string; field: string[] | null; message: string };
}
