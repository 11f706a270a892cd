/** Time: an injectable clock, calendar dates, days past due and buckets. */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at an instant, moved by hand: for tests and for replaying a day. */
export class FixedClock implements Clock {
  private current: Date;
  constructor(at: Date | string) {
    this.current = new Date(at);
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: Date | string): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const DAY_MS = 86_400_000;

/** The calendar date (YYYY-MM-DD) of an instant in an IANA time zone. */
export function localDate(at: Date, timeZone: string): string {
  let f = DATE_FORMATS.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    DATE_FORMATS.set(timeZone, f);
  }
  return f.format(at);
}

/** Building an Intl formatter costs far more than using one: one per zone, kept. */
const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** A calendar date stored as midnight UTC (Prisma's @db.Date) → YYYY-MM-DD. */
export function dateOnly(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** YYYY-MM-DD → midnight UTC, as Prisma stores @db.Date. */
export function parseDateOnly(s: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new RangeError(`not a calendar date: ${s}`);
  const d = new Date(`${s}T00:00:00.000Z`);
  if (Number.isNaN(d.getTime()) || dateOnly(d) !== s) throw new RangeError(`not a calendar date: ${s}`);
  return d;
}

/** Whole days from date a to date b (both YYYY-MM-DD or @db.Date values). */
export function daysBetween(a: Date | string, b: Date | string): number {
  const da = typeof a === 'string' ? parseDateOnly(a) : parseDateOnly(dateOnly(a));
  const db = typeof b === 'string' ? parseDateOnly(b) : parseDateOnly(dateOnly(b));
  return Math.round((db.getTime() - da.getTime()) / DAY_MS);
}

/** The business day of a case is the bank's: days past due count in the bank's zone. */
export const BANK_TIME_ZONE = 'Asia/Shanghai';

/**
 * Days past due: whole days from the first missed due date to today's date in the bank's zone.
 * The due date itself is day 0 (the payment may still arrive that day).
 */
export function daysPastDue(dueDate: Date, now: Date, timeZone: string = BANK_TIME_ZONE): number {
  return Math.max(0, daysBetween(dueDate, localDate(now, timeZone)));
}

export type Bucket = 'M1' | 'M2' | 'M3' | 'M4' | 'M5' | 'M6' | 'M6_PLUS';

export const BUCKETS: readonly Bucket[] = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS'];

/** M1 = 1–30 days, M2 = 31–60, … M6 = 151–180, M6+ beyond. Day 0 is counted with M1. */
export function bucketOf(days: number): Bucket {
  if (days <= 30) return 'M1';
  if (days > 180) return 'M6_PLUS';
  return BUCKETS[Math.ceil(days / 30) - 1]!;
}

/** The days-past-due band of a bucket, for filtering by due date. */
export function bucketRange(bucket: Bucket): { min: number; max: number | null } {
  const i = BUCKETS.indexOf(bucket);
  if (bucket === 'M6_PLUS') return { min: 181, max: null };
  return { min: i === 0 ? 0 : i * 30 + 1, max: (i + 1) * 30 };
}

/** The first missed due date that gives `days` past due at `now` (inverse of daysPastDue). */
export function dueDateForDaysPastDue(days: number, now: Date, timeZone: string = BANK_TIME_ZONE): Date {
  const today = parseDateOnly(localDate(now, timeZone));
  return new Date(today.getTime() - days * DAY_MS);
}

const MINUTE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight of an instant in an IANA zone (0–1439). */
export function localMinutes(at: Date, timeZone: string): number {
  let f = MINUTE_FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    MINUTE_FORMATS.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value);
  const m = Number(parts.find((p) => p.type === 'minute')?.value);
  return h * 60 + m;
}

/** Whether [start, end] lies within one local day's [from, to) minutes in the zone. */
export function withinLocalHours(start: Date, end: Date, timeZone: string, from: number, to: number): boolean {
  if (end < start) return false;
  if (localDate(start, timeZone) !== localDate(end, timeZone)) return false;
  const s = localMinutes(start, timeZone);
  const e = localMinutes(end, timeZone);
  // The end may touch the closing minute exactly (a visit until 22:00 ends as contact hours end).
  return s >= from && s < to && (e < to || (e === to && end.getUTCSeconds() === 0 && end.getUTCMilliseconds() === 0)) && e >= from;
}
