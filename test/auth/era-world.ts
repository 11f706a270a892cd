/**
 * A data set for the era tests: cases that moved bank → North → South → bank (→ North), with
 * records made in each era through the services (reminders, contact attempts, visits and their
 * consent and participants, evidence with corrections and custody, promises, plans with
 * instalments, payments with allocations, holds, the timeline).
 *
 * The world keeps its own account of which era made each record (the agency holding the case at
 * the time, null for the bank): the tests judge the server against it, never against the
 * `agencyId` columns the server itself wrote.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { viewerOf, type Viewer } from '../../src/auth/viewer.ts';
import type { Actor } from '../../src/lib/actor.ts';
import { formatCaseNumber } from '../../src/lib/ids.ts';
import { hashApiKey } from '../../src/auth/tokens.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { uploadEvidence, supersedeEvidence } from '../../src/modules/evidence/service.ts';
import { logContactAttempt, scheduleReminder } from '../../src/modules/contact/service.ts';
import { planVisit, recordVisitConsent, scheduleVisit } from '../../src/modules/visits/service.ts';
import { printVisitDocuments } from '../../src/modules/visitpack/service.ts';
import { approveRepaymentPlan, proposeRepaymentPlan, recordPayment, recordPromiseToPay, reversePayment } from '../../src/modules/repayment/service.ts';
import { assignCase, holdCase, recallCase, releaseCaseHold } from '../../src/modules/cases/lifecycle.ts';
import { files } from '../evidence/files.ts';
import { addAddress, addContactPoint } from '../../src/modules/tracing/service.ts';
import { sendLetter } from '../../src/modules/letters/service.ts';
import { issueCommissionStatement, setCommissionSchedule } from '../../src/modules/commission/service.ts';
import { proposeWriteOff, recordLegalFiling, recordLegalHearing, referCaseToLegal } from '../../src/modules/legal/service.ts';

export type Era = 'bank' | 'north' | 'south';
export type UserKey = keyof Scenario['users'];

/** One record the world made: its GraphQL type, uuid, case, era, and a tag written into its free text. */
export interface Rec {
  type: string;
  id: string;
  caseKey: string;
  era: string | null; // agency id; null: the bank
  tag?: string;
}

export interface WorldCase {
  key: string;
  id: string;
  caseNo: number;
  debtorId: string;
  debtorName: string;
  nationalId: string;
  accountId: string;
  contactPointId: string;
  addressId: string;
  path: Era[];
  /** Who holds it at the end. */
  agencyId: string | null;
  collectorId: string | null;
}

export interface EraWorld {
  s: Scenario;
  cases: WorldCase[];
  records: Rec[];
  /** Notable records the targeted tests name. */
  named: Record<string, Rec>;
  apiKey: { secret: string; id: string; owner: UserKey };
  blobDir: string;
}

const DAY = 86_400_000;

export async function buildEraWorld(t: TestApp): Promise<EraWorld> {
  const s = await createPeople(t.prisma);
  const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-era-'));
  const deps = { ...t.runtime.deps, blobs: new FolderBlobStore(blobDir), maxBytes: 1024 * 1024 };
  const users = Object.fromEntries(
    await Promise.all(Object.entries(s.users).map(async ([k, u]) => [k, await t.prisma.user.findUniqueOrThrow({ where: { id: u.id } })] as const)),
  ) as Record<UserKey, Awaited<ReturnType<typeof t.prisma.user.findUniqueOrThrow>>>;
  const actor = (who: UserKey): Actor => ({ viewer: viewerOf(users[who]), requestId: null });
  const agencyOf: Record<Era, string | null> = { bank: null, north: s.north.id, south: s.south.id };

  const records: Rec[] = [];
  const named: Record<string, Rec> = {};
  const add = (r: Rec, name?: string) => {
    records.push(r);
    if (name) named[name] = r;
    return r;
  };

  // Placements and timeline entries are written by every write; their era is the column the
  // lifecycle has kept since the first agency era (tested on its own): collected at the end.
  const specs: { key: string; path: Era[] }[] = [
    { key: 'A', path: ['bank', 'north'] },
    { key: 'B', path: ['bank', 'north', 'south'] },
    { key: 'C', path: ['bank', 'north', 'south', 'bank'] },
    { key: 'D', path: ['bank', 'north', 'south', 'bank', 'north'] },
    { key: 'E', path: ['south'] },
  ];

  const cases: WorldCase[] = [];
  let n = 0;
  for (const spec of specs) {
    t.clock.set(new Date('2026-11-02T02:00:00.000Z')); // 10:00 in Shanghai
    const first = spec.path[0]!;
    const nationalId = `44030119880512${String(1000 + ++n).slice(-4)}`;
    const debtorName = `ERA-DEBTOR-${spec.key}`;
    const row = await createCase(t.prisma, t.pii, {
      now: t.clock.now(),
      agencyId: agencyOf[first],
      collectorId: first === 'bank' ? s.users.collector.id : first === 'north' ? s.users.northAgent.id : s.users.southAgent.id,
      stage: 'FIELD_VISIT',
      daysPastDue: 40,
      debtorName,
      nationalId,
    });
    const debtor = await t.prisma.debtor.findUniqueOrThrow({ where: { id: row.debtorId }, include: { contactPoints: true, addresses: true } });
    const wc: WorldCase = {
      key: spec.key,
      id: row.id,
      caseNo: row.caseNo,
      debtorId: row.debtorId,
      debtorName,
      nationalId,
      accountId: row.accountId,
      contactPointId: debtor.contactPoints[0]!.id,
      addressId: debtor.addresses[0]!.id,
      path: spec.path,
      agencyId: null,
      collectorId: null,
    };
    cases.push(wc);

    // What each era left behind, for the next one to point at.
    const last: Partial<Record<string, { visit: string; evidence: string; attempt: string }>> = {};
    for (let i = 0; i < spec.path.length; i++) {
      const era = spec.path[i]!;
      const agencyId = agencyOf[era];
      const ek = `${spec.key}${i}${era}`; // e.g. B1north
      const tag = (what: string) => `ERA-TAG-${ek}-${what}`;
      if (i > 0) {
        t.clock.advance(DAY);
        const prev = spec.path[i - 1]!;
        if (prev !== 'bank') await recallCase(deps, actor('admin'), { caseId: wc.id, reason: 'PERFORMANCE' });
        const collector = era === 'bank' ? 'collector' : era === 'south' ? 'southAgent' : i >= 4 ? 'northAgent2' : 'northAgent';
        await assignCase(deps, actor('admin'), { caseId: wc.id, agencyId, collectorId: s.users[collector].id });
      }
      const worker: UserKey = era === 'bank' ? 'supervisor' : era === 'south' ? 'southAgent' : i >= 4 ? 'northAgent2' : 'northAgent';
      const rec = (type: string, id: string, what: string, name?: string) => add({ type, id, caseKey: spec.key, era: agencyId, tag: tag(what) }, name ?? `${ek}.${what}`);

      const reminder = await scheduleReminder(deps, actor(worker), {
        caseId: wc.id,
        contactPointId: wc.contactPointId,
        channel: 'SMS',
        templateKey: 'overdue-notice',
        scheduledAt: new Date(t.clock.now().getTime() + 3_600_000),
        idempotencyKey: tag('reminder'),
      });
      rec('Reminder', reminder.reminder.id, 'reminder');

      const attempt = await logContactAttempt(deps, actor(worker), {
        caseId: wc.id,
        contactPointId: wc.contactPointId,
        channel: 'CALL',
        outcome: 'VISIT_CONSENT_GIVEN',
        notes: tag('attempt'),
      });
      rec('ContactAttempt', attempt.attempt.id, 'attempt');
      const now = () => t.clock.now().getTime();
      const window = { windowStart: new Date(now() + DAY - 2 * 3_600_000), windowEnd: new Date(now() + DAY + 10 * 3_600_000) };

      // A visit of this era, with consent.
      const visit = await planVisit(deps, actor(worker), { caseId: wc.id, addressId: wc.addressId, purpose: tag('visit') });
      rec('Visit', visit.visit.id, 'visit');
      const consent = await recordVisitConsent(deps, actor(worker), { visitId: visit.visit.id, contactAttemptId: attempt.attempt.id, ...window });
      rec('VisitConsent', consent.visit.consentId!, 'consent');

      // The first agency era takes up the bank's visit: consent and collectors on a bank-era visit.
      if (era !== 'bank' && last.bank && !last.north && !last.south) {
        const bankVisit = last.bank.visit;
        const c = await recordVisitConsent(deps, actor(worker), { visitId: bankVisit, contactAttemptId: attempt.attempt.id, ...window });
        rec('VisitConsent', c.visit.consentId!, 'consentOnBankVisit');
        const pair: [UserKey, UserKey] = era === 'north' ? ['northAgent', 'northAgent2'] : ['southAgent', 'southManager'];
        await scheduleVisit(deps, actor(worker), {
          visitId: bankVisit,
          collectorIds: pair.map((u) => s.users[u].id),
          windowStart: new Date(now() + DAY),
          windowEnd: new Date(now() + DAY + 2 * 3_600_000),
        });
      }

      // Evidence of this era; a correction of the previous era's evidence.
      const ev = await uploadEvidence(deps, actor(worker), { caseId: wc.id, kind: 'PROMISE_LETTER', file: pdfFile(tag('evidence')), description: tag('evidence') });
      rec('Evidence', ev.evidence.id, 'evidence');
      const prevEvidence = i > 0 ? last[spec.path[i - 1]!]?.evidence : undefined;
      if (prevEvidence) {
        const canCorrect = era === 'bank' || spec.path[i - 1] === 'bank';
        if (canCorrect) {
          const corr = await supersedeEvidence(deps, actor(worker), { evidenceId: prevEvidence, file: pdfFile(tag('correction')), description: tag('correction') });
          rec('Evidence', corr.evidence.id, 'correction');
        }
      }

      const promise = await recordPromiseToPay(deps, actor(worker), {
        caseId: wc.id,
        amount: 1_000,
        currency: 'CNY',
        promisedFor: new Date(now() + 5 * DAY),
        contactAttemptId: attempt.attempt.id,
        visitId: visit.visit.id,
      });
      rec('PromiseToPay', promise.promise.id, 'promise');

      // A plan: the first agency era's is approved (active), others stay proposed.
      const c = await t.prisma.case.findUniqueOrThrow({ where: { id: wc.id } });
      const plan = await proposeRepaymentPlan(deps, actor(worker), {
        caseId: wc.id,
        kind: 'INSTALMENTS',
        currency: 'CNY',
        totalAmount: Number(c.overdueTotal),
        instalmentCount: 2,
        frequency: 'MONTHLY',
        firstDueDate: new Date(Date.UTC(2026, 11, 20 + i)),
        note: tag('plan'),
      });
      rec('RepaymentPlan', plan.plan.id, 'plan');
      for (const inst of await t.prisma.instalment.findMany({ where: { planId: plan.plan.id }, orderBy: { seq: 'asc' } })) {
        rec('Instalment', inst.id, `instalment${inst.seq}`);
      }
      if (era !== 'bank' && !(await t.prisma.repaymentPlan.count({ where: { caseId: wc.id, status: 'ACTIVE' } }))) {
        await approveRepaymentPlan(deps, actor(worker === 'supervisor' ? 'admin' : 'supervisor'), { planId: plan.plan.id });
      }

      // The bank records money whoever holds the case: the payment is of this era; its lines
      // go to the oldest open promises and instalments, of whatever era.
      const pay = await recordPayment(deps, actor('supervisor'), {
        caseId: wc.id,
        // North's era pays its own plan's first instalment in part (approving the plan superseded the
        // open promises): the next era's payment covers the open promises, then reaches North's instalment.
        amount: era === 'north' ? 700 : 2_500,
        currency: 'CNY',
        receivedAt: t.clock.now(),
        channel: 'BANK_TRANSFER',
        externalReference: tag('payment'),
        idempotencyKey: tag('payment'),
      });
      rec('Payment', pay.payment.id, 'payment');
      // The first agency era sees the bank's payment of the era before reversed: a reversal of its own era.
      if (era !== 'bank' && i === 1 && spec.path[0] === 'bank') {
        const bankPayment = named[`${spec.key}0bank.payment`]!.id;
        const { version } = await t.prisma.case.findUniqueOrThrow({ where: { id: wc.id }, select: { version: true } });
        const rev = await reversePayment(deps, actor('supervisor'), { paymentId: bankPayment, reason: tag('reversal'), expectedVersion: version });
        rec('PaymentReversal', rev.reversal.id, 'reversal');
      }

      // Skip tracing and a letter of this era (issue 13): what an agency found, and sent, is of its era.
      const traced = await addContactPoint(deps, actor(worker), { caseId: wc.id, kind: 'MOBILE', value: `1377${String(cases.length).padStart(2, '0')}${String(i).padStart(5, '0')}`, source: era === 'bank' ? 'BANK_DATA' : 'AGENCY_TRACE', sourceNote: tag('tracedPhone') });
      rec('ContactPoint', traced.contactPoint.id, 'tracedPhone');
      const tracedAddress = await addAddress(deps, actor(worker), { caseId: wc.id, kind: 'WORK', line1: tag('tracedAddress'), city: 'Tianjin', region: 'Tianjin', source: era === 'bank' ? 'BANK_DATA' : 'AGENCY_TRACE', sourceNote: tag('tracedAddressSource') });
      rec('Address', tracedAddress.address.id, 'tracedAddress');
      const letter = await sendLetter(deps, actor(worker), { caseId: wc.id, addressId: wc.addressId });
      rec('Letter', letter.letter.id, 'letter');
      rec('Evidence', letter.evidence.id, 'letterEvidence');
      // A document printed for this era's visit (issue 18): of its era, like its evidence.
      const printed = await printVisitDocuments(deps, actor(worker), { visitId: visit.visit.id, documents: ['NOTICE'] });
      rec('VisitDocument', printed.documents[0]!.id, 'visitDocument');
      rec('Evidence', printed.documents[0]!.evidenceId, 'visitDocumentEvidence');

      const hold = await holdCase(deps, actor(worker), { caseId: wc.id, reason: 'HARDSHIP', note: tag('hold') });
      rec('Hold', hold.hold.id, 'hold');
      await releaseCaseHold(deps, actor(worker), { caseId: wc.id });

      last[era] = { visit: visit.visit.id, evidence: ev.evidence.id, attempt: attempt.attempt.id };
    }
    const end = await t.prisma.case.findUniqueOrThrow({ where: { id: wc.id } });
    wc.agencyId = end.assignedAgencyId;
    wc.collectorId = end.assignedCollectorId;
  }

  // Issue 16: commission statements of November (an agency's records, of no case: its manager's
  // only), a legal referral with a hearing on the case North holds (A), a write-off proposed on
  // South's (E).
  const resume = t.clock.now();
  for (const agency of [s.north, s.south]) {
    await setCommissionSchedule(deps, actor('admin'), { agencyId: agency.id, currency: 'CNY', effectiveFrom: new Date('2026-11-01T00:00:00Z'), rates: [], defaultRateBps: 1000, visitFee: 100 });
  }
  t.clock.set(new Date('2026-12-02T02:00:00.000Z'));
  for (const [agency, name] of [[s.north, 'north'], [s.south, 'south']] as const) {
    const { statement } = await issueCommissionStatement(deps, actor('admin'), { agencyId: agency.id, currency: 'CNY', period: '2026-11' });
    add({ type: 'CommissionStatement', id: statement.id, caseKey: '', era: agency.id }, `${name}.statement`);
    for (const l of await t.prisma.commissionLine.findMany({ where: { statementId: statement.id } })) add({ type: 'CommissionLine', id: l.id, caseKey: '', era: agency.id });
  }
  t.clock.set(resume);
  const caseA = cases.find((c) => c.key === 'A')!;
  const caseE = cases.find((c) => c.key === 'E')!;
  const referral = await referCaseToLegal(deps, actor('supervisor'), { caseId: caseA.id, lawFirm: 'ERA-TAG-A-lawFirm', note: 'ERA-TAG-A-legal' });
  add({ type: 'LegalReferral', id: referral.referral.id, caseKey: 'A', era: caseA.agencyId, tag: 'ERA-TAG-A-legal' }, 'A.legal');
  await recordLegalFiling(deps, actor('supervisor'), { referralId: referral.referral.id, court: 'ERA court', courtReference: 'ERA-1', filedOn: t.clock.now() });
  const hearing = await recordLegalHearing(deps, actor('supervisor'), { referralId: referral.referral.id, heldAt: t.clock.now(), kind: 'ERA-TAG-A-hearing' });
  add({ type: 'LegalHearing', id: hearing.hearing.id, caseKey: 'A', era: caseA.agencyId, tag: 'ERA-TAG-A-hearing' }, 'A.hearing');
  const writeOff = await proposeWriteOff(deps, actor('supervisor'), { caseId: caseE.id, reason: 'UNCOLLECTIBLE', note: 'ERA-TAG-E-writeOff' });
  add({ type: 'WriteOff', id: writeOff.writeOff.id, caseKey: 'E', era: caseE.agencyId, tag: 'ERA-TAG-E-writeOff' }, 'E.writeOff');

  // Placements and timeline entries: the lifecycle's own record of the holder.
  const byCase = new Map(cases.map((c) => [c.id, c.key]));
  for (const p of await t.prisma.placement.findMany({ where: { caseId: { in: [...byCase.keys()] } } })) {
    add({ type: 'Placement', id: p.id, caseKey: byCase.get(p.caseId)!, era: p.agencyId });
  }
  for (const e of await t.prisma.caseEvent.findMany({ where: { caseId: { in: [...byCase.keys()] } } })) {
    add({ type: 'CaseEvent', id: e.id, caseKey: byCase.get(e.caseId)!, era: e.agencyId });
  }

  // A partner system's key, for South's manager.
  const secret = 'ak_south-manager-era-fuzz-key-0000000000000';
  // A key that may send its own documents (not only the SDK's persisted ones): the hunter writes its own.
  const key = await t.prisma.apiKey.create({ data: { name: 'south system', prefix: secret.slice(0, 11), hash: hashApiKey(secret), userId: s.users.southManager.id, persistedOnly: false } });
  const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { agencyId: s.south.id } });
  add({ type: 'ApiKey', id: key.id, caseKey: '', era: s.south.id });
  add({ type: 'AuditEvent', id: audit.id, caseKey: '', era: s.south.id });

  return { s, cases, records, named, apiKey: { secret, id: key.id, owner: 'southManager' }, blobDir };
}

function pdfFile(text: string) {
  const bytes = files.pdf(text);
  return {
    name: `${text}.pdf`,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(bytes));
          c.close();
        },
      }),
  };
}

// ---------------------------------------------------------------- the oracle

export interface Principal {
  key: string;
  viewer: Viewer;
}

/** May this viewer see the case as it stands (DOMAIN.md "The people")? */
export function seesCase(v: Viewer, c: WorldCase): boolean {
  if (v.role === 'AGENCY_MANAGER') return c.agencyId === v.agencyId;
  if (v.role === 'AGENCY_COLLECTOR') return c.agencyId === v.agencyId && c.collectorId === v.userId;
  return true;
}

/** May this agency viewer see the record: its case, and its era the bank's or the viewer's own. */
export function seesRecord(v: Viewer, w: EraWorld, r: Rec): boolean {
  if (r.type === 'ApiKey' || r.type === 'AuditEvent') return false;
  // Commission is between the bank and an agency: its manager sees its own, its collectors none.
  if (r.type.startsWith('Commission')) return v.role === 'AGENCY_MANAGER' && r.era === v.agencyId;
  const c = w.cases.find((x) => x.key === r.caseKey)!;
  return seesCase(v, c) && (r.era === null || r.era === v.agencyId);
}

export const gid = (type: string, id: string) => encodeGlobalID(type, id);

/**
 * What must never appear in an answer to this viewer: ids (raw and global) and tags of records it
 * may not see, numbers of cases it may not see, names and national IDs of their debtors, every
 * full national ID, the other agency's name and its people's names and e-mails.
 */
export function forbiddenMarkers(v: Viewer, w: EraWorld): string[] {
  const out = new Set<string>();
  for (const r of w.records) {
    if (seesRecord(v, w, r)) continue;
    out.add(r.id);
    out.add(gid(r.type, r.id));
    if (r.tag) out.add(r.tag);
  }
  for (const c of w.cases) {
    out.add(c.nationalId);
    if (seesCase(v, c)) continue;
    for (const [type, id] of [['Case', c.id], ['Debtor', c.debtorId], ['CardAccount', c.accountId], ['ContactPoint', c.contactPointId], ['Address', c.addressId]] as const) {
      out.add(id);
      out.add(gid(type, id));
    }
    out.add(formatCaseNumber(c.caseNo));
    out.add(c.debtorName);
  }
  const other = v.agencyId === w.s.north.id ? w.s.south : w.s.north;
  out.add(other.id);
  out.add(gid('Agency', other.id));
  out.add(other.id === w.s.north.id ? 'North Recovery' : 'South Recovery');
  for (const u of Object.values(w.s.users)) {
    if (u.agencyId === null || u.agencyId === v.agencyId) continue;
    out.add(u.id);
    out.add(gid('User', u.id));
    out.add(u.email);
  }
  const names: Record<string, string> = { 'manager@north.example': 'North Manager', 'agent@north.example': 'North Agent', 'agent2@north.example': 'North Agent Two', 'manager@south.example': 'South Manager', 'agent@south.example': 'South Agent' };
  for (const u of Object.values(w.s.users)) if (u.agencyId !== null && u.agencyId !== v.agencyId) out.add(names[u.email]!);
  return [...out];
}
