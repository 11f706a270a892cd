/**
 * The commission of one agency for one month, as a pure function of what happened in its era
 * (issue 16 point 5). No I/O here: src/modules/commission/service.ts loads the facts and stores
 * the lines. Every amount is an integer number of minor units (bigint); a rate is in basis
 * points (1500 = 15.00%).
 *
 * The rules, in the order they apply:
 * 1. A payment counts in the month it was booked (recorded; the bank's zone), not the day the
 *    debtor says it was sent: a booked month never changes, so an issued statement stays true.
 * 2. Only payments of the agency's era count (the agency held the case when it was booked): a
 *    payment after a recall is not the agency's. What a payment put towards the debt counts
 *    (its amount less what was kept as credit).
 * 3. The rate is the first rule of the schedule version in force on the booking day that matches
 *    the placement (the bucket of the case on the day it was placed with the agency, the
 *    placement's vintage: placedFrom ≤ placed day < placedBefore); none matching, the default.
 * 4. fee = basis × rateBps / 10 000, rounded half-even (to the nearest minor unit; an exact half
 *    to the even one) on each line, never on a total: 0.5 → 0, 1.5 → 2, 2.5 → 2.
 * 5. Caps, in booking order: the percentage fees of one case in the month at most the version's
 *    caseMonthlyCap, then all percentage fees of the month at most its monthlyCap; a line over a
 *    cap earns what is left under it (possibly 0), with its uncapped fee kept beside it.
 * 6. A payment reversed in the same month earns nothing (its line shows the uncapped fee and 0).
 *    A reversal in a later month of a payment counted before is a negative line of exactly what
 *    that payment earned (after caps): caps never apply to it.
 * 7. A completed visit of the agency (booked in the month) earns the version's flat visit fee.
 */
import { bucketOf, BUCKETS, type Bucket } from '../../lib/time.ts';

export interface RateRule {
  bucket?: Bucket | null;
  /** YYYY-MM-DD: placements on or after this day. */
  placedFrom?: string | null;
  /** YYYY-MM-DD: placements before this day. */
  placedBefore?: string | null;
  rateBps: number;
}

export interface ScheduleVersion {
  version: number;
  /** YYYY-MM-DD */
  effectiveFrom: string;
  rates: RateRule[];
  defaultRateBps: number;
  caseMonthlyCap: bigint | null;
  monthlyCap: bigint | null;
  visitFee: bigint;
}

export interface Collection {
  paymentId: string;
  caseId: string;
  /** What the payment put towards the debt. */
  basis: bigint;
  bookedAt: Date;
  /** YYYY-MM-DD in the bank's zone. */
  bookedOn: string;
  /** The bucket of the case on the day it was placed with the agency. */
  bucketAtPlacement: Bucket;
  /** YYYY-MM-DD in the bank's zone. */
  placedOn: string;
  reversedInPeriod: boolean;
}

export interface LateReversal {
  reversalId: string;
  paymentId: string;
  caseId: string;
  bookedAt: Date;
  /** The basis and the fee the payment earned in its own month. */
  originalBasis: bigint;
  originalFee: bigint;
}

export interface CompletedVisit {
  visitId: string;
  caseId: string;
  bookedAt: Date;
  bookedOn: string;
}

export type LineKind = 'COLLECTION' | 'REVERSAL' | 'VISIT_FEE';

export interface Line {
  kind: LineKind;
  caseId: string;
  paymentId: string | null;
  reversalId: string | null;
  visitId: string | null;
  basisAmount: bigint;
  rateBps: number | null;
  uncappedFee: bigint;
  fee: bigint;
  scheduleVersion: number | null;
  note: string;
}

export interface MonthResult {
  lines: Line[];
  collectedAmount: bigint;
  feeAmount: bigint;
}

/** a × b / d rounded half to even; d > 0. Exact for any sign. */
export function mulDivHalfEven(a: bigint, b: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const n = a * b;
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  const r = abs % d;
  if (r * 2n > d || (r * 2n === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

export function feeOf(basis: bigint, rateBps: number): bigint {
  return mulDivHalfEven(basis, BigInt(rateBps), 10_000n);
}

/** The version in force on a day: the latest whose effectiveFrom is on or before it. */
export function versionOn(versions: readonly ScheduleVersion[], day: string): ScheduleVersion | null {
  let found: ScheduleVersion | null = null;
  for (const v of versions) if (v.effectiveFrom <= day && (!found || v.effectiveFrom > found.effectiveFrom)) found = v;
  return found;
}

export function rateFor(v: ScheduleVersion, bucket: Bucket, placedOn: string): number {
  for (const r of v.rates) {
    if (r.bucket != null && r.bucket !== bucket) continue;
    if (r.placedFrom != null && placedOn < r.placedFrom) continue;
    if (r.placedBefore != null && placedOn >= r.placedBefore) continue;
    return r.rateBps;
  }
  return v.defaultRateBps;
}

export function bucketAtPlacement(daysPastDueWhenPlaced: number): Bucket {
  return bucketOf(daysPastDueWhenPlaced);
}

const byTime = <T extends { bookedAt: Date }>(key: (x: T) => string) => (a: T, b: T) => a.bookedAt.getTime() - b.bookedAt.getTime() || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export function computeMonth(input: { versions: readonly ScheduleVersion[]; collections: readonly Collection[]; reversals: readonly LateReversal[]; visits: readonly CompletedVisit[] }): MonthResult {
  const lines: Line[] = [];
  const caseUsed = new Map<string, bigint>();
  let monthUsed = 0n;
  let collected = 0n;
  for (const c of [...input.collections].sort(byTime((x) => x.paymentId))) {
    const v = versionOn(input.versions, c.bookedOn);
    const base = { kind: 'COLLECTION' as const, caseId: c.caseId, paymentId: c.paymentId, reversalId: null, visitId: null, basisAmount: c.basis };
    if (!v) {
      lines.push({ ...base, rateBps: null, uncappedFee: 0n, fee: 0n, scheduleVersion: null, note: 'no fee schedule in force on the booking day' });
      if (!c.reversedInPeriod) collected += c.basis;
      continue;
    }
    const rate = rateFor(v, c.bucketAtPlacement, c.placedOn);
    const uncapped = feeOf(c.basis, rate);
    if (c.reversedInPeriod) {
      lines.push({ ...base, rateBps: rate, uncappedFee: uncapped, fee: 0n, scheduleVersion: v.version, note: 'reversed in the same month: earns nothing' });
      continue;
    }
    collected += c.basis;
    let fee = uncapped;
    const notes: string[] = [];
    const used = caseUsed.get(c.caseId) ?? 0n;
    if (v.caseMonthlyCap !== null && used + fee > v.caseMonthlyCap) {
      fee = v.caseMonthlyCap > used ? v.caseMonthlyCap - used : 0n;
      notes.push(`case cap ${v.caseMonthlyCap} per month`);
    }
    if (v.monthlyCap !== null && monthUsed + fee > v.monthlyCap) {
      fee = v.monthlyCap > monthUsed ? v.monthlyCap - monthUsed : 0n;
      notes.push(`monthly cap ${v.monthlyCap}`);
    }
    caseUsed.set(c.caseId, used + fee);
    monthUsed += fee;
    lines.push({ ...base, rateBps: rate, uncappedFee: uncapped, fee, scheduleVersion: v.version, note: notes.length ? `capped: ${notes.join(', ')}` : '' });
  }
  for (const r of [...input.reversals].sort(byTime((x) => x.reversalId))) {
    collected -= r.originalBasis;
    lines.push({
      kind: 'REVERSAL',
      caseId: r.caseId,
      paymentId: r.paymentId,
      reversalId: r.reversalId,
      visitId: null,
      basisAmount: -r.originalBasis,
      rateBps: null,
      uncappedFee: -r.originalFee,
      fee: -r.originalFee,
      scheduleVersion: null,
      note: 'reversal of a payment counted in an earlier month: what it earned is taken back',
    });
  }
  for (const x of [...input.visits].sort(byTime((y) => y.visitId))) {
    const v = versionOn(input.versions, x.bookedOn);
    const fee = v?.visitFee ?? 0n;
    lines.push({ kind: 'VISIT_FEE', caseId: x.caseId, paymentId: null, reversalId: null, visitId: x.visitId, basisAmount: 0n, rateBps: null, uncappedFee: fee, fee, scheduleVersion: v?.version ?? null, note: v ? '' : 'no fee schedule in force on the day' });
  }
  return { lines, collectedAmount: collected, feeAmount: lines.reduce((s, l) => s + l.fee, 0n) };
}

export const RATE_BUCKETS = BUCKETS;
