/**
 * How a payment is applied (DOMAIN.md, "Promises to pay and repayment plans"): a pure function
 * of the payment, the case's overdue amount and its open obligations. No I/O, no clock.
 *
 * The model. Promises to pay and plan instalments are schedules for paying the SAME overdue
 * debt, not debts of their own. So a payment:
 *   1. reduces the case's overdue amount by appliedToBalance = min(amount, caseBalance);
 *   2. keeps what exceeds the overdue amount as a credit: credit = amount − appliedToBalance;
 *   3. within appliedToBalance, covers obligations first in first out: open promises first,
 *      oldest first (due date, then capture time, then id), then open instalments, oldest first
 *      (due date, then creation, then seq, then id). Partial cover is allowed: the last
 *      obligation reached may be covered in part. An obligation is never given more than its
 *      outstanding amount, and only once every obligation before it is fully covered.
 *
 * The lines partition the payment, one PaymentAllocation row each, in this order: the PROMISE and
 * INSTALMENT lines (FIFO order), a BALANCE line for the part applied to the overdue amount that
 * no obligation claimed, a CREDIT line for the credit. Lines of zero are left out. Hence:
 *   sum(lines) = amount = appliedToBalance + credit                 (money is conserved)
 *   sum(PROMISE and INSTALMENT lines) + BALANCE line = appliedToBalance
 * and a payment's allocations add up to the payment in the database, like the demo data's.
 */

export type ObligationKind = 'PROMISE' | 'INSTALMENT';

export interface OpenObligation {
  kind: ObligationKind;
  id: string;
  /** Promise: promisedFor. Instalment: its due date. */
  dueDate: Date;
  /** Promise: when captured. Instalment: when its plan was created (ties broken by seq). */
  createdAt: Date;
  /** Instalment.seq, to order instalments of one plan due the same day; promises leave it out. */
  seq?: number;
  /** amount − paid: positive. */
  outstanding: bigint;
}

export interface AllocationInput {
  /** The payment, positive. */
  amount: bigint;
  /** The overdue amount still owed on the case, ≥ 0. */
  caseBalance: bigint;
  promises: OpenObligation[];
  instalments: OpenObligation[];
}

export type AllocationTarget = 'PROMISE' | 'INSTALMENT' | 'BALANCE' | 'CREDIT';

export interface AllocationLine {
  target: AllocationTarget;
  /** The promise or instalment id; null for BALANCE and CREDIT. */
  id: string | null;
  amount: bigint;
}

export interface AllocationResult {
  /** Obligation lines in FIFO order, then BALANCE, then CREDIT; none is zero; they sum to the amount. */
  lines: AllocationLine[];
  /** By how much the case's overdue amount goes down (obligation lines + BALANCE line). */
  appliedToBalance: bigint;
  /** What exceeded the overdue amount, kept as a credit on the case. */
  credit: bigint;
}

/** The order obligations of one kind are paid in: oldest due date first, then oldest record. */
export function compareObligations(a: OpenObligation, b: OpenObligation): number {
  return (
    a.dueDate.getTime() - b.dueDate.getTime() ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.seq ?? 0) - (b.seq ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Every open obligation in the order payments reach them: promises, then instalments, each FIFO. */
export function allocationOrder(promises: readonly OpenObligation[], instalments: readonly OpenObligation[]): OpenObligation[] {
  return [...[...promises].sort(compareObligations), ...[...instalments].sort(compareObligations)];
}

function assertObligations(list: readonly OpenObligation[], kind: ObligationKind, seen: Set<string>): void {
  for (const o of list) {
    if (o.kind !== kind) throw new RangeError(`${o.kind} ${o.id} given among the ${kind.toLowerCase()}s`);
    if (o.outstanding <= 0n) throw new RangeError(`${kind} ${o.id} has nothing outstanding (${o.outstanding}): only open obligations are allocated to`);
    if (Number.isNaN(o.dueDate.getTime()) || Number.isNaN(o.createdAt.getTime())) throw new RangeError(`${kind} ${o.id} has an invalid date`);
    const key = `${kind}:${o.id}`;
    if (seen.has(key)) throw new RangeError(`${kind} ${o.id} given twice`);
    seen.add(key);
  }
}

export function allocatePayment(input: AllocationInput): AllocationResult {
  const { amount, caseBalance } = input;
  if (amount <= 0n) throw new RangeError(`a payment must be positive, got ${amount}`);
  if (caseBalance < 0n) throw new RangeError(`the case balance cannot be negative, got ${caseBalance}`);
  const seen = new Set<string>();
  assertObligations(input.promises, 'PROMISE', seen);
  assertObligations(input.instalments, 'INSTALMENT', seen);

  const appliedToBalance = amount < caseBalance ? amount : caseBalance;
  const credit = amount - appliedToBalance;

  const lines: AllocationLine[] = [];
  let left = appliedToBalance;
  for (const o of allocationOrder(input.promises, input.instalments)) {
    if (left === 0n) break;
    const take = o.outstanding < left ? o.outstanding : left;
    lines.push({ target: o.kind, id: o.id, amount: take });
    left -= take;
  }
  if (left > 0n) lines.push({ target: 'BALANCE', id: null, amount: left });
  if (credit > 0n) lines.push({ target: 'CREDIT', id: null, amount: credit });
  return { lines, appliedToBalance, credit };
}

/**
 * A promise's status from money alone, after `paid` of `amount` has come in: KEPT when covered,
 * PARTIAL when in part, OPEN when not at all. BROKEN (date plus grace days passed) depends on the
 * clock and the policy and is the service's to decide.
 */
export function promiseStatusAfter(amount: bigint, paid: bigint): 'OPEN' | 'PARTIAL' | 'KEPT' {
  if (paid >= amount) return 'KEPT';
  return paid > 0n ? 'PARTIAL' : 'OPEN';
}

/**
 * An instalment's status from money alone: PAID when covered, PARTIAL when in part, DUE when not
 * at all. MISSED (due date plus grace days passed) is the service's to decide, from the clock.
 */
export function instalmentStatusAfter(amount: bigint, paid: bigint): 'DUE' | 'PARTIAL' | 'PAID' {
  if (paid >= amount) return 'PAID';
  return paid > 0n ? 'PARTIAL' : 'DUE';
}

/** Either of the above, by kind. */
export function obligationStatusAfter(kind: ObligationKind, amount: bigint, paid: bigint): 'OPEN' | 'PARTIAL' | 'KEPT' | 'DUE' | 'PAID' {
  return kind === 'PROMISE' ? promiseStatusAfter(amount, paid) : instalmentStatusAfter(amount, paid);
}
