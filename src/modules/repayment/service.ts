import type { Case, PrismaClient } from '../../generated/prisma/client.ts';
import type { PaymentChannel, PlanKind } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { idempotencyKeyOf, once, requestHash } from '../../lib/idempotency.ts';
import { dateOnly, daysBetween, localDate, parseDateOnly, BANK_TIME_ZONE, type Clock } from '../../lib/time.ts';
import type { Actor } from '../../lib/actor.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import type { EventBus } from '../../events/bus.ts';
import { isEnded, writeCase } from '../cases/write.ts';
import { getContactPolicy } from '../policy/service.ts';
import { buildSchedule, checkPlanTerm, MAX_INSTALMENTS, type PlanFrequency } from './schedule.ts';
import { allocatePayment, instalmentStatusAfter, promiseStatusAfter, type OpenObligation } from './allocation.ts';

export interface Deps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

const today = (now: Date) => parseDateOnly(localDate(now, BANK_TIME_ZONE));

function positiveAmount(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value <= 0) throw new DomainError('VALIDATION', `${field} must be a whole number of minor units above zero`, field);
  return BigInt(value);
}

function sameCurrency(c: Case, currency: string) {
  if (currency !== c.currency) throw new DomainError('VALIDATION', `The case is in ${c.currency}, not ${currency}`, 'currency');
}

/** A case's status from its money: paid, an open promise or active plan, or back in the queue. */
async function statusFromObligations(tx: Tx, c: Case): Promise<Case['status']> {
  if (c.overdueTotal === 0n) return 'PAID';
  const active = await tx.repaymentPlan.count({ where: { caseId: c.id, status: 'ACTIVE' } });
  const open = await tx.promiseToPay.count({ where: { caseId: c.id, status: { in: ['OPEN', 'PARTIAL'] } } });
  if (active || open) return 'PROMISED';
  return c.status === 'BROKEN_PROMISE' ? 'BROKEN_PROMISE' : 'OPEN';
}

// ---------------------------------------------------------------- promises to pay

export interface RecordPromiseInput {
  caseId: string;
  amount: number;
  currency: string;
  promisedFor: Date;
  contactAttemptId?: string | null;
  visitId?: string | null;
  expectedVersion?: number | null;
  /** Optional: the same key records the promise once; a retry replays it. */
  idempotencyKey?: string | null;
}

export async function recordPromiseToPay(deps: Deps, actor: Actor, input: RecordPromiseInput) {
  const amount = positiveAmount(input.amount, 'amount');
  if (input.idempotencyKey == null) return writePromise(deps, actor, input, amount, null);
  const key = idempotencyKeyOf(input.idempotencyKey);
  const hash = requestHash([input.caseId, input.amount, input.currency, dateOnly(input.promisedFor), input.contactAttemptId ?? null, input.visitId ?? null]);
  return once({
    what: 'another promise',
    hash,
    find: () => deps.prisma.promiseToPay.findUnique({ where: { idempotencyKey: key } }),
    visible: async (existing) => (await deps.prisma.case.count({ where: { id: existing.caseId, ...caseVisibility(actor.viewer) } })) > 0,
    replay: async (existing) => ({ promise: existing, case: await deps.prisma.case.findUniqueOrThrow({ where: { id: existing.caseId } }), replayed: true }),
    write: () => writePromise(deps, actor, input, amount, { key, hash }),
  });
}

async function writePromise(deps: Deps, actor: Actor, input: RecordPromiseInput, amount: bigint, idempotency: { key: string; hash: string } | null) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'promise.record' }, async ({ tx, now, before }) => {
    sameCurrency(before, input.currency);
    if (amount > before.overdueTotal) throw new DomainError('VALIDATION', `The case owes ${before.overdueTotal}; a promise cannot exceed it`, 'amount');
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true } });
    // Read inside the transaction: on the embedded store (one connection) a read outside it waits until the transaction times out.
    const policy = await getContactPolicy(tx, debtor.jurisdiction);
    const days = daysBetween(today(now), input.promisedFor);
    if (days < 0) throw new DomainError('VALIDATION', 'The promised date is in the past', 'promisedFor');
    if (days > policy.maxPromiseDays) throw new DomainError('VALIDATION', `A promise may be at most ${policy.maxPromiseDays} days ahead`, 'promisedFor');
    if (input.contactAttemptId && !(await tx.contactAttempt.count({ where: { id: input.contactAttemptId, caseId: before.id, ...agencyEra(actor.viewer) } }))) {
      throw new DomainError('NOT_FOUND', 'No such contact attempt on this case', 'contactAttemptId');
    }
    if (input.visitId && !(await tx.visit.count({ where: { id: input.visitId, caseId: before.id, ...agencyEra(actor.viewer) } }))) {
      throw new DomainError('NOT_FOUND', 'No such visit on this case', 'visitId');
    }
    const promise = await tx.promiseToPay.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        amount,
        currency: before.currency,
        promisedFor: input.promisedFor,
        capturedById: actor.viewer.userId,
        contactAttemptId: input.contactAttemptId ?? null,
        visitId: input.visitId ?? null,
        createdAt: now,
        idempotencyKey: idempotency?.key ?? null,
        requestHash: idempotency?.hash ?? null,
      },
    });
    return {
      result: { promise, replayed: false },
      data: { status: 'PROMISED' },
      events: [{ type: 'PROMISE_RECORDED', summary: `Promise to pay ${amount} by ${dateOnly(input.promisedFor)}`, data: { promiseId: promise.id, amount: `${amount}`, promisedFor: dateOnly(input.promisedFor) } }],
      auditData: { promiseId: promise.id, amount: `${amount}` },
    };
  });
}

// ---------------------------------------------------------------- repayment plans

export interface ProposePlanInput {
  caseId: string;
  kind: PlanKind;
  /** What the plan collects; default: the whole overdue amount. A settlement's is the reduced lump sum. */
  totalAmount?: number | null;
  currency: string;
  instalmentCount?: number | null;
  frequency?: PlanFrequency | null;
  firstDueDate: Date;
  note?: string | null;
  expectedVersion?: number | null;
}

const SUPERVISORS = ['BANK_SUPERVISOR', 'BANK_ADMIN'];
/** A plan starts within a year (issue 11: a plan starting in 2100 was accepted). */
export const MAX_PLAN_START_DAYS = 365;

export async function proposeRepaymentPlan(deps: Deps, actor: Actor, input: ProposePlanInput) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'plan.propose' }, async ({ tx, now, before }) => {
    sameCurrency(before, input.currency);
    const balance = before.overdueTotal;
    if (balance <= 0n) throw new DomainError('VALIDATION', 'Nothing is owed on the case', 'caseId');
    const total = input.totalAmount == null ? balance : positiveAmount(input.totalAmount, 'totalAmount');
    if (total > balance) throw new DomainError('VALIDATION', `The case owes ${balance}; a plan cannot collect more`, 'totalAmount');
    const start = today(now);
    if (input.firstDueDate < start) throw new DomainError('VALIDATION', 'The first due date is in the past', 'firstDueDate');
    if (daysBetween(start, input.firstDueDate) > MAX_PLAN_START_DAYS) throw new DomainError('VALIDATION', `A plan starts within ${MAX_PLAN_START_DAYS} days: the first due date is later`, 'firstDueDate');
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true } });
    // Read inside the transaction: on the embedded store (one connection) a read outside it waits until the transaction times out.
    const policy = await getContactPolicy(tx, debtor.jurisdiction);

    let count = 1;
    let frequency: PlanFrequency | null = null;
    let discount = 0n;
    if (input.kind === 'INSTALMENTS') {
      count = input.instalmentCount ?? 0;
      frequency = input.frequency ?? null;
      if (!Number.isInteger(count) || count < 2 || count > MAX_INSTALMENTS) throw new DomainError('VALIDATION', `An instalment plan has 2 to ${MAX_INSTALMENTS} instalments`, 'instalmentCount');
      if (!frequency) throw new DomainError('VALIDATION', 'An instalment plan needs a frequency', 'frequency');
      if (total < BigInt(count)) throw new DomainError('VALIDATION', 'Each instalment must be at least one minor unit', 'instalmentCount');
      if (total !== balance) throw new DomainError('VALIDATION', 'An instalment plan collects the whole overdue amount', 'totalAmount');
    } else if (input.kind === 'DEFERRAL') {
      if (input.instalmentCount != null && input.instalmentCount !== 1) throw new DomainError('VALIDATION', 'A deferral is one payment on a new date', 'instalmentCount');
      if (total !== balance) throw new DomainError('VALIDATION', 'A deferral collects the whole overdue amount', 'totalAmount');
      if (daysBetween(start, input.firstDueDate) > policy.maxDeferralDays) {
        throw new DomainError('VALIDATION', `A deferral may be at most ${policy.maxDeferralDays} days ahead`, 'firstDueDate');
      }
    } else {
      if (input.instalmentCount != null && input.instalmentCount !== 1) throw new DomainError('VALIDATION', 'A settlement is one lump sum', 'instalmentCount');
      if (input.totalAmount == null || total >= balance) throw new DomainError('VALIDATION', 'A settlement is a reduced lump sum: give a totalAmount below the overdue amount', 'totalAmount');
      discount = balance - total;
      // A discount above the policy's threshold needs a supervisor (DOMAIN.md: "A settlement's discount needs a supervisor").
      // Compared exactly: floor(bps) would let 20.0098% pass a 20% threshold. The message rounds up.
      const bps = Number((discount * 10_000n + balance - 1n) / balance);
      if (discount * 10_000n > BigInt(policy.settlementDiscountThresholdBps) * balance && !SUPERVISORS.includes(actor.viewer.role)) {
        throw new DomainError('APPROVAL_REQUIRED', `A discount of ${(bps / 100).toFixed(2)}% is above the ${(policy.settlementDiscountThresholdBps / 100).toFixed(2)}% a collector may propose: a supervisor must propose it`, 'totalAmount');
      }
    }
    const schedule = buildSchedule({ total, count, frequency, firstDueDate: input.firstDueDate });
    const term = checkPlanTerm(input.firstDueDate, schedule[schedule.length - 1]!.dueDate);
    if (!term.ok) throw new DomainError('VALIDATION', term.reason, 'instalmentCount');

    const plan = await tx.repaymentPlan.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        kind: input.kind,
        currency: before.currency,
        totalAmount: total,
        discountAmount: discount,
        instalmentCount: count,
        frequency,
        firstDueDate: input.firstDueDate,
        proposedById: actor.viewer.userId,
        proposedAt: now,
        decisionNote: input.note?.trim() || null,
        instalments: { create: schedule.map((i) => ({ seq: i.seq, agencyId: before.assignedAgencyId, dueDate: i.dueDate, amount: i.amount })) },
      },
    });
    return {
      result: { plan },
      events: [{ type: 'PLAN_PROPOSED', summary: `${input.kind} plan proposed: ${total} in ${count} payment(s)`, data: { planId: plan.id, kind: input.kind, total: `${total}`, discount: `${discount}` } }],
      auditData: { planId: plan.id, kind: input.kind, total: `${total}`, discount: `${discount}`, count },
    };
  });
}

/** Ends the case's open promises as SUPERSEDED (what they were paid so far stays on them); returns their ids. */
async function supersedeOpenPromises(tx: Tx, caseId: string, now: Date): Promise<string[]> {
  const open = await tx.promiseToPay.findMany({ where: { caseId, status: { in: ['OPEN', 'PARTIAL'] } }, select: { id: true }, orderBy: { createdAt: 'asc' } });
  if (open.length) await tx.promiseToPay.updateMany({ where: { id: { in: open.map((p) => p.id) } }, data: { status: 'SUPERSEDED', settledAt: now } });
  return open.map((p) => p.id);
}

async function planForDecision(deps: Deps, actor: Actor, planId: string) {
  const plan = await deps.prisma.repaymentPlan.findFirst({ where: { id: planId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) } });
  if (!plan) throw new DomainError('NOT_FOUND', 'No such repayment plan', 'planId');
  return plan;
}

/** Maker-checker: a supervisor who did not propose the plan approves it; it becomes ACTIVE. */
export async function approveRepaymentPlan(deps: Deps, actor: Actor, input: { planId: string; note?: string | null; expectedVersion?: number | null }) {
  const found = await planForDecision(deps, actor, input.planId);
  return writeCase(deps, actor, found.caseId, { expectedVersion: input.expectedVersion, action: 'plan.approve', field: 'planId' }, async ({ tx, now, before }) => {
    const plan = await tx.repaymentPlan.findUniqueOrThrow({ where: { id: found.id } });
    if (plan.status !== 'PROPOSED') throw new DomainError('INVALID_TRANSITION', `The plan is ${plan.status}, not PROPOSED`, 'planId');
    if (plan.proposedById === actor.viewer.userId) throw new DomainError('APPROVAL_REQUIRED', 'Another supervisor must approve a plan you proposed', 'planId');
    if (await tx.repaymentPlan.count({ where: { caseId: before.id, status: 'ACTIVE' } })) {
      throw new DomainError('INVALID_TRANSITION', 'The case already has an active plan: cancel it first', 'planId');
    }
    if (plan.totalAmount > before.overdueTotal) throw new DomainError('VALIDATION', 'The case now owes less than the plan collects: propose it again', 'planId');
    const approved = await tx.repaymentPlan.update({
      where: { id: plan.id },
      data: { status: 'ACTIVE', decidedById: actor.viewer.userId, decidedAt: now, activatedAt: now, decisionNote: input.note?.trim() || plan.decisionNote },
    });
    // DOMAIN.md: the plan supersedes the case's open promises; from now on payments go to its
    // instalments (issue 13: a payment of exactly instalment 1 went wholly to an older promise).
    const superseded = await supersedeOpenPromises(tx, before.id, now);
    const events = [{ type: 'PLAN_APPROVED', summary: `${plan.kind} plan approved and active`, data: { planId: plan.id, promisesSuperseded: superseded } }];
    if (superseded.length) {
      events.push({ type: 'PROMISES_SUPERSEDED', summary: `${superseded.length} open promise(s) superseded by the plan`, data: { planId: plan.id, promisesSuperseded: superseded } });
    }
    return {
      result: { plan: approved },
      data: { status: 'PROMISED' },
      events,
      auditData: { planId: plan.id, proposedById: plan.proposedById, promisesSuperseded: superseded },
      reason: input.note ?? null,
    };
  });
}

export async function rejectRepaymentPlan(deps: Deps, actor: Actor, input: { planId: string; reason: string; expectedVersion?: number | null }) {
  const reason = input.reason.trim();
  if (!reason) throw new DomainError('VALIDATION', 'Give the reason for the rejection', 'reason');
  const found = await planForDecision(deps, actor, input.planId);
  return writeCase(deps, actor, found.caseId, { expectedVersion: input.expectedVersion, action: 'plan.reject', field: 'planId' }, async ({ tx, now }) => {
    const plan = await tx.repaymentPlan.findUniqueOrThrow({ where: { id: found.id } });
    if (plan.status !== 'PROPOSED') throw new DomainError('INVALID_TRANSITION', `The plan is ${plan.status}, not PROPOSED`, 'planId');
    if (plan.proposedById === actor.viewer.userId) throw new DomainError('APPROVAL_REQUIRED', 'Another supervisor must decide on a plan you proposed', 'planId');
    const rejected = await tx.repaymentPlan.update({ where: { id: plan.id }, data: { status: 'REJECTED', decidedById: actor.viewer.userId, decidedAt: now, decisionNote: reason } });
    return { result: { plan: rejected }, events: [{ type: 'PLAN_REJECTED', summary: `Plan rejected: ${reason}`, data: { planId: plan.id } }], auditData: { planId: plan.id }, reason };
  });
}

export async function cancelRepaymentPlan(deps: Deps, actor: Actor, input: { planId: string; reason: string; expectedVersion?: number | null }) {
  const reason = input.reason.trim();
  if (!reason) throw new DomainError('VALIDATION', 'Give the reason for the cancellation', 'reason');
  const found = await planForDecision(deps, actor, input.planId);
  return writeCase(deps, actor, found.caseId, { expectedVersion: input.expectedVersion, action: 'plan.cancel', field: 'planId' }, async ({ tx, now, before }) => {
    const plan = await tx.repaymentPlan.findUniqueOrThrow({ where: { id: found.id } });
    if (plan.status !== 'PROPOSED' && plan.status !== 'ACTIVE') throw new DomainError('INVALID_TRANSITION', `A ${plan.status} plan cannot be cancelled`, 'planId');
    // A proposer may withdraw their own proposal; an active plan is the bank's to end.
    const mayCancel = SUPERVISORS.includes(actor.viewer.role) || (plan.status === 'PROPOSED' && plan.proposedById === actor.viewer.userId);
    if (!mayCancel) throw new DomainError('FORBIDDEN_ACTION', 'Only a supervisor cancels an active plan, or the proposer their proposal', 'planId');
    const cancelled = await tx.repaymentPlan.update({ where: { id: plan.id }, data: { status: 'CANCELLED', cancelledAt: now, cancelReason: reason } });
    const status = plan.status === 'ACTIVE' ? await statusFromObligations(tx, { ...before, status: before.status === 'PROMISED' ? 'OPEN' : before.status }) : before.status;
    return { result: { plan: cancelled }, data: { status }, events: [{ type: 'PLAN_CANCELLED', summary: `Plan cancelled: ${reason}`, data: { planId: plan.id } }], auditData: { planId: plan.id }, reason };
  });
}

// ---------------------------------------------------------------- payments

export interface RecordPaymentInput {
  caseId: string;
  amount: number;
  currency: string;
  receivedAt: Date;
  channel: PaymentChannel;
  externalReference?: string | null;
  idempotencyKey: string;
}

function paymentHash(i: RecordPaymentInput): string {
  return requestHash([i.caseId, i.amount, i.currency, i.receivedAt.toISOString(), i.channel, i.externalReference?.trim() || null]);
}

const CLOCK_SKEW_MS = 5 * 60_000;
/** The bank's own payment reference (a transfer's reference, a receipt number). */
export const MAX_EXTERNAL_REFERENCE_LENGTH = 100;

/**
 * What a payment changed besides its allocation lines, kept on the payment when it is recorded so
 * that a reversal puts back exactly that (amounts as decimal strings: JSON has no bigint).
 */
export interface PaymentEffects {
  /** By how much each part of the overdue amount went down: fees, then interest, then principal. */
  applied: { principal: string; interest: string; fees: string };
  /** What a completed settlement forgave. */
  forgiven: { principal: string; interest: string; fees: string };
  stageBefore: Case['stage'];
  statusBefore: Case['status'];
  /** Paid in full: the case was resolved by this payment. */
  resolved: boolean;
  /** Plans this payment completed (their last instalment, or paid in full). */
  plansCompleted: string[];
  /** Promises closed as KEPT because the case was paid in full (without a line of their own). */
  promisesKept: string[];
}

/** A payment received is plausible: not before the account was opened (or, unknown, before the first missed due date). The future is checked before. */
async function checkReceivedAt(tx: Tx, before: Case, receivedAt: Date) {
  const account = await tx.cardAccount.findUniqueOrThrow({ where: { id: before.accountId }, select: { openedOn: true } });
  const floor = account.openedOn ?? before.dueDate;
  if (receivedAt.getTime() < floor.getTime()) {
    throw new DomainError(
      'VALIDATION',
      `receivedAt ${dateOnly(receivedAt)} is before ${account.openedOn ? 'the account was opened' : "the case's first missed due date"} (${dateOnly(floor)})`,
      'receivedAt',
    );
  }
}

/**
 * A payment, exactly once per idempotency key: a retry with the same content returns the first
 * payment; the same key with other content is refused. Applied to the case's balance (fees, then
 * interest, then principal), to open promises and instalments first in first out; what exceeds
 * the balance is kept as credit. Paid in full, the case is resolved and scheduled reminders stop.
 */
export async function recordPayment(deps: Deps, actor: Actor, input: RecordPaymentInput) {
  const key = idempotencyKeyOf(input.idempotencyKey);
  const amount = positiveAmount(input.amount, 'amount');
  if (input.receivedAt.getTime() > deps.clock.now().getTime() + CLOCK_SKEW_MS) throw new DomainError('VALIDATION', 'receivedAt is in the future', 'receivedAt');
  const externalReference = input.externalReference?.trim() || null;
  if (externalReference && externalReference.length > MAX_EXTERNAL_REFERENCE_LENGTH) {
    throw new DomainError('VALIDATION', `externalReference: at most ${MAX_EXTERNAL_REFERENCE_LENGTH} characters`, 'externalReference');
  }
  const hash = paymentHash({ ...input, idempotencyKey: key });
  return once({
    what: 'another payment',
    hash,
    find: () => deps.prisma.payment.findUnique({ where: { idempotencyKey: key } }),
    visible: async (existing) => (await deps.prisma.case.count({ where: { id: existing.caseId, ...caseVisibility(actor.viewer) } })) > 0,
    replay: async (existing) => ({ payment: existing, case: await deps.prisma.case.findUniqueOrThrow({ where: { id: existing.caseId } }), replayed: true }),
    // An ended case (resolved or closed) takes no further writes (DOMAIN.md): money arriving after the
    // end is refused here with CASE_ENDED, so that the bank books it as a refund or a recovery.
    write: () =>
      writeCase(deps, actor, input.caseId, { action: 'payment.record' }, async ({ tx, now, before }) => {
      sameCurrency(before, input.currency);
      await checkReceivedAt(tx, before, input.receivedAt);
      const promises = await tx.promiseToPay.findMany({ where: { caseId: before.id, status: { in: ['OPEN', 'PARTIAL'] } } });
      const instalmentRows = await tx.instalment.findMany({
        where: { plan: { caseId: before.id, status: 'ACTIVE' }, status: { in: ['DUE', 'PARTIAL'] } },
        include: { plan: { select: { proposedAt: true, id: true } } },
      });
      const allocation = allocatePayment({
        amount,
        caseBalance: before.overdueTotal,
        promises: promises.map<OpenObligation>((p) => ({ kind: 'PROMISE', id: p.id, dueDate: p.promisedFor, createdAt: p.createdAt, outstanding: p.amount - p.paidAmount })).filter((o) => o.outstanding > 0n),
        instalments: instalmentRows.map<OpenObligation>((i) => ({ kind: 'INSTALMENT', id: i.id, dueDate: i.dueDate, createdAt: i.plan.proposedAt, seq: i.seq, outstanding: i.amount - i.paidAmount })).filter((o) => o.outstanding > 0n),
      });
      const touchedPlans = new Set<string>();
      for (const line of allocation.lines) {
        if (line.target === 'PROMISE') {
          const p = promises.find((x) => x.id === line.id)!;
          const paid = p.paidAmount + line.amount;
          const status = promiseStatusAfter(p.amount, paid);
          await tx.promiseToPay.update({ where: { id: p.id }, data: { paidAmount: paid, status, settledAt: status === 'KEPT' ? now : null } });
        } else if (line.target === 'INSTALMENT') {
          const i = instalmentRows.find((x) => x.id === line.id)!;
          const paid = i.paidAmount + line.amount;
          const status = instalmentStatusAfter(i.amount, paid);
          await tx.instalment.update({ where: { id: i.id }, data: { paidAmount: paid, status, paidAt: status === 'PAID' ? now : null } });
          await tx.repaymentPlan.update({ where: { id: i.plan.id }, data: { paidAmount: { increment: line.amount } } });
          touchedPlans.add(i.plan.id);
        }
      }
      let settled = false;
      const plansCompleted: string[] = [];
      for (const planId of touchedPlans) {
        const open = await tx.instalment.count({ where: { planId, status: { not: 'PAID' } } });
        if (open === 0) {
          const done = await tx.repaymentPlan.update({ where: { id: planId }, data: { status: 'COMPLETED', completedAt: now } });
          plansCompleted.push(planId);
          settled ||= done.kind === 'SETTLEMENT';
        }
      }
      // The balance goes down: fees first, then interest, then principal.
      let rest = allocation.appliedToBalance;
      const fees = before.fees - (rest < before.fees ? rest : before.fees);
      rest -= before.fees - fees;
      const interest = before.interest - (rest < before.interest ? rest : before.interest);
      rest -= before.interest - interest;
      const principal = before.principal - rest;
      let balances = { principal, interest, fees };
      const applied = { principal: before.principal - principal, interest: before.interest - interest, fees: before.fees - fees };
      let forgivenParts = { principal: 0n, interest: 0n, fees: 0n };
      if (settled) {
        // A settlement paid in full settles the debt: what it discounted is forgiven, on the record.
        forgivenParts = balances;
        balances = { principal: 0n, interest: 0n, fees: 0n };
      }
      const forgiven = forgivenParts.principal + forgivenParts.interest + forgivenParts.fees;
      const overdueTotal = balances.principal + balances.interest + balances.fees;
      const after = { ...before, ...balances, overdueTotal };
      const paidInFull = overdueTotal === 0n;
      const events = [{ type: 'PAYMENT_RECORDED', summary: `Payment of ${amount} received${allocation.credit > 0n ? ` (${allocation.credit} kept as credit)` : ''}`, data: { paymentId: '', amount: `${amount}`, credit: `${allocation.credit}`, balance: `${overdueTotal}` } }];
      if (forgiven > 0n) {
        events.push({ type: 'SETTLEMENT_COMPLETED', summary: `Settlement paid: ${forgiven} forgiven`, data: { forgiven: `${forgiven}` } as never });
      }
      const promisesKept: string[] = [];
      if (paidInFull) {
        // Nothing is owed: any plan still running has done its work.
        const running = await tx.repaymentPlan.findMany({ where: { caseId: before.id, status: 'ACTIVE' }, select: { id: true } });
        await tx.repaymentPlan.updateMany({ where: { id: { in: running.map((x) => x.id) } }, data: { status: 'COMPLETED', completedAt: now } });
        plansCompleted.push(...running.map((x) => x.id));
        const cancelled = await tx.reminder.updateMany({ where: { caseId: before.id, status: 'SCHEDULED' }, data: { status: 'CANCELLED', cancelledAt: now, lastError: 'paid in full' } });
        const open = await tx.promiseToPay.findMany({ where: { caseId: before.id, status: { in: ['OPEN', 'PARTIAL'] } }, select: { id: true } });
        await tx.promiseToPay.updateMany({ where: { id: { in: open.map((x) => x.id) } }, data: { status: 'KEPT', settledAt: now } });
        promisesKept.push(...open.map((x) => x.id));
        events.push({ type: 'CASE_RESOLVED', summary: 'Paid in full: the case is resolved', data: { remindersCancelled: cancelled.count } as never });
      }
      const str = (x: { principal: bigint; interest: bigint; fees: bigint }) => ({ principal: `${x.principal}`, interest: `${x.interest}`, fees: `${x.fees}` });
      const effects: PaymentEffects = {
        applied: str(applied),
        forgiven: str(forgivenParts),
        stageBefore: before.stage,
        statusBefore: before.status,
        resolved: paidInFull,
        plansCompleted,
        promisesKept,
      };
      // Written once, complete: the database refuses any later change to a payment or its lines.
      const payment = await tx.payment.create({
        data: {
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          amount,
          currency: before.currency,
          receivedAt: input.receivedAt,
          channel: input.channel,
          externalReference,
          idempotencyKey: key,
          requestHash: hash,
          creditAmount: allocation.credit,
          recordedById: actor.viewer.userId,
          createdAt: now,
          effects: effects as never,
        },
      });
      await tx.paymentAllocation.createMany({
        data: allocation.lines.map((l) => ({
          paymentId: payment.id,
          agencyId: payment.agencyId, // a line is of its payment's era, whatever it pays
          target: l.target,
          promiseId: l.target === 'PROMISE' ? l.id : null,
          instalmentId: l.target === 'INSTALMENT' ? l.id : null,
          amount: l.amount,
        })),
      });
      events[0]!.data.paymentId = payment.id;
      return {
        result: { payment, replayed: false },
        data: {
          ...balances,
          overdueTotal,
          credit: before.credit + allocation.credit,
          status: await statusFromObligations(tx, after),
          ...(paidInFull ? { stage: 'RESOLVED' as const, closedAt: now } : {}),
        },
        events,
        auditData: { paymentId: payment.id, amount: `${amount}`, forgiven: `${forgiven}`, lines: allocation.lines.map((l) => ({ target: l.target, id: l.id, amount: `${l.amount}` })) },
      };
    }),
  });
}

// ---------------------------------------------------------------- reversals

export interface ReversePaymentInput {
  paymentId: string;
  reason: string;
  /** The case's version as the caller last read it. */
  expectedVersion: number;
}

export const MAX_REASON_LENGTH = 2000;

/**
 * A wrong payment (a bounced transfer, a payment booked on the wrong case) is never changed: a
 * reversal is written, append-only, with a negative line for each of the payment's lines, and
 * exactly what the payment did is undone: the promises and instalments it covered owe again
 * (their plans, completed by it, run again), the case owes again what it had paid off (a
 * completed settlement's forgiveness included), its credit goes down, and a case the payment
 * resolved is re-opened in its former stage. A supervisor may reverse any payment; a collector
 * one within the share of the debt a collector may settle on their own (the policy's settlement
 * threshold); above it, APPROVAL_REQUIRED. A payment is reversed once.
 */
export async function reversePayment(deps: Deps, actor: Actor, input: ReversePaymentInput) {
  const reason = input.reason.trim();
  if (!reason) throw new DomainError('VALIDATION', 'Give the reason for the reversal', 'reason');
  if (reason.length > MAX_REASON_LENGTH) throw new DomainError('VALIDATION', `reason: at most ${MAX_REASON_LENGTH} characters`, 'reason');
  const found = await deps.prisma.payment.findFirst({ where: { id: input.paymentId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) }, select: { id: true, caseId: true } });
  if (!found) throw new DomainError('NOT_FOUND', 'No such payment', 'paymentId');
  return writeCase(
    deps,
    actor,
    found.caseId,
    { expectedVersion: input.expectedVersion, action: 'payment.reverse', field: 'paymentId', allowEnded: true },
    async ({ tx, now, before }) => {
      const payment = await tx.payment.findUniqueOrThrow({ where: { id: found.id }, include: { allocations: { where: { reversalId: null } }, reversal: { select: { id: true } } } });
      if (payment.reversal) throw new DomainError('INVALID_TRANSITION', 'This payment has already been reversed', 'paymentId');
      const effects = payment.effects as PaymentEffects | null;
      if (isEnded(before) && !(before.stage === 'RESOLVED' && effects?.resolved)) {
        // Only the resolution this payment made is undone; a case ended otherwise stays ended.
        throw new DomainError('CASE_ENDED', `Case is ${before.stage.toLowerCase()}: only a payment that resolved it can be reversed`, 'paymentId');
      }

      const big = (x: string | undefined) => BigInt(x ?? '0');
      const applied = effects
        ? { principal: big(effects.applied.principal), interest: big(effects.applied.interest), fees: big(effects.applied.fees) }
        : // Recorded before payments kept their effects: what it took off goes back to the principal.
          { principal: payment.amount - payment.creditAmount, interest: 0n, fees: 0n };
      const forgiven = effects ? { principal: big(effects.forgiven.principal), interest: big(effects.forgiven.interest), fees: big(effects.forgiven.fees) } : { principal: 0n, interest: 0n, fees: 0n };
      const balances = {
        principal: before.principal + applied.principal + forgiven.principal,
        interest: before.interest + applied.interest + forgiven.interest,
        fees: before.fees + applied.fees + forgiven.fees,
      };
      const overdueTotal = balances.principal + balances.interest + balances.fees;

      if (!SUPERVISORS.includes(actor.viewer.role)) {
        const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true } });
        const policy = await getContactPolicy(tx, debtor.jurisdiction);
        if (payment.amount * 10_000n > BigInt(policy.settlementDiscountThresholdBps) * overdueTotal) {
          throw new DomainError(
            'APPROVAL_REQUIRED',
            `The payment is more than ${(policy.settlementDiscountThresholdBps / 100).toFixed(2)}% of what the case owes: a supervisor must reverse it`,
            'paymentId',
          );
        }
      }

      const reversal = await tx.paymentReversal.create({
        data: {
          paymentId: payment.id,
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          amount: payment.amount,
          currency: payment.currency,
          reason,
          reversedById: actor.viewer.userId,
          requestId: actor.requestId ?? null,
          createdAt: now,
        },
      });
      await tx.paymentAllocation.createMany({
        data: payment.allocations.map((l) => ({ paymentId: payment.id, reversalId: reversal.id, agencyId: reversal.agencyId, target: l.target, promiseId: l.promiseId, instalmentId: l.instalmentId, amount: -l.amount })),
      });

      const reopenedPlans = new Set<string>(effects?.plansCompleted ?? []);
      // A plan approved since this payment superseded the open promises of that day; a promise this
      // payment had kept would have been one of them: it owes again, as SUPERSEDED, not OPEN.
      const supersededSince = (await tx.repaymentPlan.count({ where: { caseId: before.id, status: 'ACTIVE', activatedAt: { gt: payment.createdAt } } })) > 0;
      for (const line of payment.allocations) {
        if (line.target === 'PROMISE' && line.promiseId) {
          const p = await tx.promiseToPay.findUniqueOrThrow({ where: { id: line.promiseId } });
          const paid = p.paidAmount - line.amount;
          // A promise broken (or superseded by a plan) since keeps its end: it owes again, and ended all the same.
          const ended = p.status === 'BROKEN' || p.status === 'CANCELLED' || p.status === 'SUPERSEDED';
          const reopened = promiseStatusAfter(p.amount, paid);
          const status = ended ? p.status : reopened !== 'KEPT' && supersededSince ? 'SUPERSEDED' : reopened;
          await tx.promiseToPay.update({ where: { id: p.id }, data: { paidAmount: paid, status, settledAt: status === 'KEPT' || ended ? p.settledAt : null } });
        } else if (line.target === 'INSTALMENT' && line.instalmentId) {
          const i = await tx.instalment.findUniqueOrThrow({ where: { id: line.instalmentId } });
          const paid = i.paidAmount - line.amount;
          const status = i.status === 'MISSED' ? 'MISSED' : instalmentStatusAfter(i.amount, paid);
          await tx.instalment.update({ where: { id: i.id }, data: { paidAmount: paid, status, paidAt: status === 'PAID' ? i.paidAt : null } });
          await tx.repaymentPlan.update({ where: { id: i.planId }, data: { paidAmount: { decrement: line.amount } } });
          if (!effects) reopenedPlans.add(i.planId);
        }
      }
      // Plans this payment completed run again (only if still COMPLETED: nothing else ended them since).
      const reopened = await tx.repaymentPlan.updateMany({ where: { id: { in: [...reopenedPlans] }, status: 'COMPLETED' }, data: { status: 'ACTIVE', completedAt: null } });
      if (effects?.promisesKept.length) {
        const kept = await tx.promiseToPay.findMany({ where: { id: { in: effects.promisesKept }, status: 'KEPT' } });
        for (const p of kept) {
          const status = promiseStatusAfter(p.amount, p.paidAmount);
          if (status !== 'KEPT') await tx.promiseToPay.update({ where: { id: p.id }, data: { status, settledAt: null } });
        }
      }

      const reopenCase = effects?.resolved === true && before.stage === 'RESOLVED';
      const statusBase = reopenCase ? (effects!.statusBefore === 'PAID' ? 'OPEN' : effects!.statusBefore) : before.status === 'PAID' ? 'OPEN' : before.status;
      const after = { ...before, ...balances, overdueTotal, status: statusBase };
      const events = [
        {
          type: 'PAYMENT_REVERSED',
          summary: `Payment of ${payment.amount} reversed: ${reason}`,
          data: { paymentId: payment.id, reversalId: reversal.id, amount: `${payment.amount}`, balance: `${overdueTotal}` },
        },
      ];
      if (reopenCase) events.push({ type: 'CASE_REOPENED', summary: `The payment that resolved the case was reversed: back to ${effects!.stageBefore}`, data: { stage: effects!.stageBefore } as never });
      return {
        result: { payment, reversal },
        data: {
          ...balances,
          overdueTotal,
          credit: before.credit - payment.creditAmount < 0n ? 0n : before.credit - payment.creditAmount,
          status: await statusFromObligations(tx, after),
          ...(reopenCase ? { stage: effects!.stageBefore, closedAt: null } : {}),
        },
        events,
        auditData: {
          paymentId: payment.id,
          reversalId: reversal.id,
          amount: `${payment.amount}`,
          plansReopened: reopened.count,
          lines: payment.allocations.map((l) => ({ target: l.target, id: l.promiseId ?? l.instalmentId, amount: `${-l.amount}` })),
          legacy: effects === null,
        },
        reason,
      };
    },
  );
}

// ---------------------------------------------------------------- daily checks

/** Rolls a check's transaction back when, under the lock, there was nothing left to do. */
class NothingToDo extends Error {}

/**
 * Promises whose date plus the policy's grace days has passed short are BROKEN; instalments of
 * active plans missed beyond their grace days are MISSED and their plan BROKEN. The case goes to
 * BROKEN_PROMISE: back to the top of the collectors' queue. Idempotent: a re-run finds nothing.
 */
export async function checkPromisesAndInstalments(deps: Deps & { logger?: { warn(o: object, m: string): void } }): Promise<{ promisesBroken: number; plansBroken: number; failed: number }> {
  const now = deps.clock.now();
  const failures: { caseId: string; error: string }[] = [];
  // One case failing (or found already settled under its lock) never stops the others.
  const onCase = async (caseId: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof NothingToDo)) failures.push({ caseId, error: (err as Error).message });
    }
  };
  const day = today(now);
  const policies = await deps.prisma.contactPolicy.findMany();
  let promisesBroken = 0;
  let plansBroken = 0;
  for (const policy of policies) {
    const promiseCutoff = new Date(day.getTime() - policy.promiseGraceDays * 86_400_000);
    const lapsed = await deps.prisma.promiseToPay.findMany({
      where: { status: { in: ['OPEN', 'PARTIAL'] }, promisedFor: { lt: promiseCutoff }, case: { debtor: { jurisdiction: policy.jurisdiction }, stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] } } },
      select: { id: true, caseId: true },
    });
    for (const p of lapsed) {
      await onCase(p.caseId, async () =>
        writeCase(deps, null, p.caseId, { system: true, action: 'promise.break' }, async ({ tx }) => {
          // Re-checked under the case lock: a payment may have kept it since it was read.
          const n = await tx.promiseToPay.updateMany({ where: { id: p.id, status: { in: ['OPEN', 'PARTIAL'] } }, data: { status: 'BROKEN', settledAt: now } });
          if (n.count === 0) throw new NothingToDo();
          promisesBroken += n.count;
          return { result: {}, data: { status: 'BROKEN_PROMISE' }, events: [{ type: 'PROMISE_BROKEN', summary: 'A promise to pay was broken', data: { promiseId: p.id } }] };
        }),
      );
    }
    const instalmentCutoff = new Date(day.getTime() - policy.instalmentGraceDays * 86_400_000);
    const missed = await deps.prisma.instalment.findMany({
      where: {
        status: { in: ['DUE', 'PARTIAL'] },
        dueDate: { lt: instalmentCutoff },
        plan: { status: 'ACTIVE', case: { debtor: { jurisdiction: policy.jurisdiction }, stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] } } },
      },
      select: { id: true, planId: true, plan: { select: { caseId: true } } },
    });
    for (const planId of new Set(missed.map((m) => m.planId))) {
      const caseId = missed.find((m) => m.planId === planId)!.plan.caseId;
      await onCase(caseId, async () =>
        writeCase(deps, null, caseId, { system: true, action: 'plan.break' }, async ({ tx }) => {
          const ids = missed.filter((m) => m.planId === planId).map((m) => m.id);
          // Only instalments still unpaid under the lock, of a plan still active.
          const late = await tx.instalment.updateMany({ where: { id: { in: ids }, status: { in: ['DUE', 'PARTIAL'] }, plan: { status: 'ACTIVE' } }, data: { status: 'MISSED' } });
          if (late.count === 0) throw new NothingToDo();
          const n = await tx.repaymentPlan.updateMany({ where: { id: planId, status: 'ACTIVE' }, data: { status: 'BROKEN', brokenAt: now } });
          plansBroken += n.count;
          return { result: {}, data: { status: 'BROKEN_PROMISE' }, events: [{ type: 'PLAN_BROKEN', summary: 'An instalment was missed beyond its grace days: the plan is broken', data: { planId } }] };
        }),
      );
    }
  }
  if (failures.length) deps.logger?.warn({ failures }, 'promise checks: some cases failed; the next run retries them');
  return { promisesBroken, plansBroken, failed: failures.length };
}
