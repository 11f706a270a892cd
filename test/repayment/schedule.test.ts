import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_INSTALMENTS,
  MAX_PLAN_MONTHS,
  addMonthsClamped,
  buildSchedule,
  checkPlanTerm,
  instalmentDueDates,
  planSpanMonths,
  splitAmount,
  type PlanFrequency,
} from '../../src/modules/repayment/schedule.ts';
import { DAY_MS, dateOnly, daysBetween, parseDateOnly } from '../../src/lib/time.ts';

const d = parseDateOnly;
const iso = (dates: Date[]) => dates.map(dateOnly);

/** Calendar dates from 1990 to 2100, at midnight UTC; month ends are made common on purpose. */
const calendarDate = fc.oneof(
  fc.integer({ min: d('1990-01-01').getTime() / DAY_MS, max: d('2100-12-31').getTime() / DAY_MS }).map((n) => new Date(n * DAY_MS)),
  fc.record({ y: fc.integer({ min: 1990, max: 2100 }), m: fc.integer({ min: 0, max: 11 }), back: fc.integer({ min: 0, max: 3 }) })
    .map(({ y, m, back }) => new Date(Date.UTC(y, m + 1, 0 - back))),
);
const frequency = fc.constantFrom<PlanFrequency>('WEEKLY', 'FORTNIGHTLY', 'MONTHLY');
const count = fc.integer({ min: 1, max: MAX_INSTALMENTS });
/** A total that can be split into `count` parts of at least one minor unit. */
const totalFor = (n: number) =>
  fc.oneof(fc.bigInt({ min: BigInt(n), max: BigInt(n) + 1_000n }), fc.bigInt({ min: BigInt(n), max: 10n ** 15n }));
const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

describe('splitAmount', () => {
  it('always adds up to the total, in `count` parts that differ by at most one, larger first', () => {
    fc.assert(
      fc.property(count.chain((n) => fc.tuple(fc.constant(n), totalFor(n))), ([n, total]) => {
        const parts = splitAmount(total, n);
        expect(parts).toHaveLength(n);
        expect(parts.reduce((s, p) => s + p, 0n)).toBe(total);
        const base = total / BigInt(n);
        expect(parts.every((p) => p === base || p === base + 1n)).toBe(true);
        expect(parts.every((p, k) => k === 0 || parts[k - 1]! >= p)).toBe(true);
        // The remainder rule: exactly total mod count parts carry the extra unit, and they are the first ones.
        const r = Number(total % BigInt(n));
        expect(parts.filter((p) => p === base + 1n)).toHaveLength(r);
        if (r > 0) expect(parts[r - 1]).toBe(base + 1n);
        expect(parts.every((p) => p >= 1n)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('puts the odd minor units on the first instalments', () => {
    expect(splitAmount(100n, 3)).toEqual([34n, 33n, 33n]);
    expect(splitAmount(1_000_001n, 4)).toEqual([250_001n, 250_000n, 250_000n, 250_000n]);
    expect(splitAmount(1_000_003n, 4)).toEqual([250_001n, 250_001n, 250_001n, 250_000n]);
    expect(splitAmount(1_200_000n, 12)).toEqual(Array(12).fill(100_000n));
    expect(splitAmount(7n, 1)).toEqual([7n]);
    expect(splitAmount(5n, 5)).toEqual([1n, 1n, 1n, 1n, 1n]);
  });

  it('refuses a total that is not positive, too small, or a count out of range', () => {
    expect(() => splitAmount(0n, 3)).toThrow(RangeError);
    expect(() => splitAmount(-100n, 3)).toThrow(RangeError);
    expect(() => splitAmount(2n, 3)).toThrow(RangeError);
    expect(() => splitAmount(100n, 0)).toThrow(RangeError);
    expect(() => splitAmount(100n, -1)).toThrow(RangeError);
    expect(() => splitAmount(100_000n, MAX_INSTALMENTS + 1)).toThrow(RangeError);
    expect(() => splitAmount(100n, 2.5)).toThrow(RangeError);
    expect(() => splitAmount(100n, Number.NaN)).toThrow(RangeError);
    expect(() => splitAmount(100n, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(splitAmount(100_000n, MAX_INSTALMENTS)).toHaveLength(MAX_INSTALMENTS);
  });
});

describe('addMonthsClamped', () => {
  it('clamps to the last day of a shorter month', () => {
    expect(dateOnly(addMonthsClamped(d('2027-01-31'), 1))).toBe('2027-02-28');
    expect(dateOnly(addMonthsClamped(d('2028-01-31'), 1))).toBe('2028-02-29');
    expect(dateOnly(addMonthsClamped(d('2027-03-31'), 1))).toBe('2027-04-30');
    expect(dateOnly(addMonthsClamped(d('2027-01-30'), 1))).toBe('2027-02-28');
    expect(dateOnly(addMonthsClamped(d('2027-01-28'), 1))).toBe('2027-02-28');
    expect(dateOnly(addMonthsClamped(d('2028-02-29'), 12))).toBe('2029-02-28');
    expect(dateOnly(addMonthsClamped(d('2028-02-29'), 48))).toBe('2032-02-29');
    expect(dateOnly(addMonthsClamped(d('2027-12-15'), 1))).toBe('2028-01-15');
    expect(dateOnly(addMonthsClamped(d('2027-03-31'), -1))).toBe('2027-02-28');
    expect(dateOnly(addMonthsClamped(d('2027-01-15'), -13))).toBe('2025-12-15');
    expect(dateOnly(addMonthsClamped(d('2027-05-31'), 0))).toBe('2027-05-31');
  });

  it('lands k months on, on the same day or the month\'s last day', () => {
    fc.assert(
      fc.property(calendarDate, fc.integer({ min: -120, max: 120 }), (date, k) => {
        const r = addMonthsClamped(date, k);
        expect(r.getTime() % DAY_MS).toBe(0);
        const months = (r.getUTCFullYear() - date.getUTCFullYear()) * 12 + r.getUTCMonth() - date.getUTCMonth();
        expect(months).toBe(k);
        expect(r.getUTCDate()).toBe(Math.min(date.getUTCDate(), daysInMonth(r.getUTCFullYear(), r.getUTCMonth())));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a time of day, an invalid date, or a fraction of a month', () => {
    expect(() => addMonthsClamped(new Date('2027-01-31T08:00:00Z'), 1)).toThrow(RangeError);
    expect(() => addMonthsClamped(new Date(Number.NaN), 1)).toThrow(RangeError);
    expect(() => addMonthsClamped(d('2027-01-31'), 1.5)).toThrow(RangeError);
  });
});

describe('instalmentDueDates', () => {
  it('counts months from the first due date, not from the previous one', () => {
    expect(iso(instalmentDueDates(d('2027-01-31'), 4, 'MONTHLY'))).toEqual(['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30']);
    expect(iso(instalmentDueDates(d('2028-01-31'), 4, 'MONTHLY'))).toEqual(['2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30']);
    expect(iso(instalmentDueDates(d('2027-08-30'), 3, 'MONTHLY'))).toEqual(['2027-08-30', '2027-09-30', '2027-10-30']);
    expect(iso(instalmentDueDates(d('2027-11-30'), 4, 'MONTHLY'))).toEqual(['2027-11-30', '2027-12-30', '2028-01-30', '2028-02-29']);
  });

  it('spaces weekly and fortnightly instalments 7 and 14 days apart', () => {
    expect(iso(instalmentDueDates(d('2027-12-24'), 3, 'WEEKLY'))).toEqual(['2027-12-24', '2027-12-31', '2028-01-07']);
    expect(iso(instalmentDueDates(d('2028-02-22'), 3, 'FORTNIGHTLY'))).toEqual(['2028-02-22', '2028-03-07', '2028-03-21']);
  });

  it('gives count strictly increasing calendar dates from the first, at the frequency', () => {
    fc.assert(
      fc.property(calendarDate, count, frequency, (first, n, f) => {
        const dates = instalmentDueDates(first, n, f);
        expect(dates).toHaveLength(n);
        expect(dates[0]!.getTime()).toBe(first.getTime());
        expect(dates.every((date) => date.getTime() % DAY_MS === 0)).toBe(true);
        const gaps = dates.slice(1).map((date, k) => daysBetween(dates[k]!, date));
        // Strictly increasing, at the frequency's spacing.
        if (f === 'WEEKLY') expect(gaps.every((g) => g === 7)).toBe(true);
        if (f === 'FORTNIGHTLY') expect(gaps.every((g) => g === 14)).toBe(true);
        if (f === 'MONTHLY') {
          expect(gaps.every((g) => g >= 28 && g <= 31)).toBe(true);
          expect(dates.every((date, k) => date.getTime() === addMonthsClamped(first, k).getTime())).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('needs a frequency for more than one instalment only', () => {
    expect(iso(instalmentDueDates(d('2027-06-30'), 1, null))).toEqual(['2027-06-30']);
    expect(() => instalmentDueDates(d('2027-06-30'), 2, null)).toThrow(RangeError);
    expect(() => instalmentDueDates(d('2027-06-30'), 0, 'MONTHLY')).toThrow(RangeError);
    expect(() => instalmentDueDates(new Date('2027-06-30T12:00:00Z'), 2, 'MONTHLY')).toThrow(RangeError);
  });
});

describe('buildSchedule', () => {
  it('always sums to the total, with seq 1..count and increasing due dates', () => {
    fc.assert(
      fc.property(
        count.chain((n) => fc.record({ count: fc.constant(n), total: totalFor(n), frequency, firstDueDate: calendarDate })),
        (input) => {
          const schedule = buildSchedule(input);
          expect(schedule).toHaveLength(input.count);
          expect(schedule.reduce((s, i) => s + i.amount, 0n)).toBe(input.total);
          expect(schedule.map((i) => i.seq)).toEqual(Array.from({ length: input.count }, (_, k) => k + 1));
          expect(schedule[0]!.dueDate.getTime()).toBe(input.firstDueDate.getTime());
          const rest = schedule.slice(1);
          expect(rest.every((i, k) => i.dueDate.getTime() > schedule[k]!.dueDate.getTime())).toBe(true);
          expect(rest.every((i, k) => i.amount <= schedule[k]!.amount && schedule[0]!.amount - i.amount <= 1n)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds the example plan: 1,000.00 in 3 monthly instalments from 31 January', () => {
    expect(buildSchedule({ total: 100_000n, count: 3, frequency: 'MONTHLY', firstDueDate: d('2027-01-31') }).map((i) => [i.seq, dateOnly(i.dueDate), i.amount])).toEqual([
      [1, '2027-01-31', 33_334n],
      [2, '2027-02-28', 33_333n],
      [3, '2027-03-31', 33_333n],
    ]);
  });

  it('gives a deferral or a settlement one instalment, without a frequency', () => {
    expect(buildSchedule({ total: 450_000n, count: 1, frequency: null, firstDueDate: d('2027-04-15') })).toEqual([
      { seq: 1, dueDate: d('2027-04-15'), amount: 450_000n },
    ]);
  });
});

describe('the five-year term', () => {
  it('allows 60 monthly instalments and refuses 61', () => {
    const first = d('2027-01-31');
    const sixty = instalmentDueDates(first, 60, 'MONTHLY');
    expect(dateOnly(sixty.at(-1)!)).toBe('2031-12-31');
    expect(checkPlanTerm(first, sixty.at(-1)!)).toEqual({ ok: true, months: 60 });
    const sixtyOne = instalmentDueDates(first, 61, 'MONTHLY');
    const check = checkPlanTerm(first, sixtyOne.at(-1)!);
    expect(check.ok).toBe(false);
    expect(check.months).toBe(61);
    expect(!check.ok && check.reason).toMatch(/60/);
  });

  it('measures the span in months from the first due date', () => {
    expect(planSpanMonths(d('2027-01-31'), d('2027-01-31'))).toBe(1);
    expect(planSpanMonths(d('2027-01-31'), d('2027-02-27'))).toBe(1);
    expect(planSpanMonths(d('2027-01-31'), d('2027-02-28'))).toBe(2);
    expect(planSpanMonths(d('2027-01-15'), d('2027-04-07'))).toBe(3);
    expect(planSpanMonths(d('2027-01-01'), d('2031-12-31'))).toBe(60);
    expect(planSpanMonths(d('2027-01-01'), d('2032-01-01'))).toBe(61);
    expect(() => planSpanMonths(d('2027-02-01'), d('2027-01-31'))).toThrow(RangeError);
  });

  it('fits five years of weekly and 131 fortnightly instalments, not 132', () => {
    const first = d('2027-03-01');
    expect(checkPlanTerm(first, instalmentDueDates(first, MAX_INSTALMENTS, 'WEEKLY').at(-1)!).ok).toBe(true);
    expect(checkPlanTerm(first, instalmentDueDates(first, 131, 'FORTNIGHTLY').at(-1)!).ok).toBe(true);
    expect(checkPlanTerm(first, instalmentDueDates(first, 132, 'FORTNIGHTLY').at(-1)!).ok).toBe(false);
  });

  it('is the smallest n with addMonthsClamped(first, n - 1) <= last < addMonthsClamped(first, n)', () => {
    fc.assert(
      fc.property(calendarDate, fc.integer({ min: 0, max: 4000 }), (first, days) => {
        const last = new Date(first.getTime() + days * DAY_MS);
        const n = planSpanMonths(first, last);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(addMonthsClamped(first, n - 1).getTime()).toBeLessThanOrEqual(last.getTime());
        expect(addMonthsClamped(first, n).getTime()).toBeGreaterThan(last.getTime());
        expect(checkPlanTerm(first, last).ok).toBe(n <= MAX_PLAN_MONTHS);
      }),
      { numRuns: 1000 },
    );
  });

  it('allows a monthly plan exactly when it has at most 60 instalments', () => {
    fc.assert(
      fc.property(calendarDate, fc.integer({ min: 1, max: 120 }), (first, n) => {
        const last = instalmentDueDates(first, n, 'MONTHLY').at(-1)!;
        expect(planSpanMonths(first, last)).toBe(n);
        expect(checkPlanTerm(first, last).ok).toBe(n <= MAX_PLAN_MONTHS);
      }),
      { numRuns: 300 },
    );
  });
});
