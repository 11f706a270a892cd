import { createHash } from 'node:crypto';
import type { PrismaClient, ContactPoint, ContactPolicy, Case, Debtor } from '../../generated/prisma/client.ts';
import type { ContactChannel, ContactDirection, ContactOutcome, Jurisdiction } from '../../generated/prisma/enums.ts';
import { DomainError, type UserErrorCode } from '../../lib/errors.ts';
import { idempotencyKeyOf, once } from '../../lib/idempotency.ts';
import type { Clock } from '../../lib/time.ts';
import type { Actor } from '../../lib/actor.ts';
import { auditActor } from '../../lib/actor.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import type { EventBus } from '../../events/bus.ts';
import { writeCase, type CaseEventInput } from '../cases/write.ts';
import { stepTime } from '../../lib/field-time.ts';
import { requireContactPointInEra, wrongNumberMark } from '../tracing/service.ts';
import { activeHoldWhere } from '../cases/queries.ts';
import { getContactPolicy } from '../policy/service.ts';
import { recordAudit } from '../audit/service.ts';
import { channelFits, evaluateContact, historyCountsFor, historyWindowStart, type PolicyDecision, type PolicyHistoryEntry, type PolicyRule } from '../policy/engine.ts';

export interface Deps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

/** How a refusing rule reaches the caller: the typed user error of API.md. */
export const RULE_ERROR: Record<PolicyRule, UserErrorCode> = {
  CASE_ON_HOLD: 'ON_HOLD',
  CEASE_CONTACT: 'DO_NOT_CONTACT',
  THIRD_PARTY: 'DO_NOT_CONTACT',
  DO_NOT_CONTACT: 'DO_NOT_CONTACT',
  CHANNEL_MISMATCH: 'VALIDATION',
  CONTACT_HOURS: 'OUTSIDE_CONTACT_HOURS',
  CONNECTED_CALLS_PER_DAY: 'CONTACT_LIMIT_REACHED',
  ATTEMPTS_PER_NUMBER_PER_DAY: 'CONTACT_LIMIT_REACHED',
  CALL_ATTEMPTS_PER_7_DAYS: 'CONTACT_LIMIT_REACHED',
  QUIET_AFTER_CONVERSATION: 'CONTACT_LIMIT_REACHED',
};

/** A conversation took place: the debtor was reached (what the per-day and quiet-period rules count). */
export const CONNECTED_OUTCOMES: readonly ContactOutcome[] = ['ANSWERED', 'PROMISE_TO_PAY', 'REFUSED', 'DISPUTE', 'VISIT_CONSENT_GIVEN', 'VISIT_CONSENT_REFUSED'];
const CALL_OUTCOMES: readonly ContactOutcome[] = ['NO_ANSWER', 'WRONG_NUMBER', ...CONNECTED_OUTCOMES];
const MESSAGE_OUTCOMES: readonly ContactOutcome[] = ['SENT', 'DELIVERED', 'FAILED', 'WRONG_NUMBER', 'DISPUTE', 'PROMISE_TO_PAY', 'VISIT_CONSENT_GIVEN', 'VISIT_CONSENT_REFUSED', 'REFUSED'];

export interface PolicyContext {
  case: Case;
  debtor: Debtor;
  contactPoint: ContactPoint | null;
  decision: PolicyDecision;
}

/** One contact to decide: this case's debtor, on this channel and contact point, at this instant. */
export interface ContactQuestion {
  case: Pick<Case, 'id' | 'debtorId'>;
  channel: ContactChannel;
  contactPointId: string | null;
  at: Date;
}

/** The answer to a ContactQuestion: the decision with what it was made from, or why no decision can be made. */
export type ContactAnswer = { debtor: Debtor; contactPoint: ContactPoint | null; policy: ContactPolicy; decision: PolicyDecision } | { error: DomainError };

const distinct = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

/**
 * The contact policy for many contacts at once (a dispatcher's batch, a page of cases): one read
 * per kind of fact for the whole set, not per contact, then the pure decision
 * (src/modules/policy/engine.ts) for each:
 * - the debtors, the contact points and the holds in force, each one statement over the ids;
 * - the contact policy per jurisdiction (`policyOf` lets a caller share them across calls);
 * - the contact history, only for the questions whose channel the counting rules govern
 *   (historyCountsFor: calls), in one statement over the debtors, bounded below by the earliest
 *   rule window (historyWindowStart) and above by the latest instant asked about; each question
 *   then sees only its own debtor's entries inside its own window.
 * The statement count is constant in the number of questions.
 */
export async function evaluateContactMany(
  /** The client, or the caller's transaction: every read goes through it (PGlite has one connection). */
  db: Tx | PrismaClient,
  questions: readonly ContactQuestion[],
  options: { policyOf?: (jurisdiction: Jurisdiction) => Promise<ContactPolicy> } = {},
): Promise<ContactAnswer[]> {
  if (questions.length === 0) return [];
  const pointIds = distinct(questions.flatMap((q) => (q.contactPointId ? [q.contactPointId] : [])));
  const [debtors, points, holds] = await Promise.all([
    db.debtor.findMany({ where: { id: { in: distinct(questions.map((q) => q.case.debtorId)) } } }),
    pointIds.length ? db.contactPoint.findMany({ where: { id: { in: pointIds } } }) : Promise.resolve([] as ContactPoint[]),
    db.hold.findMany({ where: { caseId: { in: distinct(questions.map((q) => q.case.id)) }, releasedAt: null }, select: { caseId: true, startsAt: true, endsAt: true, releasedAt: true } }),
  ]);
  const debtorById = new Map(debtors.map((d) => [d.id, d]));
  const pointById = new Map(points.map((p) => [p.id, p]));
  const holdsByCase = new Map<string, typeof holds>();
  for (const h of holds) {
    const list = holdsByCase.get(h.caseId);
    if (list) list.push(h);
    else holdsByCase.set(h.caseId, [h]);
  }
  const policyOf = options.policyOf ?? ((j: Jurisdiction) => getContactPolicy(db, j));
  const policies = new Map<Jurisdiction, ContactPolicy>();
  for (const j of distinct(debtors.map((d) => d.jurisdiction))) policies.set(j, await policyOf(j));

  // Validate each question; what cannot be decided gets its error (the single form throws it).
  type Checked = { debtor: Debtor; contactPoint: ContactPoint | null; policy: ContactPolicy; from: Date | null };
  const checked: (Checked | { error: DomainError })[] = questions.map((q) => {
    const debtor = debtorById.get(q.case.debtorId);
    if (!debtor) return { error: new DomainError('NOT_FOUND', 'No such debtor', 'caseId') };
    let contactPoint: ContactPoint | null = null;
    if (q.contactPointId) {
      contactPoint = pointById.get(q.contactPointId) ?? null;
      // A contact point of another debtor does not exist as far as this case is concerned.
      if (!contactPoint || contactPoint.debtorId !== debtor.id) return { error: new DomainError('NOT_FOUND', "No such contact point of the case's debtor", 'contactPointId') };
      if (!channelFits(q.channel, contactPoint.kind)) {
        return { error: new DomainError('VALIDATION', `${q.channel} cannot reach a ${contactPoint.kind.toLowerCase().replace('_', ' ')}`, 'channel') };
      }
    } else if (q.channel !== 'LETTER') {
      return { error: new DomainError('VALIDATION', `${q.channel} needs a contact point`, 'contactPointId') };
    }
    const policy = policies.get(debtor.jurisdiction)!;
    return { debtor, contactPoint, policy, from: historyCountsFor(q.channel) ? historyWindowStart(policy, q.at, debtor.timeZone) : null };
  });

  // One read of the outbound history for every question that counts it.
  const counted = checked.flatMap((c, i) => ('error' in c || c.from === null ? [] : [{ c, q: questions[i]! }]));
  const historyByDebtor = new Map<string, PolicyHistoryEntry[]>();
  if (counted.length) {
    // Reduced, not spread: any number of questions (a spread of many arguments overflows the stack).
    const from = new Date(counted.reduce((m, { c }) => Math.min(m, (c as Checked).from!.getTime()), Infinity));
    const to = new Date(counted.reduce((m, { q }) => Math.max(m, q.at.getTime()), -Infinity));
    const rows = await db.contactAttempt.findMany({
      // Outbound attempts only: a call the debtor makes to us is no contact attempt of ours.
      where: { debtorId: { in: distinct(counted.map(({ q }) => q.case.debtorId)) }, status: 'COMPLETED', direction: 'OUTBOUND', attemptedAt: { gte: from, lte: to } },
      select: { debtorId: true, attemptedAt: true, channel: true, contactPointId: true, connected: true, caseId: true },
    });
    for (const r of rows) {
      const list = historyByDebtor.get(r.debtorId);
      if (list) list.push(r);
      else historyByDebtor.set(r.debtorId, [r]);
    }
  }

  return checked.map((c, i) => {
    if ('error' in c) return c;
    const q = questions[i]!;
    const history = c.from === null ? [] : (historyByDebtor.get(c.debtor.id) ?? []).filter((h) => h.attemptedAt >= c.from! && h.attemptedAt <= q.at);
    const decision = evaluateContact({
      policy: c.policy,
      debtor: { timeZone: c.debtor.timeZone, ceaseContact: c.debtor.ceaseContact },
      contactPoint: c.contactPoint && { id: c.contactPoint.id, debtorOwn: c.contactPoint.party === 'DEBTOR', kind: c.contactPoint.kind, doNotContact: c.contactPoint.doNotContact },
      channel: q.channel,
      history,
      caseId: q.case.id,
      holds: holdsByCase.get(q.case.id) ?? [],
      at: q.at,
    });
    return { debtor: c.debtor, contactPoint: c.contactPoint, policy: c.policy, decision };
  });
}

/**
 * Everything the contact policy needs for one contact, read with indexed queries bounded by the
 * rule windows (never the whole history), then the pure decision: evaluateContactMany for one.
 */
export async function evaluateCaseContact(
  /** The client, or the caller's transaction: every read goes through it (PGlite has one connection). */
  db: Tx | PrismaClient,
  c: Case,
  input: { channel: ContactChannel; contactPointId: string | null; at: Date },
): Promise<PolicyContext> {
  const [answer] = await evaluateContactMany(db, [{ case: c, ...input }]);
  if ('error' in answer!) throw answer.error;
  return { case: c, debtor: answer!.debtor, contactPoint: answer!.contactPoint, decision: answer!.decision };
}

/** The contactPermission query: may I dial now? Reads only; the viewer must see the case. */
export async function contactPermission(deps: Deps, actor: Actor, input: { caseId: string; channel: ContactChannel; contactPointId: string; at?: Date | null }) {
  const c = await deps.prisma.case.findFirst({ where: { id: input.caseId, ...caseVisibility(actor.viewer) } });
  if (!c) throw new DomainError('NOT_FOUND', 'No such case', 'caseId');
  await requireContactPointInEra(deps.prisma, actor, input.contactPointId);
  const ctx = await evaluateCaseContact(deps.prisma, c, { channel: input.channel, contactPointId: input.contactPointId, at: input.at ?? deps.clock.now() });
  return ctx.decision;
}

export interface LogContactAttemptInput {
  caseId: string;
  contactPointId?: string | null;
  channel: ContactChannel;
  direction?: ContactDirection | null;
  /** When it happened (a field app offline): at most 72 h back. */
  occurredAt?: Date | null;
  /** @deprecated the same as occurredAt. */
  attemptedAt?: Date | null;
  outcome: ContactOutcome;
  notes?: string | null;
  recordingEvidenceId?: string | null;
}

/**
 * What a person did on a channel. It happened, so it is always recorded: an attempt the policy
 * would have refused is kept, flagged as a violation, and raised in the audit log. A wrong number
 * marks the contact point (no more contact there); a dispute puts the case on hold.
 */
export async function logContactAttempt(deps: Deps, actor: Actor, input: LogContactAttemptInput) {
  const now = deps.clock.now();
  // Offline field work: judged at when it happened (the device's time), recorded now.
  const at = input.occurredAt ? stepTime(input.occurredAt, now, 'occurredAt') : stepTime(input.attemptedAt, now, 'attemptedAt');
  const allowed = input.channel === 'CALL' ? CALL_OUTCOMES : MESSAGE_OUTCOMES;
  if (!allowed.includes(input.outcome)) throw new DomainError('VALIDATION', `${input.outcome} is not an outcome of ${input.channel}`, 'outcome');
  const notes = (input.notes ?? '').trim();
  if (notes.length > 4000) throw new DomainError('VALIDATION', 'notes: at most 4000 characters', 'notes');

  return writeCase(deps, actor, input.caseId, { action: 'contact.log' }, async ({ tx, before }) => {
    // Outbound contact is what the policy governs; an inbound call from the debtor is not a contact attempt by us.
    const direction = input.direction ?? 'OUTBOUND';
    await requireContactPointInEra(tx, actor, input.contactPointId);
    const ctx = await evaluateCaseContact(tx, before, { channel: input.channel, contactPointId: input.contactPointId ?? null, at });
    const violation = direction === 'OUTBOUND' && !ctx.decision.allowed ? ctx.decision : null;
    if (input.recordingEvidenceId && !(await tx.evidence.count({ where: { id: input.recordingEvidenceId, caseId: before.id, ...agencyEra(actor.viewer) } }))) {
      throw new DomainError('NOT_FOUND', 'No such evidence on this case', 'recordingEvidenceId');
    }
    const attempt = await tx.contactAttempt.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        debtorId: before.debtorId,
        contactPointId: ctx.contactPoint?.id ?? null,
        channel: input.channel,
        direction,
        attemptedAt: at,
        outcome: input.outcome,
        connected: CONNECTED_OUTCOMES.includes(input.outcome),
        rule: violation?.rule ?? null,
        violation: violation !== null,
        notes,
        recordingEvidenceId: input.recordingEvidenceId ?? null,
        actorId: actor.viewer.userId,
        recordedAt: now,
      },
    });
    const events: CaseEventInput[] = [{ type: 'CONTACT_ATTEMPTED', summary: `${input.channel} ${direction.toLowerCase()}: ${input.outcome}${violation ? ` (policy violation: ${violation.rule})` : ''}`, data: { attemptId: attempt.id, outcome: input.outcome }, ...(input.occurredAt || input.attemptedAt ? { occurredAt: at } : {}) }];
    if (violation) {
      await recordAudit(tx, auditActor(actor), now, {
        action: 'contact.policyViolation',
        entityType: 'ContactAttempt',
        entityId: attempt.id,
        caseId: before.id,
        data: { rule: violation.rule, message: violation.message, channel: input.channel, attemptedAt: at.toISOString() },
      });
    }
    if (input.outcome === 'WRONG_NUMBER' && ctx.contactPoint) {
      await tx.contactPoint.update({ where: { id: ctx.contactPoint.id }, data: wrongNumberMark(at, now, notes || 'a call reached someone else') });
      events.push({ type: 'CONTACT_POINT_MARKED', summary: 'Wrong number: the contact point is no longer used', data: { contactPointId: ctx.contactPoint.id } as never });
    }
    if (input.outcome === 'DISPUTE' && !(await tx.hold.findFirst({ where: { caseId: before.id, ...activeHoldWhere(now) } }))) {
      const hold = await tx.hold.create({ data: { caseId: before.id, agencyId: before.assignedAgencyId, reason: 'DISPUTE', note: notes || 'disputed in a contact', startsAt: now, placedById: actor.viewer.userId } });
      events.push({ type: 'HOLD_PLACED', summary: 'On hold: DISPUTE raised in a contact', data: { holdId: hold.id } as never });
    }
    return { result: { attempt, violation }, events, auditData: { attemptId: attempt.id, violation: violation?.rule ?? null } };
  });
}

// ---------------------------------------------------------------- reminders (the outbox)

export interface ScheduleReminderInput {
  caseId: string;
  contactPointId: string;
  channel: ContactChannel;
  templateKey: string;
  scheduledAt: Date;
  idempotencyKey: string;
}

function reminderHash(i: ScheduleReminderInput): string {
  return createHash('sha256').update(JSON.stringify([i.caseId, i.contactPointId, i.channel, i.templateKey, i.scheduledAt.toISOString()])).digest('hex');
}

/**
 * Puts a reminder in the outbox. The policy is checked at the scheduled instant now and again at
 * send time. A refused reminder is recorded as BLOCKED with its rule, and the caller gets the typed error.
 */
export async function scheduleReminder(deps: Deps, actor: Actor | null, input: ScheduleReminderInput, options: { automatic?: boolean; dunningRuleId?: string | null } = {}) {
  const key = idempotencyKeyOf(input.idempotencyKey);
  const now = deps.clock.now();
  if (input.scheduledAt.getTime() < now.getTime() - 60_000) throw new DomainError('VALIDATION', 'scheduledAt is in the past', 'scheduledAt');
  if (input.channel === 'CALL') throw new DomainError('VALIDATION', 'Calls are made by people and logged with logContactAttempt', 'channel');
  const hash = reminderHash({ ...input, idempotencyKey: key });
  return once({
    what: 'another reminder',
    hash,
    find: () => deps.prisma.reminder.findUnique({ where: { idempotencyKey: key } }),
    visible: async (existing) => (actor ? (await deps.prisma.case.count({ where: { id: existing.caseId, ...caseVisibility(actor.viewer) } })) > 0 : true),
    replay: async (existing) => ({ reminder: existing, case: await deps.prisma.case.findUniqueOrThrow({ where: { id: existing.caseId } }), refusal: null, replayed: true }),
    write: () => writeReminder(deps, actor, input, key, hash, options),
  });
}

async function writeReminder(deps: Deps, actor: Actor | null, input: ScheduleReminderInput, key: string, hash: string, options: { automatic?: boolean; dunningRuleId?: string | null }) {
  return writeCase(deps, actor, input.caseId, { action: 'reminder.schedule', system: actor === null }, async ({ tx, before }) => {
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { language: true } });
    const template = await tx.messageTemplate.findUnique({ where: { key_channel_language: { key: input.templateKey, channel: input.channel, language: debtor.language } } });
    if (!template) {
      const other = await tx.messageTemplate.count({ where: { key: input.templateKey } });
      throw new DomainError('VALIDATION', other ? `Template ${input.templateKey} has no ${input.channel} text in ${debtor.language}` : `Unknown template ${input.templateKey}`, 'templateKey');
    }
    await requireContactPointInEra(tx, actor, input.contactPointId);
    const ctx = await evaluateCaseContact(tx, before, { channel: input.channel, contactPointId: input.contactPointId, at: input.scheduledAt });
    const refusal = ctx.decision.allowed ? null : ctx.decision;
    const reminder = await tx.reminder.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        contactPointId: input.contactPointId,
        channel: input.channel,
        templateKey: input.templateKey,
        language: debtor.language,
        scheduledAt: input.scheduledAt,
        nextAttemptAt: input.scheduledAt,
        status: refusal ? 'BLOCKED' : 'SCHEDULED',
        blockedRule: refusal?.rule ?? null,
        idempotencyKey: key,
        requestHash: hash,
        automatic: options.automatic ?? false,
        dunningRuleId: options.dunningRuleId ?? null,
        createdById: actor?.viewer.userId ?? null,
        createdAt: deps.clock.now(),
      },
    });
    if (refusal) {
      await tx.contactAttempt.create({
        data: { caseId: before.id, agencyId: before.assignedAgencyId, debtorId: before.debtorId, contactPointId: input.contactPointId, channel: input.channel, attemptedAt: deps.clock.now(), status: 'BLOCKED', rule: refusal.rule, reminderId: reminder.id, notes: refusal.message, actorId: actor?.viewer.userId ?? null },
      });
    }
    return {
      result: { reminder, refusal, replayed: false },
      events: [
        refusal
          ? { type: 'REMINDER_BLOCKED', summary: `${input.channel} reminder blocked: ${refusal.rule}`, data: { reminderId: reminder.id, rule: refusal.rule } }
          : { type: 'REMINDER_SCHEDULED', summary: `${input.channel} reminder scheduled for ${input.scheduledAt.toISOString()}`, data: { reminderId: reminder.id } },
      ],
      auditData: { reminderId: reminder.id, blocked: refusal?.rule ?? null },
    };
  });
}

export async function cancelReminder(deps: Deps, actor: Actor, input: { reminderId: string; reason?: string | null }) {
  const found = await deps.prisma.reminder.findFirst({ where: { id: input.reminderId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) } });
  if (!found) throw new DomainError('NOT_FOUND', 'No such reminder', 'reminderId');
  return writeCase(deps, actor, found.caseId, { action: 'reminder.cancel', field: 'reminderId' }, async ({ tx, now }) => {
    // Only one not yet handed to a provider: a conditional update, so a dispatcher that just claimed it wins.
    const res = await tx.reminder.updateMany({ where: { id: found.id, status: 'SCHEDULED' }, data: { status: 'CANCELLED', cancelledAt: now, lastError: input.reason ?? 'cancelled' } });
    if (res.count === 0) throw new DomainError('INVALID_TRANSITION', 'Only a reminder not yet sent can be cancelled', 'reminderId');
    const reminder = await tx.reminder.findUniqueOrThrow({ where: { id: found.id } });
    return { result: { reminder }, events: [{ type: 'REMINDER_CANCELLED', summary: 'Reminder cancelled', data: { reminderId: found.id } }], auditData: { reminderId: found.id }, reason: input.reason ?? null };
  });
}
