import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { armForShare, splitPoint, CHAMPION_ARM } from '../../src/modules/strategy/split.ts';
import { wilson, meanInterval, addSample } from '../../src/modules/strategy/stats.ts';
import { chooseAgency, performanceFactors, type PoolMemberState } from '../../src/modules/strategy/allocation.ts';
import { parseStrategyDefinition, chooseSegment } from '../../src/modules/strategy/definition.ts';
import { DomainError } from '../../src/lib/errors.ts';

const key = Buffer.alloc(32, 7);
const uuid = fc.uuid({ version: 4 });

describe('champion-challenger split', () => {
  it('is stable: the same key, strategy, segment and case give the same point, whatever the case of the id', () => {
    fc.assert(
      fc.property(uuid, fc.string({ minLength: 1, maxLength: 20 }), (id, seg) => {
        const a = splitPoint(key, 'collections', seg, id);
        expect(splitPoint(Buffer.from(key), 'collections', seg, id.toUpperCase())).toBe(a);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThan(1);
      }),
      { numRuns: 300, seed: 1 },
    );
    // A fixed vector: the same on every run and machine (a change of the hash would reshuffle running experiments).
    expect(splitPoint(key, 'collections', 'early', '0190a1b2-0000-7000-8000-000000000001')).toMatchInlineSnapshot(`0.5716169412185828`);
  });

  it('depends on the key: another deployment’s key gives unrelated points', () => {
    const other = Buffer.alloc(32, 8);
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const same = ids.filter((id) => armForShare([{ key: 'b', share: 50 }], splitPoint(key, 's', 'x', id)) === armForShare([{ key: 'b', share: 50 }], splitPoint(other, 's', 'x', id))).length;
    expect(same).toBeGreaterThan(60);
    expect(same).toBeLessThan(140);
  });

  it('gives each arm its share within tolerance (10,000 cases, 3 arms)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 45 }), fc.integer({ min: 1, max: 45 }), fc.integer({ min: 0, max: 1000 }), (a, b, salt) => {
        const arms = [{ key: 'a', share: a }, { key: 'b', share: b }];
        const counts: Record<string, number> = { a: 0, b: 0, [CHAMPION_ARM]: 0 };
        const n = 10_000;
        for (let i = 0; i < n; i++) counts[armForShare(arms, splitPoint(key, `s${salt}`, 'seg', `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`))]!++;
        for (const [k, share] of [['a', a], ['b', b], [CHAMPION_ARM, 100 - a - b]] as const) {
          const p = share / 100;
          const tolerance = 4.5 * Math.sqrt((p * (1 - p)) / n) * n; // 4.5 standard deviations
          expect(Math.abs(counts[k]! - p * n)).toBeLessThanOrEqual(tolerance);
        }
      }),
      { numRuns: 12, seed: 2 },
    );
  });

  it('cuts [0, 1) into consecutive slices, challengers first', () => {
    const arms = [{ key: 'x', share: 10 }, { key: 'y', share: 20 }];
    expect(armForShare(arms, 0)).toBe('x');
    expect(armForShare(arms, 0.0999)).toBe('x');
    expect(armForShare(arms, 0.1)).toBe('y');
    expect(armForShare(arms, 0.2999)).toBe('y');
    expect(armForShare(arms, 0.3)).toBe(CHAMPION_ARM);
    expect(armForShare([], 0.5)).toBe(CHAMPION_ARM);
  });
});

describe('confidence intervals', () => {
  it('Wilson: known values, inside [0, 1], none for n = 0', () => {
    const w = wilson(8, 10);
    expect(w.estimate).toBe(0.8);
    expect(w.low).toBeCloseTo(0.4902, 3);
    expect(w.high).toBeCloseTo(0.9433, 3);
    const zero = wilson(0, 20);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.1611, 3);
    expect(wilson(0, 0)).toEqual({ estimate: null, low: null, high: null, n: 0 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.floor(f * n);
        const i = wilson(k, n);
        expect(i.low!).toBeGreaterThanOrEqual(0);
        expect(i.high!).toBeLessThanOrEqual(1);
        expect(i.low!).toBeLessThanOrEqual(i.estimate! + 1e-12);
        expect(i.high!).toBeGreaterThanOrEqual(i.estimate! - 1e-12);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('mean: normal approximation from sums; no interval below two samples', () => {
    const s = { n: 0, sum: 0, sumSquares: 0 };
    for (const x of [2, 4, 4, 4, 5, 5, 7, 9]) addSample(s, x);
    const m = meanInterval(s);
    expect(m.estimate).toBe(5);
    // s = 2.138 (n − 1), half = 1.959964 · 2.138 / √8 = 1.4815
    expect(m.high! - 5).toBeCloseTo(1.4815, 3);
    expect(meanInterval({ n: 1, sum: 3, sumSquares: 9 })).toEqual({ estimate: 3, low: null, high: null, n: 1 });
  });
});

describe('agency pool allocation', () => {
  const member = (id: string, weight: number, capacity: number, openCases = 0): PoolMemberState => ({ agencyId: id, weight, capacity, openCases, recentPlacements: 0, recentCured: 0 });

  it('shares placements by weight and never beyond capacity', () => {
    const pool = [member('a', 3, 1000), member('b', 1, 1000), member('c', 1, 10)];
    const placed: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 500; i++) {
      const k = chooseAgency(pool)!;
      pool[k]!.openCases++;
      placed[pool[k]!.agencyId]!++;
    }
    expect(placed.c).toBe(10);
    expect(placed.a).toBeGreaterThan(placed.b! * 2.7);
    expect(placed.a).toBeLessThan(placed.b! * 3.3);
    expect(chooseAgency([member('a', 1, 2, 2)])).toBeNull();
  });

  it('leans to the better performer: factor 0.5 + rate / pool rate, within [0.5, 1.5]', () => {
    const pool = [
      { ...member('good', 1, 100), recentPlacements: 10, recentCured: 6 },
      { ...member('poor', 1, 100), recentPlacements: 10, recentCured: 2 },
      member('new', 1, 100),
    ];
    const f = performanceFactors(pool);
    expect(f[0]).toBe(1.5); // 0.5 + 0.6 / 0.4 = 2 → 1.5
    expect(f[1]).toBeCloseTo(1.0); // 0.5 + 0.2 / 0.4
    expect(f[2]).toBe(1);
    expect(chooseAgency(pool)).toBe(0);
  });
});

describe('strategy definitions', () => {
  const agency = '0190a1b2-0000-7000-8000-0000000000aa';
  const def = parseStrategyDefinition({
    segments: [
      { key: 'high-risk', rule: { fact: 'riskScore', op: 'lt', value: 400 }, treatment: { priority: 'URGENT', placement: { kind: 'AGENCY', agencyId: agency } } },
      { key: 'rest', rule: { all: [] }, treatment: { priority: 'LOW', dunningRules: ['sms-early'] }, challengers: [{ key: 'calls', share: 30, treatment: { priority: 'HIGH' } }] },
    ],
  });

  it('takes the first segment whose rule holds, then the arm of the split', () => {
    expect(chooseSegment(def, { riskScore: 300 } as never, () => 0)!.segment.key).toBe('high-risk');
    const c = chooseSegment(def, { riskScore: 500 } as never, () => 0.1)!;
    expect([c.segment.key, c.arm, c.treatment.priority]).toEqual(['rest', 'calls', 'HIGH']);
    const d = chooseSegment(def, { riskScore: null } as never, () => 0.31)!;
    expect([d.arm, d.treatment.priority, d.treatment.dunningRules]).toEqual(['champion', 'LOW', ['sms-early']]);
  });

  it('fills defaults and refuses bad treatments with the path', () => {
    expect(def.segments[0]!.treatment).toEqual({ dunningRules: null, priority: 'URGENT', placement: { kind: 'AGENCY', agencyId: agency }, placementDays: 90, visitEligible: true });
    const bad = (d: unknown) => {
      try {
        parseStrategyDefinition(d);
      } catch (err) {
        return (err as DomainError).field;
      }
      throw new Error('accepted');
    };
    expect(bad({ segments: [] })).toEqual(['definition', 'segments']);
    expect(bad({ segments: [{ key: 'a', rule: { all: [] }, treatment: { priority: 'SOON' } }] })).toEqual(['definition', 'segments', '0', 'treatment', 'priority']);
    expect(bad({ segments: [{ key: 'a', rule: { all: [] }, treatment: {} }, { key: 'a', rule: { all: [] }, treatment: {} }] })).toEqual(['definition', 'segments', '1', 'key']);
    expect(bad({ segments: [{ key: 'a', rule: { all: [] }, treatment: {}, challengers: [{ key: 'b', share: 60, treatment: {} }, { key: 'c', share: 40, treatment: {} }] }] })).toEqual([
      'definition',
      'segments',
      '0',
      'challengers',
    ]);
    expect(bad({ segments: [{ key: 'a', rule: { all: [] }, treatment: { placement: { kind: 'POOL', agencies: [{ agencyId: agency, weight: 0, capacity: 5 }] } } }] })).toEqual([
      'definition',
      'segments',
      '0',
      'treatment',
      'placement',
      'agencies',
      '0',
      'weight',
    ]);
    expect(bad({ segments: [{ key: 'a', rule: { fact: 'bucket', op: 'eq', value: 'M0' }, treatment: {} }] })).toEqual(['definition', 'segments', '0', 'rule', 'value']);
  });
});
