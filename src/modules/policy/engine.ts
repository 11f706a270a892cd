/**
 * The contact policy engine (DOMAIN.md, "Reminders"): a pure function of
 * (policy, debtor, contact point, channel, contact history, holds, instant) that answers
 * "allowed" or "refused, by this rule, and the next instant at which the contact would be allowed".
 *
 * Pure: no I/O, no clock. The instant is an input (`at`), taken by the caller from its Clock.
 *
 * The figures are data (a ContactPolicy row, seeded from POLICY_PRESETS); where they come from:
 *
 * | rule                               | CN            | US            | source                                            |
 * | ---------------------------------- | ------------- | ------------- | ------------------------------------------------- |
 * | contact hours (debtor's own zone)  | 08:00–22:00   | 08:00–21:00   | GB/T 45251-2025, China Banking Association        |
 * |                                    |               |               | guideline (2026); Regulation F 1006.6(b)(1)(i)    |
 * | connected calls per local day      | 3             | –             | GB/T 45251-2025                                   |
 * | attempts to one unanswered number  | 6             | –             | China Banking Association guideline               |
 * |   per local day                    |               |               |                                                   |
 * | call attempts per debt, 7 days     | –             | 7             | Regulation F 1006.14(b)(2)(i)                     |
 * | no call 7 days after conversation  | –             | 7 days        | Regulation F 1006.14(b)(2)(ii)                    |
 * | do-not-contact, cease-contact      | every channel | every channel | Regulation F 1006.6; FDCPA 805(c); PIPL (consent) |
 * | only the debtor's own points       | always        | always        | 2011 credit-card measures art. 68; FDCPA 805(b)   |
 *
 * A null figure disables its rule. The debtor's jurisdiction chooses the policy row (the caller's
 * job); the debtor's IANA time zone decides what "local day" and "contact hours" mean here.
 */
import type { ContactChannel, ContactPointKind } from '../../generated/prisma/enums.ts';
import { DAY_MS, localDate } from '../../lib/time.ts';
import type { ContactPolicyFigures } from './presets.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** The rolling window of Regulation F 1006.14(b)(2)(i): seven days, as 7 × 24 h of instants. */
const SEVEN_DAYS_MS = 7 * DAY_MS;

/** The rules, in the order they are checked. */
export const POLICY_RULES = [
  'CASE_ON_HOLD',
  'CEASE_CONTACT',
  'THIRD_PARTY',
  'DO_NOT_CONTACT',
  'CHANNEL_MISMATCH',
  'CONTACT_HOURS',
  'CONNECTED_CALLS_PER_DAY',
  'ATTEMPTS_PER_NUMBER_PER_DAY',
  'CALL_ATTEMPTS_PER_7_DAYS',
  'QUIET_AFTER_CONVERSATION',
] as const;

export type PolicyRule = (typeof POLICY_RULES)[number];

/** The figures the engine reads: a ContactPolicy row or a preset satisfies it. */
export type PolicyFigures = Pick<
  ContactPolicyFigures,
  | 'contactHoursStart'
  | 'contactHoursEnd'
  | 'maxConnectedCallsPerDay'
  | 'maxAttemptsPerNumberPerDay'
  | 'maxCallAttemptsPer7Days'
  | 'quietDaysAfterConversation'
>;

export interface PolicyContactPoint {
  id: string;
  /** party === 'DEBTOR' and the contact point belongs to this debtor. */
  debtorOwn: boolean;
  kind: ContactPointKind;
  doNotContact: boolean;
}

/** A COMPLETED (not BLOCKED) contact attempt of the debtor, on any of its cases. */
export interface PolicyHistoryEntry {
  attemptedAt: Date;
  channel: ContactChannel;
  contactPointId: string | null;
  /** A conversation took place (the debtor was reached). */
  connected: boolean;
  caseId: string;
}

export interface PolicyHold {
  startsAt: Date;
  endsAt: Date | null;
  releasedAt: Date | null;
}

export interface PolicyInput {
  policy: PolicyFigures;
  debtor: { timeZone: string; ceaseContact: boolean };
  /**
   * The contact point used; null for a LETTER, which goes to a postal address, not to a contact
   * point. Every other channel needs one (CHANNEL_MISMATCH without), and a LETTER with one is a
   * CHANNEL_MISMATCH too (see channelFits).
   */
  contactPoint: PolicyContactPoint | null;
  channel: ContactChannel;
  /**
   * Completed (not BLOCKED) attempts of this debtor, on all its cases, at least from
   * historyWindowStart(policy, at, timeZone). Per-debtor rules count all of them; per-debt rules
   * (7-day attempts, quiet period) only those of `caseId`; the per-number rule only those of the
   * contact point. Entries after `at` are ignored: the engine answers as of `at`.
   */
  history: readonly PolicyHistoryEntry[];
  /** The case (the debt) the contact is about. */
  caseId: string;
  /** The holds of the case (released or not, past or future: the engine sorts them out). */
  holds: readonly PolicyHold[];
  at: Date;
}

export type PolicyDecision =
  | { allowed: true }
  | {
      allowed: false;
      rule: PolicyRule;
      message: string;
      /**
       * The first instant at or after which the same contact would be allowed, given no new
       * history and no change of data: every rule passes there. null = not by waiting
       * (do-not-contact, cease, third party, a hold without end, channel mismatch, a zero figure).
       */
      nextAllowedAt: Date | null;
    };

/**
 * Whether the contact history can refuse a contact on this channel: the counting rules (calls per
 * day, attempts per number, the 7-day count, the quiet period) are about calls only. A caller
 * deciding an SMS or an e-mail need not read the history at all (contact/service.ts).
 */
export function historyCountsFor(channel: ContactChannel): boolean {
  return channel === 'CALL';
}

/**
 * Whether a channel can reach a kind of contact point.
 * - SMS: a MOBILE only (landlines take no text messages).
 * - CALL: any phone (MOBILE, HOME_PHONE, WORK_PHONE).
 * - EMAIL: an EMAIL only.
 * - LETTER: never a contact point: a letter goes to one of the debtor's postal addresses
 *   (Address rows are the debtor's own), so the engine is called with `contactPoint: null` for
 *   it, and a LETTER with a contact point is refused as CHANNEL_MISMATCH rather than silently
 *   accepted (a caller that sends one is confused about where the letter goes).
 */
export function channelFits(channel: ContactChannel, kind: ContactPointKind): boolean {
  switch (channel) {
    case 'SMS':
      return kind === 'MOBILE';
    case 'CALL':
      return kind === 'MOBILE' || kind === 'HOME_PHONE' || kind === 'WORK_PHONE';
    case 'EMAIL':
      return kind === 'EMAIL';
    case 'LETTER':
      return false;
  }
}

/**
 * The earliest instant of history the rules can need for a decision at `at` (including the
 * nextAllowedAt search, which only moves forward): load attempts with attemptedAt >= this.
 * - per-local-day rules: the start of the debtor's local day of `at`;
 * - the 7-day rolling count: at − 7 days;
 * - the quiet period: at − quietDaysAfterConversation days.
 * With every history rule disabled, `at` itself.
 */
export function historyWindowStart(policy: PolicyFigures, at: Date, timeZone: string): Date {
  let start = at.getTime();
  if (policy.maxConnectedCallsPerDay !== null || policy.maxAttemptsPerNumberPerDay !== null) {
    start = Math.min(start, zonedWallTimeToInstant(localDate(at, timeZone), 0, timeZone).getTime());
  }
  if (policy.maxCallAttemptsPer7Days !== null) start = Math.min(start, at.getTime() - SEVEN_DAYS_MS);
  if (policy.quietDaysAfterConversation !== null && policy.quietDaysAfterConversation > 0) {
    start = Math.min(start, at.getTime() - policy.quietDaysAfterConversation * DAY_MS);
  }
  return new Date(start);
}

/**
 * The first instant at which the clock on the wall in `timeZone` reads `minutes` after midnight
 * of `date` (YYYY-MM-DD), or later. Without a date library: the zone's UTC offsets around the
 * wall time are read from Intl.DateTimeFormat and each candidate is checked.
 * - an ordinary wall time: its one instant;
 * - a repeated wall time (the hour a clock turned back repeats, e.g. 01:30 on 2026-11-01 in
 *   America/New_York): the first of its two instants;
 * - a skipped wall time (the hour a clock jumped over, e.g. 02:30 on 2026-03-08 in New York):
 *   the instant of the jump (03:00 EDT), the first instant whose wall time is later.
 * `minutes` may reach 1440 (midnight ending the day).
 */
export function zonedWallTimeToInstant(date: string, minutes: number, timeZone: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m || !Number.isFinite(minutes)) throw new RangeError(`not a wall time: ${date} + ${minutes} min`);
  const midnight = new Date(0);
  midnight.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const wall = midnight.getTime() + Math.round(minutes * MINUTE_MS);

  // Offsets in force around the wall time: any instant showing it lies within 14 h of it.
  const offsets = [...new Set([wall - 36 * HOUR_MS, wall, wall + 36 * HOUR_MS].map((t) => offsetAt(t, timeZone)))].sort(
    (a, b) => a - b,
  );
  let best = Number.POSITIVE_INFINITY;
  for (const o of offsets) {
    const t = wall - o;
    if (wallClockMs(t, timeZone) === wall && t < best) best = t;
  }
  if (best !== Number.POSITIVE_INFINITY) return new Date(best);

  // Skipped: the wall clock jumps from below `wall` (at lo) to above it (at hi). Find the jump.
  let lo = wall - offsets[offsets.length - 1]!;
  let hi = wall - offsets[0]!;
  if (!(wallClockMs(lo, timeZone) < wall && wallClockMs(hi, timeZone) >= wall)) {
    // Not a simple jump (never seen in tzdata): the usual two-step approximation.
    return new Date(wall - offsetAt(wall - offsetAt(wall, timeZone), timeZone));
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (wallClockMs(mid, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

// ------------------------------------------------------------------------ the rules

interface Refusal {
  rule: PolicyRule;
  message: string;
  /** A lower bound of the next allowed instant (> t), or null: not by waiting. */
  next: number | null;
}

/**
 * Evaluates the contact. Checks run in the order of POLICY_RULES; the first that refuses answers.
 * nextAllowedAt is the real next allowed instant: each rule's candidate (an instant before which
 * that rule refuses throughout) is re-evaluated against all the rules, and moved on, until every
 * rule passes. Each step moves past a hold's end, a history entry or a contact-hours window, so
 * the loop is bounded by the number of holds and entries.
 */
export function evaluateContact(input: PolicyInput): PolicyDecision {
  checkFigures(input.policy);
  const first = firstRefusal(input, input.at.getTime());
  if (!first) return { allowed: true };

  let next = first.next;
  const limit = 8 + 2 * (input.holds.length + 3 * input.history.length);
  for (let i = 0; next !== null && i < limit; i++) {
    const again = firstRefusal(input, next);
    if (!again) break;
    next = again.next === null ? null : Math.max(again.next, next + 1);
  }
  // Past the limit (which the argument above says cannot happen), `next` is still a lower bound:
  // a caller that waits until then is refused again with a later instant, never allowed early.
  return { allowed: false, rule: first.rule, message: first.message, nextAllowedAt: next === null ? null : new Date(next) };
}

function firstRefusal(input: PolicyInput, t: number): Refusal | null {
  const { policy, debtor, contactPoint, channel, caseId } = input;
  const zone = debtor.timeZone;

  // CASE_ON_HOLD: a hold pauses all contact on the case (DOMAIN.md "Hold"). Active on
  // [startsAt, min(endsAt, releasedAt)); without end and not released, indefinite.
  let onHold = false;
  let holdEnd = Number.NEGATIVE_INFINITY;
  for (const h of input.holds) {
    const end = Math.min(h.endsAt?.getTime() ?? Number.POSITIVE_INFINITY, h.releasedAt?.getTime() ?? Number.POSITIVE_INFINITY);
    if (h.startsAt.getTime() <= t && t < end) {
      onHold = true;
      holdEnd = Math.max(holdEnd, end);
    }
  }
  if (onHold) {
    const indefinite = holdEnd === Number.POSITIVE_INFINITY;
    return {
      rule: 'CASE_ON_HOLD',
      message: indefinite ? 'The case is on hold with no end date: no contact.' : `The case is on hold until ${new Date(holdEnd).toISOString()}: no contact.`,
      next: indefinite ? null : holdEnd,
    };
  }

  // CEASE_CONTACT: the debtor asked that contact cease (Regulation F 1006.6; FDCPA 805(c); PIPL
  // withdrawal of consent). Every channel, letters included.
  if (debtor.ceaseContact) {
    return { rule: 'CEASE_CONTACT', message: 'The debtor has asked that contact cease: no contact on any channel.', next: null };
  }

  if (contactPoint) {
    // THIRD_PARTY: third parties (emergency contacts) are never told of the debt; only the
    // debtor's own contact points (2011 credit-card measures art. 68; FDCPA 805(b)).
    if (!contactPoint.debtorOwn) {
      return { rule: 'THIRD_PARTY', message: "Only the debtor's own contact points may be used: third parties are never told of the debt.", next: null };
    }
    // DO_NOT_CONTACT: honoured on every channel (Regulation F 1006.6; PIPL).
    if (contactPoint.doNotContact) {
      return { rule: 'DO_NOT_CONTACT', message: 'This contact point is marked do-not-contact.', next: null };
    }
  }

  // CHANNEL_MISMATCH: see channelFits.
  if (contactPoint ? !channelFits(channel, contactPoint.kind) : channel !== 'LETTER') {
    return {
      rule: 'CHANNEL_MISMATCH',
      message: contactPoint
        ? `A ${channel} cannot go to a ${contactPoint.kind} contact point.`
        : `A ${channel} needs a contact point.`,
      next: null,
    };
  }

  // A letter reaches the debtor when delivered, not now: no contact hours, no call counts.
  if (channel === 'LETTER') return null;

  // CONTACT_HOURS: [start, end) of the wall clock in the debtor's own IANA zone, for every
  // channel that reaches the person now (CALL, SMS, EMAIL). CN 08:00–22:00 (GB/T 45251-2025;
  // China Banking Association guideline 2026: none 22:00–08:00); US 08:00–21:00 (Regulation F
  // 1006.6(b)(1)(i)). Refused before start: today's start; at or after end: tomorrow's start.
  // (Exact unless a clock turned back across the end of the window the same evening, which no
  // zone does at these hours; even then the answer is an allowed instant, only not the first.)
  const now = wallClock(t, zone);
  const startMs = policy.contactHoursStart * MINUTE_MS;
  const endMs = policy.contactHoursEnd * MINUTE_MS;
  if (now.msOfDay < startMs || now.msOfDay >= endMs) {
    let next = zonedWallTimeToInstant(now.msOfDay < startMs ? now.date : addDays(now.date, 1), policy.contactHoursStart, zone).getTime();
    if (next <= t) next = zonedWallTimeToInstant(addDays(now.date, 1), policy.contactHoursStart, zone).getTime();
    return {
      rule: 'CONTACT_HOURS',
      message: `Outside contact hours ${hhmm(policy.contactHoursStart)}–${hhmm(policy.contactHoursEnd)} in the debtor's time zone ${zone} (local time ${hhmm(now.msOfDay / MINUTE_MS)}).`,
      next: Math.max(next, t + 1),
    };
  }

  // The counting rules are about calls: SMS and EMAIL are not calls and count for none of them.
  if (!historyCountsFor(channel)) return null;
  const calls = input.history.filter((h) => h.channel === 'CALL' && h.attemptedAt.getTime() <= t);
  // The same Intl source for the day of the call and the day of each entry (lib/time.ts).
  const today = localDate(new Date(t), zone);
  const nextDayStart = (): number => zonedWallTimeToInstant(addDays(today, 1), policy.contactHoursStart, zone).getTime();

  // CONNECTED_CALLS_PER_DAY: connected calls to the debtor (all contact points, all cases) on
  // the debtor's local day of the call. CN 3 (GB/T 45251-2025). The (N+1)th is refused until the
  // next local day's contact hours.
  const maxConnected = policy.maxConnectedCallsPerDay;
  if (maxConnected !== null) {
    const n = calls.filter((h) => h.connected && localDate(h.attemptedAt, zone) === today).length;
    if (n >= maxConnected) {
      return {
        rule: 'CONNECTED_CALLS_PER_DAY',
        message: `${n} connected call(s) with the debtor already on ${today} (${zone}); at most ${maxConnected} per local day.`,
        next: maxConnected <= 0 ? null : nextDayStart(),
      };
    }
  }

  // ATTEMPTS_PER_NUMBER_PER_DAY: unanswered (not connected) calls to this contact point, all
  // cases, on the debtor's local day. CN 6 (China Banking Association guideline). With N already,
  // refused until the next local day's contact hours.
  const maxPerNumber = policy.maxAttemptsPerNumberPerDay;
  if (maxPerNumber !== null && contactPoint) {
    const n = calls.filter((h) => !h.connected && h.contactPointId === contactPoint.id && localDate(h.attemptedAt, zone) === today).length;
    if (n >= maxPerNumber) {
      return {
        rule: 'ATTEMPTS_PER_NUMBER_PER_DAY',
        message: `${n} unanswered call(s) to this number already on ${today} (${zone}); at most ${maxPerNumber} per local day.`,
        next: maxPerNumber <= 0 ? null : nextDayStart(),
      };
    }
  }

  const ofCase = calls.filter((h) => h.caseId === caseId);

  // CALL_ATTEMPTS_PER_7_DAYS: call attempts (connected or not) about this debt in the rolling
  // window (t − 7 days, t]. US 7 (Regulation F 1006.14(b)(2)(i)). The regulation counts seven
  // consecutive calendar days; every such window that holds the call lies inside this rolling
  // one (no later history exists), so this count is never lower: the stricter reading. Refused
  // until enough of the oldest attempts have left the window.
  const max7 = policy.maxCallAttemptsPer7Days;
  if (max7 !== null) {
    const inWindow = ofCase.map((h) => h.attemptedAt.getTime()).filter((a) => a > t - SEVEN_DAYS_MS).sort((a, b) => a - b);
    if (inWindow.length >= max7) {
      return {
        rule: 'CALL_ATTEMPTS_PER_7_DAYS',
        message: `${inWindow.length} call attempt(s) about this debt in the last 7 days; at most ${max7}.`,
        next: max7 <= 0 ? null : inWindow[inWindow.length - max7]! + SEVEN_DAYS_MS,
      };
    }
  }

  // QUIET_AFTER_CONVERSATION: no call about this debt within N days after a conversation (a
  // connected call) about it: refused on [conversation, conversation + N days). US 7 (Regulation
  // F 1006.14(b)(2)(ii)). The regulation counts the conversation's date as day 1 of 7 calendar
  // days; 7 × 24 h from the conversation ends later than that, so again the stricter reading.
  const quietDays = policy.quietDaysAfterConversation;
  if (quietDays !== null && quietDays > 0) {
    const quietMs = quietDays * DAY_MS;
    let last = Number.NEGATIVE_INFINITY;
    for (const h of ofCase) if (h.connected) last = Math.max(last, h.attemptedAt.getTime());
    if (last > t - quietMs) {
      return {
        rule: 'QUIET_AFTER_CONVERSATION',
        message: `A conversation about this debt took place at ${new Date(last).toISOString()}: no call for ${quietDays} day(s) after it.`,
        next: last + quietMs,
      };
    }
  }

  return null;
}

function checkFigures(p: PolicyFigures): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 1440;
  if (!ok(p.contactHoursStart) || !ok(p.contactHoursEnd) || p.contactHoursStart >= p.contactHoursEnd) {
    throw new RangeError(`contact hours must be minutes with 0 <= start < end <= 1440, not ${p.contactHoursStart}–${p.contactHoursEnd}`);
  }
}

// ------------------------------------------------------------------------ wall clock

const WALL_FORMATS = new Map<string, Intl.DateTimeFormat>();

function wallFormat(timeZone: string): Intl.DateTimeFormat {
  let f = WALL_FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    WALL_FORMATS.set(timeZone, f);
  }
  return f;
}

/** The wall clock of instant t in the zone, as milliseconds of a UTC calendar (t + offset). */
function wallClockMs(t: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of wallFormat(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const d = new Date(0);
  d.setUTCFullYear(parts.year!, parts.month! - 1, parts.day!);
  d.setUTCHours(parts.hour! % 24, parts.minute!, parts.second!, new Date(t).getUTCMilliseconds());
  return d.getTime();
}

function offsetAt(t: number, timeZone: string): number {
  return wallClockMs(t, timeZone) - t;
}

/** The local date (YYYY-MM-DD) and the milliseconds since local midnight (wall clock) of t. */
function wallClock(t: number, timeZone: string): { date: string; msOfDay: number } {
  const wall = wallClockMs(t, timeZone);
  const msOfDay = ((wall % DAY_MS) + DAY_MS) % DAY_MS;
  return { date: new Date(wall - msOfDay).toISOString().slice(0, 10), msOfDay };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function hhmm(minutes: number): string {
  const m = Math.floor(minutes);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
