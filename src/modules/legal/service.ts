/**
 * Legal referral and write-off (issue 16 point 6).
 *
 * A referral is the LEGAL stage's record: the law firm, the amounts at referral, the document
 * package (evidence of the case), then the court case: REFERRED → FILED (court, reference, filing
 * date) → JUDGMENT (date, result, amount) → ENFORCEMENT (start, method) → CLOSED with an outcome;
 * hearings may be recorded once filed. A case is referred from FIELD_VISIT (the stage changes by
 * the case's transition rules: the bank's supervisors and admins) or when already in LEGAL; one
 * referral open at a time.
 *
 * A write-off is maker-checker: proposed by one person, approved by another, within the limit of
 * the approver's role (WRITE_OFF_APPROVAL_LIMITS). Approved, the balance leaves the book: the case
 * owes nothing more, is CLOSED with status WRITTEN_OFF, its placement ends and its reminders
 * stop; the write-off keeps the amounts. Money received afterwards is a recovery, not a payment:
 * it reduces the loss and never earns commission.
 */
import type { JudgmentResult, LegalOutcome, PaymentChannel, WriteOffReason } from '../../generated/prisma/enums.ts';
import type { LegalReferral, PrismaClient } from '../../generated/prisma/client.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Actor } from '../../lib/actor.ts';
import { idempotencyKeyOf, once, requestHash } from '../../lib/idempotency.ts';
import { BANK_TIME_ZONE, dateOnly, localDate, parseDateOnly, type Clock } from '../../lib/time.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import type { EventBus } from '../../events/bus.ts';
import { writeCase, type CaseWriteContext } from '../cases/write.ts';
import { stageTransitionAllowed, stopCaseWork } from '../cases/lifecycle.ts';

export interface LegalDeps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

/** Who refers and tracks legal cases, and decides on write-offs: the bank's supervisors and admins. */
export const LEGAL_WRITERS = ['BANK_ADMIN', 'BANK_SUPERVISOR'] as const;
/** Who may propose a write-off. */
export const WRITE_OFF_PROPOSERS = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR'] as const;
/**
 * The most each role may approve, in minor units of the case's currency: a supervisor up to
 * 5 000 000 (CNY 50,000.00, USD 50,000.00); above it only an admin; admins without a limit.
 */
export const WRITE_OFF_APPROVAL_LIMITS: Readonly<Record<string, bigint | null>> = { BANK_SUPERVISOR: 5_000_000n, BANK_ADMIN: null };
export const MAX_DOCUMENTS = 50;
export const MAX_TEXT = 2000;

function text(value: string | null | undefined, field: string, required: boolean): string {
  const v = (value ?? '').trim();
  if (required && !v) throw new DomainError('VALIDATION', `Give the ${field}`, field);
  if (v.length > MAX_TEXT) throw new DomainError('VALIDATION', `${field}: at most ${MAX_TEXT} characters`, field);
  return v;
}

const today = (now: Date) => parseDateOnly(localDate(now, BANK_TIME_ZONE));

function notFuture(d: Date, now: Date, field: string): Date {
  const day = parseDateOnly(dateOnly(d));
  if (day > today(now)) throw new DomainError('VALIDATION', `${field} is in the future`, field);
  return day;
}

const amounts = (c: { principal: bigint; interest: bigint; fees: bigint }) => ({ principal: `${c.principal}`, interest: `${c.interest}`, fees: `${c.fees}`, total: `${c.principal + c.interest + c.fees}` });

/** Evidence of this case in the viewer's era, each id once; otherwise NOT_FOUND on documentIds. */
async function checkDocuments(w: CaseWriteContext, actor: Actor, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_DOCUMENTS) throw new DomainError('VALIDATION', `At most ${MAX_DOCUMENTS} documents`, 'documentIds');
  if (!unique.length) return [];
  const found = await w.tx.evidence.count({ where: { id: { in: unique }, caseId: w.before.id, ...agencyEra(actor.viewer) } });
  if (found !== unique.length) throw new DomainError('NOT_FOUND', 'A document is not evidence of this case', 'documentIds');
  return unique;
}

// ---------------------------------------------------------------- referral

export interface ReferInput {
  caseId: string;
  lawFirm: string;
  lawFirmReference?: string | null;
  documentIds?: readonly string[] | null;
  note?: string | null;
  expectedVersion?: number | null;
}

export async function referCaseToLegal(deps: LegalDeps, actor: Actor, input: ReferInput) {
  const lawFirm = text(input.lawFirm, 'lawFirm', true);
  const lawFirmReference = text(input.lawFirmReference, 'lawFirmReference', false) || null;
  const note = text(input.note, 'note', false);
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'legal.refer' }, async (w) => {
    const { tx, now, before } = w;
    if (before.stage !== 'LEGAL') {
      const verdict = stageTransitionAllowed(before.stage, 'LEGAL', actor.viewer.role);
      if (verdict === 'invalid') throw new DomainError('INVALID_TRANSITION', `A case in ${before.stage} cannot go to LEGAL`, 'caseId');
      if (verdict === 'forbidden') throw new DomainError('FORBIDDEN_ACTION', `${actor.viewer.role} may not move a case to LEGAL`, 'caseId');
    }
    if (await tx.legalReferral.count({ where: { caseId: before.id, status: { not: 'CLOSED' } } })) throw new DomainError('INVALID_TRANSITION', 'The case already has an open legal referral', 'caseId');
    if (before.overdueTotal <= 0n) throw new DomainError('VALIDATION', 'Nothing is owed on the case', 'caseId');
    const documentIds = await checkDocuments(w, actor, input.documentIds ?? []);
    const referral = await tx.legalReferral.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        lawFirm,
        lawFirmReference,
        currency: before.currency,
        principal: before.principal,
        interest: before.interest,
        fees: before.fees,
        total: before.overdueTotal,
        note,
        referredAt: now,
        referredById: actor.viewer.userId,
        documentIds,
      },
    });
    const events = [];
    if (before.stage !== 'LEGAL') events.push({ type: 'STAGE_CHANGED', summary: `Stage ${before.stage} → LEGAL (legal referral)`, data: { from: before.stage, to: 'LEGAL', referralId: referral.id } });
    events.push({ type: 'LEGAL_REFERRED', summary: `Referred to ${lawFirm}: ${before.overdueTotal} owed, ${documentIds.length} document(s)`, data: { referralId: referral.id, lawFirm, total: `${before.overdueTotal}`, documents: documentIds.length } });
    return {
      result: { referral },
      data: before.stage !== 'LEGAL' ? { stage: 'LEGAL' as const } : {},
      events,
      auditData: { referralId: referral.id, lawFirm, amounts: amounts(before), documentIds, from: before.stage },
      reason: note || null,
    };
  });
}

/** A write to a referral: found in the viewer's scope, written under its case's lock. */
async function referralWrite<T>(
  deps: LegalDeps,
  actor: Actor,
  referralId: string,
  action: string,
  options: { allowEnded?: boolean },
  change: (w: CaseWriteContext, referral: LegalReferral) => Promise<{ result: T; event: { type: string; summary: string; data?: Record<string, unknown> }; auditData?: Record<string, unknown>; reason?: string | null }>,
) {
  const found = await deps.prisma.legalReferral.findFirst({ where: { id: referralId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) }, select: { id: true, caseId: true } });
  if (!found) throw new DomainError('NOT_FOUND', 'No such legal referral', 'referralId');
  return writeCase(deps, actor, found.caseId, { action, field: 'referralId', allowEnded: options.allowEnded ?? false }, async (w) => {
    const referral = await w.tx.legalReferral.findUniqueOrThrow({ where: { id: found.id } });
    if (referral.status === 'CLOSED') throw new DomainError('INVALID_TRANSITION', 'The referral is closed', 'referralId');
    const out = await change(w, referral);
    return { result: out.result, events: [{ ...out.event, data: { referralId: referral.id, ...(out.event.data ?? {}) } as never }], auditData: { referralId: referral.id, ...(out.auditData ?? {}) } as never, reason: out.reason ?? null };
  });
}

export async function addLegalDocuments(deps: LegalDeps, actor: Actor, input: { referralId: string; documentIds: readonly string[] }) {
  if (!input.documentIds.length) throw new DomainError('VALIDATION', 'Name at least one document', 'documentIds');
  return referralWrite(deps, actor, input.referralId, 'legal.addDocuments', {}, async (w, r) => {
    const added = (await checkDocuments(w, actor, input.documentIds)).filter((id) => !r.documentIds.includes(id));
    if (r.documentIds.length + added.length > MAX_DOCUMENTS) throw new DomainError('VALIDATION', `At most ${MAX_DOCUMENTS} documents`, 'documentIds');
    const referral = await w.tx.legalReferral.update({ where: { id: r.id }, data: { documentIds: [...r.documentIds, ...added] } });
    return { result: { referral }, event: { type: 'LEGAL_DOCUMENTS_ADDED', summary: `${added.length} document(s) added to the legal package`, data: { documentIds: added } }, auditData: { documentIds: added } };
  });
}

export async function recordLegalFiling(deps: LegalDeps, actor: Actor, input: { referralId: string; court: string; courtReference: string; filedOn: Date }) {
  const court = text(input.court, 'court', true);
  const courtReference = text(input.courtReference, 'courtReference', true);
  return referralWrite(deps, actor, input.referralId, 'legal.file', {}, async (w, r) => {
    if (r.status !== 'REFERRED') throw new DomainError('INVALID_TRANSITION', `The referral is ${r.status}, not REFERRED`, 'referralId');
    const filedOn = notFuture(input.filedOn, w.now, 'filedOn');
    if (filedOn < parseDateOnly(localDate(r.referredAt, BANK_TIME_ZONE))) throw new DomainError('VALIDATION', 'filedOn is before the referral', 'filedOn');
    const referral = await w.tx.legalReferral.update({ where: { id: r.id }, data: { status: 'FILED', court, courtReference, filedOn } });
    return { result: { referral }, event: { type: 'LEGAL_FILED', summary: `Filed with ${court} (${courtReference}) on ${dateOnly(filedOn)}`, data: { court, courtReference, filedOn: dateOnly(filedOn) } }, auditData: { court, courtReference, filedOn: dateOnly(filedOn) } };
  });
}

export async function recordLegalHearing(deps: LegalDeps, actor: Actor, input: { referralId: string; heldAt: Date; kind: string; result?: string | null }) {
  const kind = text(input.kind, 'kind', true);
  const result = text(input.result, 'result', false);
  return referralWrite(deps, actor, input.referralId, 'legal.hearing', {}, async (w, r) => {
    if (r.status === 'REFERRED') throw new DomainError('INVALID_TRANSITION', 'Record the filing first: a hearing is of a filed case', 'referralId');
    if (r.filedOn && input.heldAt < r.filedOn) throw new DomainError('VALIDATION', 'heldAt is before the filing', 'heldAt');
    const hearing = await w.tx.legalHearing.create({ data: { referralId: r.id, agencyId: r.agencyId, heldAt: input.heldAt, kind, result, recordedById: actor.viewer.userId, recordedAt: w.now } });
    return { result: { referral: r, hearing }, event: { type: 'LEGAL_HEARING', summary: `Hearing (${kind}) ${input.heldAt.toISOString()}${result ? `: ${result}` : ''}`, data: { hearingId: hearing.id } }, auditData: { hearingId: hearing.id, kind } };
  });
}

export async function recordLegalJudgment(deps: LegalDeps, actor: Actor, input: { referralId: string; judgmentOn: Date; result: JudgmentResult; amount?: number | null; currency?: string | null }) {
  if (input.result === 'AGAINST_BANK' && input.amount != null) throw new DomainError('VALIDATION', 'A judgment against the bank awards nothing', 'amount');
  if (input.result !== 'AGAINST_BANK' && (input.amount == null || !Number.isSafeInteger(input.amount) || input.amount <= 0)) throw new DomainError('VALIDATION', 'The amount awarded: a whole number of minor units above zero', 'amount');
  return referralWrite(deps, actor, input.referralId, 'legal.judgment', {}, async (w, r) => {
    if (r.status !== 'FILED') throw new DomainError('INVALID_TRANSITION', `The referral is ${r.status}, not FILED`, 'referralId');
    if (input.currency && input.currency !== r.currency) throw new DomainError('VALIDATION', `The referral is in ${r.currency}`, 'currency');
    const judgmentOn = notFuture(input.judgmentOn, w.now, 'judgmentOn');
    if (r.filedOn && judgmentOn < r.filedOn) throw new DomainError('VALIDATION', 'judgmentOn is before the filing', 'judgmentOn');
    const amount = input.amount == null ? null : BigInt(input.amount);
    const referral = await w.tx.legalReferral.update({ where: { id: r.id }, data: { status: 'JUDGMENT', judgmentOn, judgmentResult: input.result, judgmentAmount: amount } });
    return {
      result: { referral },
      event: { type: 'LEGAL_JUDGMENT', summary: `Judgment ${input.result.toLowerCase().replace(/_/g, ' ')} on ${dateOnly(judgmentOn)}${amount !== null ? `: ${amount} awarded` : ''}`, data: { result: input.result, amount: amount === null ? null : `${amount}` } },
      auditData: { result: input.result, amount: amount === null ? null : `${amount}`, judgmentOn: dateOnly(judgmentOn) },
    };
  });
}

export async function recordLegalEnforcement(deps: LegalDeps, actor: Actor, input: { referralId: string; startedOn: Date; method: string }) {
  const method = text(input.method, 'method', true);
  return referralWrite(deps, actor, input.referralId, 'legal.enforce', {}, async (w, r) => {
    if (r.status !== 'JUDGMENT') throw new DomainError('INVALID_TRANSITION', `The referral is ${r.status}, not JUDGMENT`, 'referralId');
    if (r.judgmentResult === 'AGAINST_BANK') throw new DomainError('INVALID_TRANSITION', 'A judgment against the bank is not enforced', 'referralId');
    const startedOn = notFuture(input.startedOn, w.now, 'startedOn');
    if (r.judgmentOn && startedOn < r.judgmentOn) throw new DomainError('VALIDATION', 'startedOn is before the judgment', 'startedOn');
    const referral = await w.tx.legalReferral.update({ where: { id: r.id }, data: { status: 'ENFORCEMENT', enforcementStartedOn: startedOn, enforcementMethod: method } });
    return { result: { referral }, event: { type: 'LEGAL_ENFORCEMENT', summary: `Enforcement (${method}) from ${dateOnly(startedOn)}`, data: { method } }, auditData: { method, startedOn: dateOnly(startedOn) } };
  });
}

/** Ends a referral with its outcome; allowed on an ended case too (a written-off case's referral is closed afterwards). */
export async function closeLegalReferral(deps: LegalDeps, actor: Actor, input: { referralId: string; outcome: LegalOutcome; note: string }) {
  const note = text(input.note, 'note', true);
  return referralWrite(deps, actor, input.referralId, 'legal.close', { allowEnded: true }, async (w, r) => {
    const referral = await w.tx.legalReferral.update({ where: { id: r.id }, data: { status: 'CLOSED', outcome: input.outcome, outcomeNote: note, closedAt: w.now } });
    return { result: { referral }, event: { type: 'LEGAL_CLOSED', summary: `Legal referral closed: ${input.outcome.toLowerCase().replace(/_/g, ' ')}`, data: { outcome: input.outcome, from: r.status } }, auditData: { outcome: input.outcome, from: r.status }, reason: note };
  });
}

// ---------------------------------------------------------------- write-off

export async function proposeWriteOff(deps: LegalDeps, actor: Actor, input: { caseId: string; reason: WriteOffReason; note: string; expectedVersion?: number | null }) {
  const note = text(input.note, 'note', true);
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'writeOff.propose' }, async ({ tx, now, before }) => {
    if (before.overdueTotal <= 0n) throw new DomainError('VALIDATION', 'Nothing is owed on the case: there is nothing to write off', 'caseId');
    if (await tx.writeOff.count({ where: { caseId: before.id, status: 'PROPOSED' } })) throw new DomainError('INVALID_TRANSITION', 'A write-off of the case is already proposed', 'caseId');
    const writeOff = await tx.writeOff.create({
      data: { caseId: before.id, agencyId: before.assignedAgencyId, currency: before.currency, principal: before.principal, interest: before.interest, fees: before.fees, total: before.overdueTotal, reason: input.reason, note, proposedById: actor.viewer.userId, proposedAt: now },
    });
    return {
      result: { writeOff },
      events: [{ type: 'WRITE_OFF_PROPOSED', summary: `Write-off of ${before.overdueTotal} proposed (${input.reason.toLowerCase().replace(/_/g, ' ')})`, data: { writeOffId: writeOff.id, total: `${before.overdueTotal}` } }],
      auditData: { writeOffId: writeOff.id, reason: input.reason, amounts: amounts(before) },
      reason: note,
    };
  });
}

async function writeOffForDecision(deps: LegalDeps, actor: Actor, writeOffId: string) {
  const found = await deps.prisma.writeOff.findFirst({ where: { id: writeOffId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) }, select: { id: true, caseId: true } });
  if (!found) throw new DomainError('NOT_FOUND', 'No such write-off', 'writeOffId');
  return found;
}

/** Whether a role may approve this total: its limit, or APPROVAL_REQUIRED naming who may. */
export function checkApprovalLimit(role: string, total: bigint): void {
  if (!(role in WRITE_OFF_APPROVAL_LIMITS)) throw new DomainError('FORBIDDEN_ACTION', `${role} may not approve a write-off`, 'writeOffId');
  const limit = WRITE_OFF_APPROVAL_LIMITS[role];
  if (limit != null && total > limit) throw new DomainError('APPROVAL_REQUIRED', `${total} is above the ${limit} a ${role.toLowerCase().replace(/_/g, ' ')} may approve: an admin must approve it`, 'writeOffId');
}

export async function approveWriteOff(deps: LegalDeps, actor: Actor, input: { writeOffId: string; note?: string | null; expectedVersion?: number | null }) {
  const note = text(input.note, 'note', false);
  const found = await writeOffForDecision(deps, actor, input.writeOffId);
  return writeCase(deps, actor, found.caseId, { expectedVersion: input.expectedVersion, action: 'writeOff.approve', field: 'writeOffId' }, async ({ tx, now, before }) => {
    const w = await tx.writeOff.findUniqueOrThrow({ where: { id: found.id } });
    if (w.status !== 'PROPOSED') throw new DomainError('INVALID_TRANSITION', `The write-off is ${w.status}, not PROPOSED`, 'writeOffId');
    if (w.proposedById === actor.viewer.userId) throw new DomainError('APPROVAL_REQUIRED', 'Another person must approve a write-off you proposed', 'writeOffId');
    checkApprovalLimit(actor.viewer.role, w.total);
    if (before.principal !== w.principal || before.interest !== w.interest || before.fees !== w.fees) {
      throw new DomainError('INVALID_TRANSITION', `The case owes ${before.overdueTotal} now, not the ${w.total} proposed: reject it and propose again`, 'writeOffId');
    }
    const approved = await tx.writeOff.update({ where: { id: w.id }, data: { status: 'APPROVED', decidedById: actor.viewer.userId, decidedAt: now, decisionNote: note || null } });
    const stopped = await stopCaseWork(tx, before.id, now, actor.viewer.userId, 'written off');
    return {
      result: { writeOff: approved },
      data: { principal: 0n, interest: 0n, fees: 0n, overdueTotal: 0n, stage: 'CLOSED' as const, status: 'WRITTEN_OFF' as const, closedAt: now, closeReason: 'WRITTEN_OFF' as const },
      events: [
        { type: 'WRITE_OFF_APPROVED', summary: `Written off: ${w.total} taken off the book`, data: { writeOffId: w.id, total: `${w.total}`, proposedById: w.proposedById } },
        { type: 'CASE_CLOSED', summary: 'Closed: WRITTEN_OFF', data: { reason: 'WRITTEN_OFF', writeOffId: w.id, remindersCancelled: stopped.remindersCancelled } },
      ],
      auditData: { writeOffId: w.id, proposedById: w.proposedById, amounts: amounts(w), from: before.stage },
      reason: note || null,
    };
  });
}

export async function rejectWriteOff(deps: LegalDeps, actor: Actor, input: { writeOffId: string; note: string; expectedVersion?: number | null }) {
  const note = text(input.note, 'note', true);
  const found = await writeOffForDecision(deps, actor, input.writeOffId);
  return writeCase(deps, actor, found.caseId, { expectedVersion: input.expectedVersion, action: 'writeOff.reject', field: 'writeOffId' }, async ({ tx, now }) => {
    const w = await tx.writeOff.findUniqueOrThrow({ where: { id: found.id } });
    if (w.status !== 'PROPOSED') throw new DomainError('INVALID_TRANSITION', `The write-off is ${w.status}, not PROPOSED`, 'writeOffId');
    if (w.proposedById === actor.viewer.userId) throw new DomainError('APPROVAL_REQUIRED', 'Another person must decide on a write-off you proposed', 'writeOffId');
    const rejected = await tx.writeOff.update({ where: { id: w.id }, data: { status: 'REJECTED', decidedById: actor.viewer.userId, decidedAt: now, decisionNote: note } });
    return { result: { writeOff: rejected }, events: [{ type: 'WRITE_OFF_REJECTED', summary: `Write-off rejected: ${note}`, data: { writeOffId: w.id } }], auditData: { writeOffId: w.id }, reason: note };
  });
}

// ---------------------------------------------------------------- recoveries

export interface RecordRecoveryInput {
  caseId: string;
  amount: number;
  currency: string;
  receivedAt: Date;
  channel: PaymentChannel;
  externalReference?: string | null;
  idempotencyKey: string;
}

/**
 * Money received on a written-off case: recorded once per idempotency key against the approved
 * write-off (at most what was written off, less what was recovered), on the timeline and audited.
 * The case stays closed; nothing goes back on the book; no commission is earned on it.
 */
export async function recordRecovery(deps: LegalDeps, actor: Actor, input: RecordRecoveryInput) {
  const key = idempotencyKeyOf(input.idempotencyKey);
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new DomainError('VALIDATION', 'amount must be a whole number of minor units above zero', 'amount');
  const amount = BigInt(input.amount);
  if (input.receivedAt.getTime() > deps.clock.now().getTime() + 5 * 60_000) throw new DomainError('VALIDATION', 'receivedAt is in the future', 'receivedAt');
  const externalReference = text(input.externalReference, 'externalReference', false) || null;
  const hash = requestHash([input.caseId, input.amount, input.currency, input.receivedAt.toISOString(), input.channel, externalReference]);
  return once({
    what: 'another recovery',
    hash,
    find: () => deps.prisma.recovery.findUnique({ where: { idempotencyKey: key } }),
    visible: async (existing) => (await deps.prisma.case.count({ where: { id: existing.caseId, ...caseVisibility(actor.viewer) } })) > 0,
    replay: async (existing) => ({ recovery: existing, writeOff: await deps.prisma.writeOff.findUniqueOrThrow({ where: { id: existing.writeOffId } }), case: await deps.prisma.case.findUniqueOrThrow({ where: { id: existing.caseId } }), replayed: true }),
    write: () =>
      writeCase(deps, actor, input.caseId, { action: 'recovery.record', allowEnded: true }, async ({ tx, now, before }) => {
        if (input.currency !== before.currency) throw new DomainError('VALIDATION', `The case is in ${before.currency}, not ${input.currency}`, 'currency');
        const w = await tx.writeOff.findFirst({ where: { caseId: before.id, status: 'APPROVED' }, orderBy: { decidedAt: 'desc' } });
        if (!w || before.status !== 'WRITTEN_OFF') throw new DomainError('INVALID_TRANSITION', 'The case is not written off: record a payment instead', 'caseId');
        if (input.receivedAt < w.decidedAt!) throw new DomainError('VALIDATION', 'receivedAt is before the write-off: that money was a payment', 'receivedAt');
        const left = w.total - w.recoveredAmount;
        if (amount > left) throw new DomainError('VALIDATION', `Only ${left} of the write-off is unrecovered`, 'amount');
        const recovery = await tx.recovery.create({
          data: { writeOffId: w.id, caseId: before.id, agencyId: before.assignedAgencyId, amount, currency: before.currency, receivedAt: input.receivedAt, channel: input.channel, externalReference, idempotencyKey: key, requestHash: hash, recordedById: actor.viewer.userId, createdAt: now },
        });
        const writeOff = await tx.writeOff.update({ where: { id: w.id }, data: { recoveredAmount: { increment: amount } } });
        return {
          result: { recovery, writeOff, replayed: false },
          events: [{ type: 'RECOVERY_RECORDED', summary: `Recovery of ${amount} after write-off (${writeOff.recoveredAmount} of ${w.total} recovered)`, data: { recoveryId: recovery.id, writeOffId: w.id, amount: `${amount}` } }],
          auditData: { recoveryId: recovery.id, writeOffId: w.id, amount: `${amount}`, recovered: `${writeOff.recoveredAmount}` },
        };
      }),
  });
}
