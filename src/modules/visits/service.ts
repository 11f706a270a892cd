import type { Prisma, PrismaClient, User, Visit } from '../../generated/prisma/client.ts';
import type { CloseReason, DelinquencyReason, PlanKind, VisitDecision, VisitMaterial, VisitOutcome } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { BANK_TIME_ZONE, dateOnly, daysBetween, localDate, parseDateOnly, withinLocalHours, type Clock } from '../../lib/time.ts';
import { stepTime } from '../../lib/field-time.ts';
import type { Actor } from '../../lib/actor.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { agencyEra, caseVisibility, inAgencyEra } from '../../auth/scopes.ts';
import { usableAddress } from '../tracing/service.ts';
import type { EventBus } from '../../events/bus.ts';
import type { Tx } from '../../db/store.ts';
import { writeCase, type CaseEventInput, type CaseWriteContext } from '../cases/write.ts';
import { activeHoldWhere } from '../cases/queries.ts';
import { getContactPolicy } from '../policy/service.ts';
import { compileDossier } from '../visitpack/dossier.ts';
import { visitAllowedByStrategy } from '../strategy/service.ts';

export interface Deps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

const ALL_MATERIALS: VisitMaterial[] = ['OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT', 'NOTICE_LETTER'];
/** The 2011 measures and the 2018 convention: at least two people go to a home visit (China Banking Association guideline). */
export const MIN_VISIT_COLLECTORS = 2;

/** Finds a visit the viewer may see; its case id leads the write. */
async function visibleVisit(deps: Deps, actor: Actor, visitId: string): Promise<Visit> {
  const visit = await deps.prisma.visit.findFirst({ where: { id: visitId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) } });
  if (!visit) throw new DomainError('NOT_FOUND', 'No such visit', 'visitId');
  return visit;
}

/** A write to a visit: the case's write path (lock, visibility, version, timeline, audit), the visit re-read under the lock. */
async function writeVisit<T>(
  deps: Deps,
  actor: Actor,
  visitId: string,
  action: string,
  expectedVersion: number | null | undefined,
  change: (w: CaseWriteContext, visit: Visit) => Promise<{ visit: Prisma.VisitUncheckedUpdateInput; event: CaseEventInput; result?: T; caseData?: Prisma.CaseUncheckedUpdateInput; reason?: string | null }>,
) {
  const found = await visibleVisit(deps, actor, visitId);
  return writeCase(deps, actor, found.caseId, { action, field: 'visitId' }, async (w) => {
    const visit = await w.tx.visit.findUniqueOrThrow({ where: { id: visitId } });
    if (expectedVersion != null && expectedVersion !== visit.version) {
      throw new DomainError('STALE_VERSION', `The visit is at version ${visit.version}, not ${expectedVersion}`, 'expectedVersion');
    }
    const out = await change(w, visit);
    const updated = await w.tx.visit.update({ where: { id: visitId }, data: { ...out.visit, version: { increment: 1 } } });
    return {
      result: { visit: updated, ...(out.result ?? ({} as T)) },
      data: out.caseData ?? {},
      events: [{ ...out.event, data: { visitId, ...((out.event.data as object) ?? {}) } }],
      auditData: { visitId, from: visit.status, to: updated.status },
      reason: out.reason ?? null,
    };
  });
}

/** On-site steps are recorded by one of the collectors named for the visit (or a supervisor on their behalf). */
async function requireParticipant(tx: Tx, visit: Visit, actor: Actor) {
  if (actor.viewer.role === 'BANK_SUPERVISOR' || actor.viewer.role === 'BANK_ADMIN') return;
  const named = await tx.visitParticipant.count({ where: { visitId: visit.id, userId: actor.viewer.userId } });
  if (!named) throw new DomainError('FORBIDDEN_ACTION', 'Only a collector named for the visit records what happened on site', 'visitId');
}

function requireStatus(visit: Visit, allowed: Visit['status'][], what: string) {
  if (!allowed.includes(visit.status)) throw new DomainError('INVALID_TRANSITION', `Cannot ${what} a ${visit.status} visit`, 'visitId');
}

async function notOnHold(tx: Tx, caseId: string, now: Date) {
  const hold = await tx.hold.findFirst({ where: { caseId, ...activeHoldWhere(now) } });
  if (hold) throw new DomainError('ON_HOLD', `The case is on hold (${hold.reason}): no contact of any kind`, 'caseId');
}

// ---------------------------------------------------------------- step 1: dossier

/**
 * planVisit: the address (one of the debtor's) and the purpose; the dossier is compiled from the
 * case now (source step 1, 信息整理). An agency's dossier holds only what the visit needs.
 */
export async function planVisit(
  deps: Deps,
  actor: Actor,
  input: { caseId: string; addressId: string; purpose: string; expectedVersion?: number | null },
  /** The client's idempotency key and request hash, kept on the visit (see lib/idempotency.ts). */
  idempotency: { key: string; hash: string } | null = null,
) {
  const purpose = input.purpose.trim();
  if (!purpose) throw new DomainError('VALIDATION', 'State the purpose of the visit', 'purpose');
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'visit.plan' }, async ({ tx, now, before }) => {
    if (before.stage !== 'FIELD_VISIT') throw new DomainError('INVALID_TRANSITION', `Visits are for cases in FIELD_VISIT; this one is ${before.stage}`, 'caseId');
    await notOnHold(tx, before.id, now);
    await visitAllowedByStrategy(tx, before.id);
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, include: { contactPoints: true, addresses: true } });
    // Only what the viewer's era shows: an address another agency traced is not there for this one.
    const address = debtor.addresses.find((a) => a.id === input.addressId && inAgencyEra(actor.viewer, a));
    if (!address) throw new DomainError('NOT_FOUND', "No such address of the case's debtor", 'addressId');
    usableAddress(address);
    const own = debtor.contactPoints.filter((cp) => cp.party === 'DEBTOR' && !cp.doNotContact && cp.verification !== 'REJECTED' && inAgencyEra(actor.viewer, cp));
    // The agency dossier when an agency plans it or will carry it out (the case is placed with one): its people read it.
    const agencyForm = isAgencyRole(actor.viewer.role) || before.assignedAgencyId !== null;
    const dossier = await compileDossier(tx, {
      now,
      case: before,
      debtor: { fullName: debtor.fullName, nationalIdMasked: debtor.nationalIdMasked, language: debtor.language, timeZone: debtor.timeZone, jurisdiction: debtor.jurisdiction },
      // Only the debtor's own reachable contact points.
      contactPoints: own.map((cp) => ({ kind: cp.kind, value: cp.value })),
      address: { kind: address.kind, line1: address.line1, line2: address.line2, city: address.city, region: address.region, postalCode: address.postalCode, country: address.country },
      form: agencyForm ? 'AGENCY' : 'BANK',
      // The era the case is in: the agency holding it (its records and the bank's), or every era for the bank.
      era: agencyForm ? (before.assignedAgencyId ?? actor.viewer.agencyId ?? null) : undefined,
    });
    const visit = await tx.visit.create({ data: { caseId: before.id, agencyId: before.assignedAgencyId, addressId: address.id, purpose, dossier: dossier as unknown as Prisma.InputJsonValue, plannedById: actor.viewer.userId, createdAt: now, idempotencyKey: idempotency?.key ?? null, requestHash: idempotency?.hash ?? null } });
    return {
      result: { visit },
      events: [{ type: 'VISIT_PLANNED', summary: `Visit planned to the ${address.kind.toLowerCase()} address in ${address.city}`, data: { visitId: visit.id } }],
      auditData: { visitId: visit.id, addressId: address.id },
    };
  });
}

// ---------------------------------------------------------------- consent

/**
 * Consent to the visit (source: 在进入客户家中之前…征得客户的同意), tied to the contact attempt
 * that obtained it (outcome VISIT_CONSENT_GIVEN), for a window. After a withdrawal, only consent
 * obtained later counts.
 */
export async function recordVisitConsent(
  deps: Deps,
  actor: Actor,
  input: { visitId: string; contactAttemptId: string; windowStart: Date; windowEnd: Date; expectedVersion?: number | null },
) {
  return writeVisit(deps, actor, input.visitId, 'visit.consent', input.expectedVersion, async ({ tx, now, before }, visit) => {
    requireStatus(visit, ['PREPARING'], 'record consent for');
    if (input.windowEnd <= input.windowStart) throw new DomainError('VALIDATION', 'The consent window must end after it starts', 'windowEnd');
    if (input.windowEnd <= now) throw new DomainError('VALIDATION', 'The consent window is over', 'windowEnd');
    if (input.windowEnd.getTime() - input.windowStart.getTime() > 30 * 86_400_000) throw new DomainError('VALIDATION', 'Consent covers at most 30 days', 'windowEnd');
    const attempt = await tx.contactAttempt.findFirst({ where: { id: input.contactAttemptId, caseId: visit.caseId, ...agencyEra(actor.viewer) } });
    if (!attempt) throw new DomainError('NOT_FOUND', 'No such contact attempt on this case', 'contactAttemptId');
    if (attempt.outcome !== 'VISIT_CONSENT_GIVEN' || attempt.status !== 'COMPLETED') {
      throw new DomainError('CONSENT_REQUIRED', 'The contact attempt did not obtain consent to a visit', 'contactAttemptId');
    }
    const withdrawn = await tx.visitConsent.findFirst({ where: { caseId: visit.caseId, withdrawnAt: { not: null } }, orderBy: { withdrawnAt: 'desc' } });
    if (withdrawn && attempt.attemptedAt <= withdrawn.withdrawnAt!) {
      throw new DomainError('CONSENT_REQUIRED', 'Consent was withdrawn after that contact: new consent is needed', 'contactAttemptId');
    }
    const consent = await tx.visitConsent.create({
      // The era of whoever holds the case now, not the visit's: consent obtained by an agency on a bank-era visit is the agency's.
      data: { caseId: visit.caseId, agencyId: before.assignedAgencyId, contactAttemptId: attempt.id, windowStart: input.windowStart, windowEnd: input.windowEnd, recordedById: actor.viewer.userId, recordedAt: now },
    });
    return {
      visit: { consentId: consent.id },
      event: { type: 'VISIT_CONSENT_RECORDED', summary: `Consent to visit ${input.windowStart.toISOString()} – ${input.windowEnd.toISOString()}`, data: { consentId: consent.id } },
    };
  });
}

// ---------------------------------------------------------------- step 2: preparation

/** A collector may go on this case's visits: bank field staff, or a principal of the case's agency. */
function entitled(user: User, assignedAgencyId: string | null): boolean {
  if (user.role === 'BANK_COLLECTOR' || user.role === 'BANK_SUPERVISOR') return true;
  return (user.role === 'AGENCY_COLLECTOR' || user.role === 'AGENCY_MANAGER') && user.agencyId !== null && user.agencyId === assignedAgencyId;
}

function credentialValidOn(user: User, day: string): boolean {
  return !!user.credentialNumber && !!user.credentialExpiresOn && dateOnly(user.credentialExpiresOn) >= day;
}

export async function scheduleVisit(
  deps: Deps,
  actor: Actor,
  input: { visitId: string; collectorIds: string[]; windowStart: Date; windowEnd: Date; materials?: VisitMaterial[] | null; expectedVersion?: number | null },
) {
  return writeVisit(deps, actor, input.visitId, 'visit.schedule', input.expectedVersion, async ({ tx, now, before }, visit) => {
    requireStatus(visit, ['PREPARING'], 'schedule');
    await notOnHold(tx, visit.caseId, now);
    if (input.windowEnd <= input.windowStart) throw new DomainError('VALIDATION', 'The visit window must end after it starts', 'windowEnd');
    if (input.windowStart <= now) throw new DomainError('VALIDATION', 'The visit window must be in the future', 'windowStart');
    const consent = visit.consentId ? await tx.visitConsent.findUnique({ where: { id: visit.consentId } }) : null;
    if (!consent || consent.withdrawnAt) throw new DomainError('CONSENT_REQUIRED', "The debtor's consent to the visit has not been obtained and recorded", 'visitId');
    if (input.windowStart < consent.windowStart || input.windowEnd > consent.windowEnd) {
      throw new DomainError('CONSENT_REQUIRED', 'The visit window lies outside the window the debtor consented to', 'windowStart');
    }
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId } });
    const policy = await getContactPolicy(tx, debtor.jurisdiction);
    if (!withinLocalHours(input.windowStart, input.windowEnd, debtor.timeZone, policy.contactHoursStart, policy.contactHoursEnd)) {
      throw new DomainError('OUTSIDE_CONTACT_HOURS', `The visit window must lie within contact hours in the debtor's time zone (${debtor.timeZone})`, 'windowStart');
    }
    const ids = [...new Set(input.collectorIds)];
    if (ids.length < MIN_VISIT_COLLECTORS) throw new DomainError('VALIDATION', `A visit needs at least ${MIN_VISIT_COLLECTORS} collectors`, 'collectorIds');
    const users = await tx.user.findMany({ where: { id: { in: ids } } });
    const visitDay = localDate(input.windowEnd, debtor.timeZone);
    for (const id of ids) {
      const user = users.find((u) => u.id === id);
      if (!user || !user.active || !entitled(user, before.assignedAgencyId)) throw new DomainError('NOT_FOUND', 'A collector named is not one who may work this case', 'collectorIds');
      if (!credentialValidOn(user, visitDay)) {
        throw new DomainError('CREDENTIAL_INVALID', `${user.fullName} has no work credential valid on ${visitDay}`, 'collectorIds');
      }
    }
    await tx.visitParticipant.createMany({
      data: users.map((u) => ({ visitId: visit.id, agencyId: before.assignedAgencyId, userId: u.id, credentialNumber: u.credentialNumber!, credentialExpiresOn: u.credentialExpiresOn! })),
    });
    return {
      visit: { status: 'SCHEDULED', windowStart: input.windowStart, windowEnd: input.windowEnd, materials: input.materials?.length ? input.materials : ALL_MATERIALS },
      event: { type: 'VISIT_SCHEDULED', summary: `Visit scheduled ${input.windowStart.toISOString()} with ${users.map((u) => u.fullName).join(', ')}`, data: { collectorIds: ids } },
    };
  });
}

// ---------------------------------------------------------------- step 3: on site

export async function checkInVisit(
  deps: Deps,
  actor: Actor,
  input: { visitId: string; credentialsShown: { userId: string; credentialNumber: string }[]; occurredAt?: Date | null; expectedVersion?: number | null },
) {
  // The device's time of a step recorded offline, checked before anything is locked; else now.
  const device = input.occurredAt ? stepTime(input.occurredAt, deps.clock.now()) : null;
  return writeVisit(deps, actor, input.visitId, 'visit.checkIn', input.expectedVersion, async ({ tx, now, before }, visit) => {
    const at = device ?? now;
    requireStatus(visit, ['SCHEDULED'], 'check in to');
    await requireParticipant(tx, visit, actor);
    // Every rule at the time of the check-in (offline field work): the hold, the window, the consent, the credentials.
    await notOnHold(tx, visit.caseId, at);
    if (!visit.windowStart || !visit.windowEnd || at < visit.windowStart || at > visit.windowEnd) {
      throw new DomainError('VALIDATION', 'Check-in is only possible inside the scheduled window', input.occurredAt ? 'occurredAt' : 'visitId');
    }
    const consent = visit.consentId ? await tx.visitConsent.findUnique({ where: { id: visit.consentId } }) : null;
    if (!consent || (consent.withdrawnAt && consent.withdrawnAt <= at)) throw new DomainError('CONSENT_REQUIRED', 'Consent to the visit was withdrawn', 'visitId');
    const participants = await tx.visitParticipant.findMany({ where: { visitId: visit.id }, include: { user: true } });
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { timeZone: true } });
    const today = localDate(at, debtor.timeZone);
    for (const p of participants) {
      const shown = input.credentialsShown.find((c) => c.userId === p.userId);
      // Each collector shows the credential; it is checked again against who they are today.
      if (!shown) throw new DomainError('CREDENTIAL_INVALID', `${p.user.fullName} has not shown a credential`, 'credentialsShown');
      if (shown.credentialNumber.trim() !== p.user.credentialNumber || !p.user.active || !credentialValidOn(p.user, today) || !entitled(p.user, before.assignedAgencyId)) {
        throw new DomainError('CREDENTIAL_INVALID', `The credential shown for ${p.user.fullName} is not valid on ${today}`, 'credentialsShown');
      }
    }
    for (const p of participants) {
      await tx.visitParticipant.update({ where: { id: p.id }, data: { credentialShownAt: at, credentialShownNumber: p.user.credentialNumber } });
    }
    return {
      visit: { status: 'IN_PROGRESS', checkedInAt: at, checkInRecordedAt: now },
      event: { type: 'VISIT_CHECKED_IN', summary: `Collectors on site; credentials shown and checked${device && device < now ? ' (recorded offline)' : ''}`, occurredAt: at },
    };
  });
}

// ---------------------------------------------------------------- step 4: outcome

export async function completeVisit(
  deps: Deps,
  actor: Actor,
  input: {
    visitId: string;
    outcome: VisitOutcome;
    delinquencyReason?: DelinquencyReason | null;
    delinquencyReasonText?: string | null;
    consequencesExplained?: boolean | null;
    plansOffered?: PlanKind[] | null;
    occurredAt?: Date | null;
    expectedVersion?: number | null;
  },
) {
  const device = input.occurredAt ? stepTime(input.occurredAt, deps.clock.now()) : null;
  return writeVisit(deps, actor, input.visitId, 'visit.complete', input.expectedVersion, async ({ tx, now }, visit) => {
    const at = device ?? now;
    requireStatus(visit, ['IN_PROGRESS'], 'complete');
    await requireParticipant(tx, visit, actor);
    if (visit.checkedInAt && at < visit.checkedInAt) throw new DomainError('VALIDATION', 'The outcome cannot come before the check-in', 'occurredAt');
    if (input.outcome === 'CONSENT_WITHDRAWN') {
      // The visit ends at once; re-scheduling needs new consent. The withdrawal is the debtor's, for
      // the case: every consent obtained before it lapses (other visits' too), not just this visit's.
      await tx.visitConsent.updateMany({ where: { caseId: visit.caseId, withdrawnAt: null }, data: { withdrawnAt: at } });
      return {
        visit: { status: 'COMPLETED', outcome: 'CONSENT_WITHDRAWN', completedAt: at, completionRecordedAt: now },
        event: { type: 'VISIT_CONSENT_WITHDRAWN', summary: 'The debtor withdrew consent on site: the visit ended at once', occurredAt: at },
      };
    }
    if (input.outcome !== 'NOT_AT_HOME') {
      if (!input.delinquencyReason) throw new DomainError('VALIDATION', 'Record the reason for the delinquency', 'delinquencyReason');
      if (input.delinquencyReason === 'OTHER' && !input.delinquencyReasonText?.trim()) throw new DomainError('VALIDATION', 'Describe the other reason', 'delinquencyReasonText');
      if (input.consequencesExplained !== true) throw new DomainError('VALIDATION', 'The consequences of the delinquency must be explained to the debtor', 'consequencesExplained');
    }
    if (input.outcome === 'PLAN_AGREED' && !input.plansOffered?.length) throw new DomainError('VALIDATION', 'Name the plans offered', 'plansOffered');
    return {
      visit: {
        status: 'COMPLETED',
        outcome: input.outcome,
        completedAt: at,
        completionRecordedAt: now,
        delinquencyReason: input.delinquencyReason ?? null,
        delinquencyReasonText: input.delinquencyReasonText?.trim() || null,
        consequencesExplained: input.consequencesExplained ?? null,
        plansOffered: input.plansOffered ?? [],
      },
      event: { type: 'VISIT_COMPLETED', summary: `Visit completed: ${input.outcome}${device && device < now ? ' (recorded offline)' : ''}`, data: { outcome: input.outcome }, occurredAt: at },
    };
  });
}

// ---------------------------------------------------------------- step 5: follow-up

const EVIDENCE_REQUIRED: VisitOutcome[] = ['PROMISE_TO_PAY', 'PLAN_AGREED'];

export async function reportVisit(deps: Deps, actor: Actor, input: { visitId: string; report: string; expectedVersion?: number | null }) {
  const report = input.report.trim();
  if (report.length < 10) throw new DomainError('VALIDATION', 'Write the report (at least 10 characters)', 'report');
  return writeVisit(deps, actor, input.visitId, 'visit.report', input.expectedVersion, async ({ tx, now }, visit) => {
    requireStatus(visit, ['COMPLETED'], 'report');
    // Printed documents (issue 18) are what was carried, not what was signed: they do not count.
    const printed = await tx.visitDocument.findMany({ where: { visitId: visit.id }, select: { evidenceId: true } });
    const evidence = await tx.evidence.count({ where: { visitId: visit.id, id: { notIn: printed.map((p) => p.evidenceId) } } });
    // A promise or an agreement made at the door stands only with its signed letter (source step 4, 收集证据).
    if (visit.outcome && EVIDENCE_REQUIRED.includes(visit.outcome) && evidence === 0) {
      throw new DomainError('VALIDATION', 'Attach the signed promise letter or agreement to the visit before reporting', 'visitId');
    }
    return { visit: { status: 'REPORTED', report, reportedAt: now, reportedById: actor.viewer.userId }, event: { type: 'VISIT_REPORTED', summary: 'Visit report filed', data: { evidence } } };
  });
}

export async function decideVisit(
  deps: Deps,
  actor: Actor,
  input: { visitId: string; decision: VisitDecision; graceUntil?: Date | null; closeReason?: CloseReason | null; note?: string | null; expectedVersion?: number | null },
) {
  return writeVisit(deps, actor, input.visitId, 'visit.decide', input.expectedVersion, async ({ tx, now, before, event, audit }, visit) => {
    requireStatus(visit, ['REPORTED'], 'decide on');
    let caseData: Prisma.CaseUncheckedUpdateInput = {};
    let summary = `Decision: ${input.decision}`;
    if (input.decision === 'GRACE_PERIOD') {
      if (!input.graceUntil) throw new DomainError('VALIDATION', 'A grace period needs its end date', 'graceUntil');
      const today = parseDateOnly(localDate(now, BANK_TIME_ZONE));
      const days = daysBetween(today, input.graceUntil);
      const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true, timeZone: true } });
      const policy = await getContactPolicy(tx, debtor.jurisdiction);
      if (days < 1) throw new DomainError('VALIDATION', 'The grace period must end after today', 'graceUntil');
      if (days > policy.maxDeferralDays) throw new DomainError('VALIDATION', `A grace period may last at most ${policy.maxDeferralDays} days`, 'graceUntil');
      // No contact until then: a hold that ends by itself.
      const active = await tx.hold.findFirst({ where: { caseId: before.id, ...activeHoldWhere(now) } });
      if (!active) await tx.hold.create({ data: { caseId: before.id, agencyId: before.assignedAgencyId, reason: 'GRACE_PERIOD', note: input.note ?? 'grace period after a visit', startsAt: now, endsAt: input.graceUntil, placedById: actor.viewer.userId } });
      summary = `Grace period until ${dateOnly(input.graceUntil)}`;
    } else if (input.decision === 'ESCALATE_TO_LEGAL') {
      if (before.stage !== 'FIELD_VISIT') throw new DomainError('INVALID_TRANSITION', `A case in ${before.stage} cannot go to LEGAL`, 'decision');
      caseData = { stage: 'LEGAL' };
      summary = 'Escalated to legal after the visit';
      await event({ type: 'STAGE_CHANGED', summary: 'Stage FIELD_VISIT → LEGAL (visit decision)', data: { from: before.stage, to: 'LEGAL', visitId: visit.id } });
      await audit('case.changeStage', 'Case', before.id, { from: before.stage, to: 'LEGAL', visitId: visit.id }, input.note ?? null);
    } else if (input.decision === 'CLOSE') {
      if (!input.closeReason) throw new DomainError('VALIDATION', 'Closing needs a close reason', 'closeReason');
      if (input.closeReason === 'PAID_IN_FULL' && before.overdueTotal > 0n) throw new DomainError('VALIDATION', 'The case is not paid in full', 'closeReason');
      if (input.closeReason === 'WRITTEN_OFF') throw new DomainError('APPROVAL_REQUIRED', 'A write-off is proposed (proposeWriteOff) and approved by another person (approveWriteOff)', 'closeReason');
      await tx.placement.updateMany({ where: { caseId: before.id, endedAt: null }, data: { endedAt: now, endedById: actor.viewer.userId } });
      await tx.reminder.updateMany({ where: { caseId: before.id, status: 'SCHEDULED' }, data: { status: 'CANCELLED', cancelledAt: now, lastError: 'case closed' } });
      caseData = { stage: 'CLOSED', closedAt: now, closeReason: input.closeReason };
      summary = `Closed after the visit: ${input.closeReason}`;
      await event({ type: 'CASE_CLOSED', summary: `Closed: ${input.closeReason} (visit decision)`, data: { reason: input.closeReason, visitId: visit.id } });
      await audit('case.close', 'Case', before.id, { reason: input.closeReason, from: before.stage, visitId: visit.id }, input.note ?? null);
    }
    return {
      visit: { status: 'DECIDED', decision: input.decision, graceUntil: input.graceUntil ?? null, decisionNote: input.note ?? null, decidedAt: now, decidedById: actor.viewer.userId },
      event: { type: 'VISIT_DECIDED', summary, data: { decision: input.decision } },
      caseData,
      reason: input.note ?? null,
    };
  });
}

export async function cancelVisit(deps: Deps, actor: Actor, input: { visitId: string; reason: string; expectedVersion?: number | null }) {
  const reason = input.reason.trim();
  if (!reason) throw new DomainError('VALIDATION', 'Give the reason for the cancellation', 'reason');
  return writeVisit(deps, actor, input.visitId, 'visit.cancel', input.expectedVersion, async ({ now }, visit) => {
    requireStatus(visit, ['PREPARING', 'SCHEDULED', 'IN_PROGRESS'], 'cancel');
    return { visit: { status: 'CANCELLED', cancelReason: reason, cancelledAt: now }, event: { type: 'VISIT_CANCELLED', summary: `Visit cancelled: ${reason}` }, reason };
  });
}
