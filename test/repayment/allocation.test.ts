import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocatePayment,
  allocationOrder,
  instalmentStatusAfter,
  obligationStatusAfter,
  promiseStatusAfter,
  type AllocationLine,
  type AllocationResult,
  type OpenObligation,
} from '../../src/modules/repayment/allocation.ts';
import { DAY_MS, parseDateOnly } from '../../src/lib/time.ts';

const d = parseDateOnly;
const at = (s: string) => new Date(s);

const promise = (id: string, due: string, outstanding: bigint, createdAt = '2027-01-01T09:00:00Z'): OpenObligation => ({
  kind: 'PROMISE', id, dueDate: d(due), createdAt: at(createdAt), outstanding,
});
const instalment = (id: string, seq: number, due: string, outstanding: bigint): OpenObligation => ({
  kind: 'INSTALMENT', id, seq, dueDate: d(due), createdAt: at('2027-01-02T10:00:00Z'), outstanding,
});
const sum = (lines: AllocationLine[]) => lines.reduce((s, l) => s + l.amount, 0n);
const covering = (r: AllocationResult) => r.lines.filter((l) => l.target === 'PROMISE' || l.target === 'INSTALMENT');

describe('allocatePayment: examples', () => {
  const promises = [promise('p2', '2027-02-20', 30_000n), promise('p1', '2027-02-10', 20_000n)];
  const instalments = [instalment('i2', 2, '2027-03-31', 50_000n), instalment('i1', 1, '2027-02-28', 50_000n)];

  it('covers an exact payment: promises oldest first, then instalments oldest first', () => {
    const r = allocatePayment({ amount: 150_000n, caseBalance: 150_000n, promises, instalments });
    expect(r).toEqual({
      lines: [
        { target: 'PROMISE', id: 'p1', amount: 20_000n },
        { target: 'PROMISE', id: 'p2', amount: 30_000n },
        { target: 'INSTALMENT', id: 'i1', amount: 50_000n },
        { target: 'INSTALMENT', id: 'i2', amount: 50_000n },
      ],
      appliedToBalance: 150_000n,
      credit: 0n,
    });
  });

  it('covers a partial payment in part, the last obligation reached partially', () => {
    const r = allocatePayment({ amount: 35_000n, caseBalance: 150_000n, promises, instalments });
    expect(r).toEqual({
      lines: [
        { target: 'PROMISE', id: 'p1', amount: 20_000n },
        { target: 'PROMISE', id: 'p2', amount: 15_000n },
      ],
      appliedToBalance: 35_000n,
      credit: 0n,
    });
  });

  it('applies to the balance what no obligation claims', () => {
    const r = allocatePayment({ amount: 180_000n, caseBalance: 500_000n, promises, instalments });
    expect(r.lines.at(-1)).toEqual({ target: 'BALANCE', id: null, amount: 30_000n });
    expect(r.appliedToBalance).toBe(180_000n);
    expect(r.credit).toBe(0n);
    expect(sum(r.lines)).toBe(180_000n);
  });

  it('keeps an overpayment as a credit', () => {
    const r = allocatePayment({ amount: 160_000n, caseBalance: 150_000n, promises, instalments });
    expect(r.appliedToBalance).toBe(150_000n);
    expect(r.credit).toBe(10_000n);
    expect(r.lines.at(-1)).toEqual({ target: 'CREDIT', id: null, amount: 10_000n });
    expect(sum(covering(r))).toBe(150_000n);
    expect(sum(r.lines)).toBe(160_000n);
  });

  it('makes everything a credit when nothing is overdue', () => {
    expect(allocatePayment({ amount: 5_000n, caseBalance: 0n, promises, instalments })).toEqual({
      lines: [{ target: 'CREDIT', id: null, amount: 5_000n }],
      appliedToBalance: 0n,
      credit: 5_000n,
    });
  });

  it('never covers obligations beyond the overdue amount (a settlement or stale promises)', () => {
    const r = allocatePayment({ amount: 200_000n, caseBalance: 40_000n, promises, instalments });
    expect(r.lines).toEqual([
      { target: 'PROMISE', id: 'p1', amount: 20_000n },
      { target: 'PROMISE', id: 'p2', amount: 20_000n },
      { target: 'CREDIT', id: null, amount: 160_000n },
    ]);
  });

  it('goes to the balance alone when there is no obligation', () => {
    expect(allocatePayment({ amount: 7_777n, caseBalance: 10_000n, promises: [], instalments: [] }).lines).toEqual([
      { target: 'BALANCE', id: null, amount: 7_777n },
    ]);
  });

  it('pays promises before instalments even when an instalment is due earlier', () => {
    const r = allocatePayment({
      amount: 10_000n,
      caseBalance: 100_000n,
      promises: [promise('p', '2027-06-01', 10_000n)],
      instalments: [instalment('i', 1, '2027-01-31', 10_000n)],
    });
    expect(r.lines).toEqual([{ target: 'PROMISE', id: 'p', amount: 10_000n }]);
  });

  it('orders promises due the same day by capture time, then id', () => {
    const r = allocatePayment({
      amount: 3n,
      caseBalance: 100n,
      promises: [
        promise('b', '2027-02-10', 1n, '2027-01-05T09:00:00Z'),
        promise('c', '2027-02-10', 1n, '2027-01-03T09:00:00Z'),
        promise('a', '2027-02-10', 1n, '2027-01-05T09:00:00Z'),
      ],
      instalments: [],
    });
    expect(r.lines.map((l) => l.id)).toEqual(['c', 'a', 'b']);
  });

  it('does not change its input', () => {
    const ps = [...promises];
    const snapshot = structuredClone(ps);
    allocatePayment({ amount: 1n, caseBalance: 1n, promises: ps, instalments });
    expect(ps).toEqual(snapshot);
  });

  it('refuses a payment that is not positive and inconsistent input', () => {
    expect(() => allocatePayment({ amount: 0n, caseBalance: 100n, promises: [], instalments: [] })).toThrow(RangeError);
    expect(() => allocatePayment({ amount: -5n, caseBalance: 100n, promises: [], instalments: [] })).toThrow(RangeError);
    expect(() => allocatePayment({ amount: 5n, caseBalance: -1n, promises: [], instalments: [] })).toThrow(RangeError);
    expect(() => allocatePayment({ amount: 5n, caseBalance: 10n, promises: [promise('p', '2027-01-01', 0n)], instalments: [] })).toThrow(RangeError);
    expect(() => allocatePayment({ amount: 5n, caseBalance: 10n, promises: [], instalments: [promise('p', '2027-01-01', 1n)] })).toThrow(RangeError);
    expect(() => allocatePayment({ amount: 5n, caseBalance: 10n, promises: [promise('p', '2027-01-01', 1n), promise('p', '2027-01-02', 1n)], instalments: [] })).toThrow(RangeError);
  });
});

describe('obligation status from money', () => {
  it('marks promises KEPT, PARTIAL or OPEN and instalments PAID, PARTIAL or DUE', () => {
    expect(promiseStatusAfter(100n, 0n)).toBe('OPEN');
    expect(promiseStatusAfter(100n, 1n)).toBe('PARTIAL');
    expect(promiseStatusAfter(100n, 100n)).toBe('KEPT');
    expect(instalmentStatusAfter(100n, 0n)).toBe('DUE');
    expect(instalmentStatusAfter(100n, 99n)).toBe('PARTIAL');
    expect(instalmentStatusAfter(100n, 100n)).toBe('PAID');
    expect(obligationStatusAfter('PROMISE', 5n, 5n)).toBe('KEPT');
    expect(obligationStatusAfter('INSTALMENT', 5n, 2n)).toBe('PARTIAL');
  });
});

// ---------------------------------------------------------------- properties

const money = fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: 1n, max: 10n ** 12n }));
const baseDay = d('2027-01-01').getTime() / DAY_MS;
/** Few distinct days and ids so that ties in the ordering keys happen often. */
const obligations = (kind: OpenObligation['kind']) =>
  fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 3 }),
      due: fc.integer({ min: 0, max: 20 }),
      created: fc.integer({ min: 0, max: 5 }),
      seq: fc.integer({ min: 1, max: 60 }),
      outstanding: money,
    }),
    { selector: (o) => o.id, maxLength: 8 },
  ).map((list) =>
    list.map((o): OpenObligation => ({
      kind,
      id: o.id,
      dueDate: new Date((baseDay + o.due) * DAY_MS),
      createdAt: new Date((baseDay + o.created) * DAY_MS + 3_600_000),
      ...(kind === 'INSTALMENT' ? { seq: o.seq } : {}),
      outstanding: o.outstanding,
    })),
  );
const caseState = fc.record({
  caseBalance: fc.oneof(fc.constant(0n), money, fc.bigInt({ min: 0n, max: 10n ** 13n })),
  promises: obligations('PROMISE'),
  instalments: obligations('INSTALMENT'),
});

function checkOne(input: { amount: bigint; caseBalance: bigint; promises: OpenObligation[]; instalments: OpenObligation[] }, r: AllocationResult): void {
  const owed = [...input.promises, ...input.instalments].reduce((s, o) => s + o.outstanding, 0n);
  // Conservation: the lines partition the payment.
  expect(r.appliedToBalance + r.credit).toBe(input.amount);
  expect(sum(r.lines)).toBe(input.amount);
  expect(r.appliedToBalance).toBe(input.amount < input.caseBalance ? input.amount : input.caseBalance);
  expect(r.lines.every((l) => l.amount > 0n)).toBe(true);
  const cover = covering(r);
  expect(sum(cover)).toBeLessThanOrEqual(r.appliedToBalance);
  // As much of the applied money as the obligations can take goes to them.
  expect(sum(cover)).toBe(r.appliedToBalance < owed ? r.appliedToBalance : owed);
  expect(sum(r.lines.filter((l) => l.target === 'BALANCE'))).toBe(r.appliedToBalance - sum(cover));
  expect(sum(r.lines.filter((l) => l.target === 'CREDIT'))).toBe(r.credit);
  expect(r.lines.filter((l) => l.target === 'BALANCE').length).toBeLessThanOrEqual(1);
  expect(r.lines.filter((l) => l.target === 'CREDIT').length).toBeLessThanOrEqual(1);
  // FIFO: lines follow the order, every obligation but the last line's is covered in full.
  const order = allocationOrder(input.promises, input.instalments);
  cover.forEach((line, k) => {
    const o = order[k]!;
    expect([line.target, line.id]).toEqual([o.kind, o.id]);
    expect(line.amount).toBeLessThanOrEqual(o.outstanding);
    if (k < cover.length - 1) expect(line.amount).toBe(o.outstanding);
  });
}

describe('allocatePayment: properties', () => {
  it('conserves money and covers obligations first in first out, for any one payment', () => {
    fc.assert(
      fc.property(caseState, money, (state, amount) => {
        const input = { ...state, amount };
        checkOne(input, allocatePayment(input));
      }),
      { numRuns: 1000 },
    );
  });

  it('conserves money over any sequence of payments, never over-pays, and keeps FIFO across payments', () => {
    fc.assert(
      fc.property(caseState, fc.array(money, { minLength: 1, maxLength: 12 }), (state, payments) => {
        const original = new Map([...state.promises, ...state.instalments].map((o) => [`${o.kind}:${o.id}`, o.outstanding]));
        const outstanding = new Map(original);
        const order = allocationOrder(state.promises, state.instalments).map((o) => `${o.kind}:${o.id}`);
        const open = (list: OpenObligation[]) =>
          list.filter((o) => outstanding.get(`${o.kind}:${o.id}`)! > 0n).map((o) => ({ ...o, outstanding: outstanding.get(`${o.kind}:${o.id}`)! }));
        let balance = state.caseBalance;
        let received = 0n;
        let applied = 0n;
        let credit = 0n;
        let covered = 0n;

        for (const amount of payments) {
          const input = { amount, caseBalance: balance, promises: open(state.promises), instalments: open(state.instalments) };
          const r = allocatePayment(input);
          checkOne(input, r);
          received += amount;
          applied += r.appliedToBalance;
          credit += r.credit;
          balance -= r.appliedToBalance;
          expect(balance).toBeGreaterThanOrEqual(0n);
          for (const line of covering(r)) {
            const key = `${line.target}:${line.id}`;
            const left = outstanding.get(key)! - line.amount;
            expect(left).toBeGreaterThanOrEqual(0n);
            outstanding.set(key, left);
            covered += line.amount;
            // Only once every obligation before it is paid in full.
            for (const earlier of order.slice(0, order.indexOf(key))) expect(outstanding.get(earlier)).toBe(0n);
          }
        }

        expect(received).toBe(applied + credit);
        expect(state.caseBalance - balance).toBe(applied);
        expect(covered).toBeLessThanOrEqual(applied);
        for (const [key, left] of outstanding) {
          expect(left).toBeGreaterThanOrEqual(0n);
          expect(left).toBeLessThanOrEqual(original.get(key)!);
        }
        // Credit arises only once the overdue amount is paid off.
        if (credit > 0n) expect(balance).toBe(0n);
      }),
      { numRuns: 500 },
    );
  });
});
