/**
 * Repayment schedules (DOMAIN.md, "Promises to pay and repayment plans"): pure functions, no
 * I/O, no clock. Money is bigint minor units; dates are calendar dates at UTC midnight, as
 * Prisma stores @db.Date. Bad input throws RangeError; the service maps it to a user error.
 *
 * One schedule shape serves the three plan kinds: instalments (count ≥ 1 with a frequency), a
 * deferral (one instalment on the new due date) and a settlement (one instalment of the reduced
 * lump sum). Plans with one instalment need no frequency.
 */
import { DAY_MS } from '../../lib/time.ts';

export type PlanFrequency = 'WEEKLY' | 'FORTNIGHTLY' | 'MONTHLY';

/**
 * The 2011 credit-card measures limit an instalment repayment to 5 years: 60 months.
 * Rule: every due date falls inside the 60 months that begin on the first due date, i.e.
 * lastDueDate < addMonthsClamped(firstDueDate, 60). So 60 monthly instalments fit, 61 do not.
 */
export const MAX_PLAN_MONTHS = 60;

/** Five years of weekly instalments (52 × 5): the most a schedule may have. */
export const MAX_INSTALMENTS = 260;

const DAYS_BETWEEN: Record<Exclude<PlanFrequency, 'MONTHLY'>, number> = { WEEKLY: 7, FORTNIGHTLY: 14 };

function assertCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSTALMENTS) {
    throw new RangeError(`instalment count must be a whole number from 1 to ${MAX_INSTALMENTS}, got ${count}`);
  }
}

function assertCalendarDate(date: Date, what = 'date'): void {
  const t = date.getTime();
  if (Number.isNaN(t)) throw new RangeError(`${what} is not a valid date`);
  if (t % DAY_MS !== 0) throw new RangeError(`${what} must be a calendar date (midnight UTC), got ${date.toISOString()}`);
}

/**
 * Splits `total` into `count` parts that add up to `total` exactly.
 *
 * Remainder rule: every part is floor(total / count); the remainder r = total mod count goes one
 * minor unit each to the FIRST r parts. So parts differ by at most one minor unit and the larger
 * ones come first (the debtor pays the odd cents early, and the last instalment is never the odd
 * one out). Every part is at least one minor unit: total must be ≥ count.
 */
export function splitAmount(total: bigint, count: number): bigint[] {
  assertCount(count);
  if (total <= 0n) throw new RangeError(`total must be positive, got ${total}`);
  const n = BigInt(count);
  if (total < n) throw new RangeError(`total ${total} cannot be split into ${count} instalments of at least one minor unit`);
  const base = total / n;
  const remainder = Number(total % n);
  return Array.from({ length: count }, (_, k) => (k < remainder ? base + 1n : base));
}

function daysInMonthUTC(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * `date` plus `months` calendar months, on the same day of the month, clamped to the month's
 * last day: 31 Jan + 1 month = 28 Feb (29 Feb in a leap year), 31 Mar + 1 month = 30 Apr.
 * Schedules always count from the first due date (first + k months), never chain: chaining would
 * drift (31 Jan → 28 Feb → 28 Mar) where counting from the first gives 31 Jan, 28 Feb, 31 Mar.
 */
export function addMonthsClamped(date: Date, months: number): Date {
  assertCalendarDate(date);
  if (!Number.isInteger(months)) throw new RangeError(`months must be a whole number, got ${months}`);
  const monthIndex = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const day = Math.min(date.getUTCDate(), daysInMonthUTC(year, month));
  return new Date(Date.UTC(year, month, day));
}

/**
 * The due dates of `count` instalments from `first`: every 7 or 14 days, or monthly on the first
 * due date's day of the month (clamped, see addMonthsClamped). Strictly increasing.
 * A single instalment (deferral, settlement) needs no frequency.
 */
export function instalmentDueDates(first: Date, count: number, frequency: PlanFrequency | null): Date[] {
  assertCalendarDate(first, 'first due date');
  assertCount(count);
  if (count > 1 && frequency === null) throw new RangeError('a plan of more than one instalment needs a frequency');
  return Array.from({ length: count }, (_, k) =>
    frequency === 'MONTHLY' || frequency === null
      ? addMonthsClamped(first, k)
      : new Date(first.getTime() + k * DAYS_BETWEEN[frequency] * DAY_MS),
  );
}

export interface ScheduleInput {
  total: bigint;
  count: number;
  frequency: PlanFrequency | null;
  firstDueDate: Date;
}

export interface ScheduledInstalment {
  /** 1 for the first instalment (Instalment.seq). */
  seq: number;
  dueDate: Date;
  amount: bigint;
}

/**
 * The instalments of a plan: amounts by splitAmount, dates by instalmentDueDates.
 * The five-year term is checked apart (checkPlanTerm) so the service can name that error.
 */
export function buildSchedule({ total, count, frequency, firstDueDate }: ScheduleInput): ScheduledInstalment[] {
  const amounts = splitAmount(total, count);
  const dates = instalmentDueDates(firstDueDate, count, frequency);
  return amounts.map((amount, k) => ({ seq: k + 1, dueDate: dates[k]!, amount }));
}

/**
 * The months a plan runs: the smallest n ≥ 1 such that `last` falls before
 * addMonthsClamped(first, n). One instalment spans 1 month; 12 monthly instalments span 12;
 * 13 weekly instalments (first + 84 days) span 3.
 */
export function planSpanMonths(first: Date, last: Date): number {
  assertCalendarDate(first, 'first due date');
  assertCalendarDate(last, 'last due date');
  if (last.getTime() < first.getTime()) throw new RangeError('the last due date is before the first');
  // m = calendar months between them. addMonthsClamped(first, m) lies in last's month, so the
  // answer is m + 1 when last is on or after it, else m (at least 1).
  const m = (last.getUTCFullYear() - first.getUTCFullYear()) * 12 + (last.getUTCMonth() - first.getUTCMonth());
  return addMonthsClamped(first, m).getTime() <= last.getTime() ? m + 1 : Math.max(1, m);
}

export type PlanTermCheck = { ok: true; months: number } | { ok: false; months: number; reason: string };

/** Whether a plan from `firstDueDate` to `lastDueDate` keeps within MAX_PLAN_MONTHS (see there). */
export function checkPlanTerm(firstDueDate: Date, lastDueDate: Date): PlanTermCheck {
  const months = planSpanMonths(firstDueDate, lastDueDate);
  if (months <= MAX_PLAN_MONTHS) return { ok: true, months };
  return {
    ok: false,
    months,
    reason: `The plan runs ${months} months; at most ${MAX_PLAN_MONTHS} (5 years) are allowed.`,
  };
}
