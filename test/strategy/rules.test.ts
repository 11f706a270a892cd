import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUCKETS, evaluateRule, parseRule, ruleSize, describeRule, MAX_RULE_DEPTH, MAX_RULE_NODES, type FactName, type FactValue, type Rule } from '../../src/modules/strategy/rules.ts';
import { DomainError } from '../../src/lib/errors.ts';

type Facts = Record<FactName, FactValue>;

/** The reference: no short-circuit, every child evaluated, written apart from the evaluator. */
function reference(rule: Rule, facts: Facts): boolean {
  if ('all' in rule) return rule.all.map((r) => reference(r, facts)).every(Boolean);
  if ('any' in rule) return rule.any.map((r) => reference(r, facts)).some(Boolean);
  if ('not' in rule) return !reference(rule.not, facts);
  const v = facts[rule.fact];
  if (rule.op === 'missing') return v == null;
  if (v == null) return false;
  if (rule.op === 'in') return rule.values.some((x) => x === v);
  const c = typeof v === 'number' ? Math.sign(v - (rule.value as number)) : v === rule.value ? 0 : v < rule.value ? -1 : 1;
  return { eq: c === 0, ne: c !== 0, lt: c < 0, lte: c <= 0, gt: c > 0, gte: c >= 0 }[rule.op];
}

const numberFacts = ['daysPastDue', 'overdueMinorUnits', 'riskScore', 'promisesKept', 'promisesBroken', 'daysSinceRightPartyContact', 'complaints', 'placementCount'] as const;
const small = fc.integer({ min: -3, max: 40 });
const nullable = fc.option(small, { nil: null });
const factsArb: fc.Arbitrary<Facts> = fc.record({
  bucket: fc.constantFrom(...BUCKETS),
  daysPastDue: small,
  overdueMinorUnits: small,
  currency: fc.constantFrom('CNY', 'USD'),
  product: fc.constantFrom('gold', 'platinum', 'classic'),
  jurisdiction: fc.constantFrom('CN', 'US'),
  riskScore: nullable,
  promisesKept: small,
  promisesBroken: small,
  daysSinceRightPartyContact: nullable,
  complaints: small,
  placementCount: small,
});
const leaf: fc.Arbitrary<Rule> = fc.oneof(
  fc.record({ fact: fc.constantFrom(...numberFacts), op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte' as const), value: small }) as fc.Arbitrary<Rule>,
  fc.record({ fact: fc.constant('bucket' as const), op: fc.constantFrom('eq', 'ne' as const), value: fc.constantFrom(...BUCKETS) }) as fc.Arbitrary<Rule>,
  fc.record({ fact: fc.constantFrom(...numberFacts), op: fc.constant('in' as const), values: fc.array(small, { minLength: 1, maxLength: 4 }) }) as fc.Arbitrary<Rule>,
  fc.record({ fact: fc.constantFrom('product', 'currency' as const), op: fc.constant('in' as const), values: fc.array(fc.constantFrom('gold', 'classic', 'CNY'), { minLength: 1, maxLength: 3 }) }) as fc.Arbitrary<Rule>,
  fc.record({ fact: fc.constantFrom('riskScore', 'daysSinceRightPartyContact' as const), op: fc.constant('missing' as const) }) as fc.Arbitrary<Rule>,
);
const ruleArb: fc.Arbitrary<Rule> = fc.letrec<{ rule: Rule }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('rule'), { maxLength: 4 }) }),
    fc.record({ any: fc.array(tie('rule'), { maxLength: 4 }) }),
    fc.record({ not: tie('rule') }),
  ),
})).rule;

describe('segment rules: the evaluator', () => {
  it('agrees with the reference on random rules and facts', () => {
    fc.assert(
      fc.property(ruleArb, factsArb, (rule, facts) => {
        expect(evaluateRule(rule, facts)).toBe(reference(rule, facts));
      }),
      { numRuns: 2000, seed: 16 },
    );
  });

  it('parses what it evaluates: a generated rule survives parseRule unchanged (within the bounds)', () => {
    fc.assert(
      fc.property(ruleArb, (rule) => {
        fc.pre(ruleSize(rule) <= MAX_RULE_NODES);
        let depth = 0;
        const d = (r: Rule, n: number): void => {
          depth = Math.max(depth, n);
          if ('all' in r) r.all.forEach((c) => d(c, n + 1));
          else if ('any' in r) r.any.forEach((c) => d(c, n + 1));
          else if ('not' in r) d(r.not, n + 1);
        };
        d(rule, 1);
        fc.pre(depth <= MAX_RULE_DEPTH);
        expect(parseRule(JSON.parse(JSON.stringify(rule)))).toEqual(rule);
      }),
      { numRuns: 500, seed: 17 },
    );
  });

  it('visits each node at most once: cost linear in the rule', () => {
    fc.assert(
      fc.property(ruleArb, factsArb, (rule, facts) => {
        const meter = { steps: 0 };
        evaluateRule(rule, facts, meter);
        expect(meter.steps).toBeLessThanOrEqual(ruleSize(rule));
      }),
      { numRuns: 1000, seed: 18 },
    );
    // A rule that must be read whole (an `all` of true leaves) costs exactly its size.
    const wide: Rule = { all: Array.from({ length: 199 }, () => ({ fact: 'daysPastDue', op: 'gte', value: 0 }) as Rule) };
    const meter = { steps: 0 };
    expect(evaluateRule(wide, { daysPastDue: 5 } as Facts, meter)).toBe(true);
    expect(meter.steps).toBe(200);
  });

  it('treats an unknown fact as failing every comparison, and `missing` as holding', () => {
    const facts = { riskScore: null } as unknown as Facts;
    expect(evaluateRule({ fact: 'riskScore', op: 'lt', value: 500 }, facts)).toBe(false);
    expect(evaluateRule({ fact: 'riskScore', op: 'gte', value: 500 }, facts)).toBe(false);
    expect(evaluateRule({ not: { fact: 'riskScore', op: 'gte', value: 500 } }, facts)).toBe(true);
    expect(evaluateRule({ fact: 'riskScore', op: 'missing' }, facts)).toBe(true);
    expect(evaluateRule({ all: [] }, facts)).toBe(true);
    expect(evaluateRule({ any: [] }, facts)).toBe(false);
  });
});

describe('segment rules: validation at the edge', () => {
  const refusal = (input: unknown): DomainError => {
    try {
      parseRule(input);
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      return err as DomainError;
    }
    throw new Error('accepted');
  };

  it('names the path of the fault', () => {
    const e = refusal({ all: [{ fact: 'daysPastDue', op: 'gte', value: 31 }, { fact: 'shoeSize', op: 'eq', value: 9 }] });
    expect(e.code).toBe('VALIDATION');
    expect(e.field).toEqual(['rule', 'all', '1', 'fact']);
    expect(e.message).toMatch(/unknown fact/);
  });

  it('refuses wrong value types, unknown ops and keys, ordering on strings, bad enum values', () => {
    expect(refusal({ fact: 'daysPastDue', op: 'gte', value: '31' }).message).toMatch(/number/);
    expect(refusal({ fact: 'bucket', op: 'gt', value: 'M2' }).message).toMatch(/eq, ne or in/);
    expect(refusal({ fact: 'bucket', op: 'eq', value: 'M9' }).message).toMatch(/bucket is one of/);
    expect(refusal({ fact: 'jurisdiction', op: 'in', values: ['CN', 'FR'] }).field).toEqual(['rule', 'values', '1']);
    expect(refusal({ fact: 'daysPastDue', op: 'like', value: 1 }).field).toEqual(['rule', 'op']);
    expect(refusal({ fact: 'daysPastDue', op: 'eq', value: 1, extra: true }).message).toMatch(/unknown key/);
    expect(refusal({ all: [], any: [] }).message).toMatch(/unknown key/);
    expect(refusal([]).message).toMatch(/a rule is an object/);
    expect(refusal({ fact: 'daysPastDue', op: 'eq', value: Number.NaN }).message).toMatch(/number/);
  });

  it('bounds depth and size before walking further', () => {
    let deep: unknown = { fact: 'daysPastDue', op: 'gte', value: 1 };
    for (let i = 0; i < MAX_RULE_DEPTH; i++) deep = { not: deep };
    expect(refusal(deep).message).toMatch(/deeper than 8/);
    let veryDeep: unknown = { fact: 'daysPastDue', op: 'gte', value: 1 };
    for (let i = 0; i < 100_000; i++) veryDeep = { not: veryDeep }; // no stack overflow: refused at depth 9
    expect(refusal(veryDeep).code).toBe('VALIDATION');
    const wide = { any: Array.from({ length: 1_000_000 }, () => ({ fact: 'daysPastDue', op: 'gte', value: 1 })) };
    const started = Date.now();
    expect(refusal(wide).message).toMatch(/more than 200 nodes/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reads a rule in one line', () => {
    expect(describeRule({ all: [{ fact: 'daysPastDue', op: 'gte', value: 31 }, { any: [{ fact: 'riskScore', op: 'missing' }, { fact: 'riskScore', op: 'lt', value: 400 }] }] })).toBe(
      'daysPastDue ≥ 31 and (riskScore unknown or riskScore < 400)',
    );
  });
});
