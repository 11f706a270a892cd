/**
 * Issue 16 point 5: the commission arithmetic (src/modules/commission/calculate.ts), exact to the
 * minor unit: half-even rounding per line, rate rules (bucket at placement, placement vintage),
 * schedule versions by booking day, caps per case and per month, same-month and later reversals,
 * flat visit fees.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMonth, feeOf, mulDivHalfEven, rateFor, versionOn, type Collection, type ScheduleVersion } from '../../src/modules/commission/calculate.ts';

const v1: ScheduleVersion = {
  version: 1,
  effectiveFrom: '2026-03-01',
  rates: [
    { bucket: 'M1', rateBps: 800 },
    { bucket: 'M2', placedFrom: '2026-01-01', placedBefore: '2026-04-01', rateBps: 1500 },
    { bucket: 'M2', rateBps: 1200 },
  ],
  defaultRateBps: 2000,
  caseMonthlyCap: null,
  monthlyCap: null,
  visitFee: 5_000n,
};

let n = 0;
const pay = (basis: bigint, extra: Partial<Collection> = {}): Collection => {
  n++;
  return { paymentId: `p${String(n).padStart(4, '0')}`, caseId: 'c1', basis, bookedAt: new Date(Date.UTC(2026, 2, 10, 0, n)), bookedOn: '2026-03-10', bucketAtPlacement: 'M2', placedOn: '2026-03-01', reversedInPeriod: false, ...extra };
};

describe('rounding: half-even per line, integer arithmetic only', () => {
  it('exact halves go to the even minor unit; the rest to the nearest', () => {
    expect(feeOf(30n, 1500)).toBe(4n); // 4.5 → 4
    expect(feeOf(50n, 1500)).toBe(8n); // 7.5 → 8
    expect(feeOf(12_345n, 1500)).toBe(1_852n); // 1851.75 → 1852
    expect(feeOf(12_343n, 1500)).toBe(1_851n); // 1851.45 → 1851
    expect(feeOf(1n, 5000)).toBe(0n); // 0.5 → 0
    expect(feeOf(3n, 5000)).toBe(2n); // 1.5 → 2
    expect(feeOf(5n, 5000)).toBe(2n); // 2.5 → 2
    expect(feeOf(-30n, 1500)).toBe(-4n); // symmetric
    expect(feeOf(9_007_199_254_740_991n, 10_000)).toBe(9_007_199_254_740_991n); // beyond a double's exact fractions
  });

  it('property: |a×b/d − round| ≤ ½, and ties are even', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 10_000 }), (a, bps) => {
        const r = mulDivHalfEven(a, BigInt(bps), 10_000n);
        const twice = a * BigInt(bps) * 2n - r * 2n * 10_000n; // 2·(exact − r)·10000
        expect(twice <= 10_000n && twice >= -10_000n).toBe(true);
        if (twice === 10_000n || twice === -10_000n) expect(r % 2n).toBe(0n);
      }),
    );
  });
});

describe('rates and versions', () => {
  it('the first matching rule: bucket at placement, then vintage; none: the default', () => {
    expect(rateFor(v1, 'M1', '2026-03-01')).toBe(800);
    expect(rateFor(v1, 'M2', '2026-03-31')).toBe(1500);
    expect(rateFor(v1, 'M2', '2026-04-01')).toBe(1200); // placedBefore is exclusive
    expect(rateFor(v1, 'M2', '2025-12-31')).toBe(1200);
    expect(rateFor(v1, 'M4', '2026-03-01')).toBe(2000);
  });

  it('the version in force on the booking day', () => {
    const v2 = { ...v1, version: 2, effectiveFrom: '2026-03-15', defaultRateBps: 100 };
    expect(versionOn([v1, v2], '2026-02-28')).toBeNull();
    expect(versionOn([v2, v1], '2026-03-14')?.version).toBe(1);
    expect(versionOn([v1, v2], '2026-03-15')?.version).toBe(2);
    const m = computeMonth({ versions: [v1, v2], collections: [pay(10_000n, { bucketAtPlacement: 'M5', bookedOn: '2026-03-14' }), pay(10_000n, { bucketAtPlacement: 'M5', bookedOn: '2026-03-15' })], reversals: [], visits: [] });
    expect(m.lines.map((l) => [l.scheduleVersion, l.rateBps, l.fee])).toEqual([
      [1, 2000, 2_000n],
      [2, 100, 100n],
    ]);
    const none = computeMonth({ versions: [v1], collections: [pay(10_000n, { bookedOn: '2026-02-28' })], reversals: [], visits: [] });
    expect(none.lines[0]).toMatchObject({ fee: 0n, rateBps: null, note: 'no fee schedule in force on the booking day' });
    expect(none.collectedAmount).toBe(10_000n);
  });
});

describe('caps, reversals and visit fees', () => {
  it('per case per month, then per month, in booking order; the uncapped fee is kept beside', () => {
    const v = { ...v1, caseMonthlyCap: 2_000n, monthlyCap: 3_000n };
    const m = computeMonth({
      versions: [v],
      collections: [pay(10_000n), pay(10_000n), pay(10_000n, { caseId: 'c2' }), pay(10_000n, { caseId: 'c3' })],
      reversals: [],
      visits: [],
    });
    // 15% of 10 000 = 1 500 each: c1 1 500 then 500 (case cap 2 000); c2 1 000 (month cap 3 000); c3 0.
    expect(m.lines.map((l) => [l.caseId, l.uncappedFee, l.fee])).toEqual([
      ['c1', 1_500n, 1_500n],
      ['c1', 1_500n, 500n],
      ['c2', 1_500n, 1_000n],
      ['c3', 1_500n, 0n],
    ]);
    expect(m.lines[1]!.note).toContain('case cap 2000');
    expect(m.lines[2]!.note).toContain('monthly cap 3000');
    expect(m.feeAmount).toBe(3_000n);
    expect(m.collectedAmount).toBe(40_000n);
  });

  it('a payment reversed in the same month earns nothing and takes no room under a cap', () => {
    const v = { ...v1, caseMonthlyCap: 1_500n };
    const m = computeMonth({ versions: [v], collections: [pay(10_000n, { reversedInPeriod: true }), pay(10_000n)], reversals: [], visits: [] });
    expect(m.lines.map((l) => [l.uncappedFee, l.fee])).toEqual([
      [1_500n, 0n],
      [1_500n, 1_500n],
    ]);
    expect(m.collectedAmount).toBe(10_000n);
  });

  it('a later reversal takes back exactly what the payment earned (after caps), uncapped itself', () => {
    const m = computeMonth({
      versions: [{ ...v1, caseMonthlyCap: 1n }],
      collections: [pay(10_000n)],
      reversals: [{ reversalId: 'r1', paymentId: 'p-old', caseId: 'c9', bookedAt: new Date('2026-03-02T00:00:00Z'), originalBasis: 7_777n, originalFee: 1_167n }],
      visits: [],
    });
    const reversal = m.lines.find((l) => l.kind === 'REVERSAL')!;
    expect(reversal).toMatchObject({ basisAmount: -7_777n, fee: -1_167n, paymentId: 'p-old', reversalId: 'r1' });
    expect(m.feeAmount).toBe(1n - 1_167n);
    expect(m.collectedAmount).toBe(10_000n - 7_777n);
  });

  it('a flat fee per completed visit, by the version of its day', () => {
    const m = computeMonth({
      versions: [v1],
      collections: [],
      reversals: [],
      visits: [
        { visitId: 'v1', caseId: 'c1', bookedAt: new Date('2026-03-05T00:00:00Z'), bookedOn: '2026-03-05' },
        { visitId: 'v0', caseId: 'c1', bookedAt: new Date('2026-02-27T00:00:00Z'), bookedOn: '2026-02-27' },
      ],
    });
    expect(m.lines.map((l) => [l.visitId, l.fee])).toEqual([
      ['v0', 0n],
      ['v1', 5_000n],
    ]);
  });

  it('property: the statement is the sum of its lines, no line above its uncapped fee, caps never exceeded', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ basis: fc.bigInt({ min: 1n, max: 10n ** 9n }), caseNo: fc.integer({ min: 1, max: 4 }), reversed: fc.boolean(), bucket: fc.constantFrom('M1', 'M2', 'M3' as const) }), { maxLength: 30 }),
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 7n }), { nil: null }),
        fc.option(fc.bigInt({ min: 1n, max: 10n ** 8n }), { nil: null }),
        (rows, caseCap, monthCap) => {
          const m = computeMonth({
            versions: [{ ...v1, caseMonthlyCap: caseCap, monthlyCap: monthCap }],
            collections: rows.map((r) => pay(r.basis, { caseId: `c${r.caseNo}`, reversedInPeriod: r.reversed, bucketAtPlacement: r.bucket })),
            reversals: [],
            visits: [],
          });
          expect(m.feeAmount).toBe(m.lines.reduce((s, l) => s + l.fee, 0n));
          for (const l of m.lines) expect(l.fee >= 0n && l.fee <= l.uncappedFee).toBe(true);
          if (monthCap !== null) expect(m.feeAmount <= monthCap).toBe(true);
          if (caseCap !== null) {
            const byCase = new Map<string, bigint>();
            for (const l of m.lines) byCase.set(l.caseId, (byCase.get(l.caseId) ?? 0n) + l.fee);
            for (const total of byCase.values()) expect(total <= caseCap).toBe(true);
          }
        },
      ),
    );
  });
});
