/**
 * Segment rules: a small typed JSON language over a case's facts, parsed and checked once at the
 * edge (`parseRule`: a clear VALIDATION error naming the path, at most MAX_RULE_NODES nodes and
 * MAX_RULE_DEPTH levels), evaluated by a pure function (`evaluateRule`) that visits each node at
 * most once: its cost is linear in the size of the rule.
 *
 *   { "all": [rule, …] }          every one holds (an empty list holds)
 *   { "any": [rule, …] }          one holds (an empty list does not)
 *   { "not": rule }
 *   { "fact": "daysPastDue", "op": "gte", "value": 31 }      eq ne lt lte gt gte
 *   { "fact": "bucket", "op": "in", "values": ["M2", "M3"] }
 *   { "fact": "riskScore", "op": "missing" }                  the fact is unknown (no score, never reached)
 *
 * A comparison with an unknown fact (null) is false, so `not` of it is true: a rule that wants
 * "no score, or a score below 400" says so with `any` and `missing`.
 */
import { DomainError } from '../../lib/errors.ts';

export const BUCKETS = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS'] as const;
export const JURISDICTIONS = ['CN', 'US'] as const;

/** The facts a rule may name, and their kind. Numbers are integers except the risk score. */
export const FACTS = {
  bucket: 'bucket',
  daysPastDue: 'number',
  /** The overdue total in minor units of the case's currency. */
  overdueMinorUnits: 'number',
  currency: 'string',
  product: 'string',
  jurisdiction: 'jurisdiction',
  /** The account's latest risk score (setRiskScores); null: none. */
  riskScore: 'number',
  promisesKept: 'number',
  promisesBroken: 'number',
  /** Days since the debtor was last reached (a connected contact); null: never. */
  daysSinceRightPartyContact: 'number',
  complaints: 'number',
  /** Agency placements the case has had, ended or not. */
  placementCount: 'number',
} as const;
export type FactName = keyof typeof FACTS;
export type FactValue = string | number | null;
export type CaseFacts = { [K in FactName]: K extends 'bucket' | 'currency' | 'product' | 'jurisdiction' ? string : number | null };

export const COMPARISONS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | { fact: FactName; op: Comparison; value: string | number }
  | { fact: FactName; op: 'in'; values: (string | number)[] }
  | { fact: FactName; op: 'missing' };

export const MAX_RULE_NODES = 200;
export const MAX_RULE_DEPTH = 8;
export const MAX_IN_VALUES = 100;
const MAX_STRING = 64;

function refuse(path: string[], message: string): never {
  throw new DomainError('VALIDATION', `${path.join('.') || 'rule'}: ${message}`, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkValue(fact: FactName, v: unknown, path: string[]): string | number {
  const kind = FACTS[fact];
  if (kind === 'number') {
    if (typeof v !== 'number' || !Number.isFinite(v)) refuse(path, `${fact} is compared with a number`);
    return v;
  }
  if (typeof v !== 'string') refuse(path, `${fact} is compared with a string`);
  if (kind === 'bucket' && !(BUCKETS as readonly string[]).includes(v)) refuse(path, `bucket is one of ${BUCKETS.join(', ')}`);
  if (kind === 'jurisdiction' && !(JURISDICTIONS as readonly string[]).includes(v)) refuse(path, `jurisdiction is one of ${JURISDICTIONS.join(', ')}`);
  if (v.length === 0 || v.length > MAX_STRING) refuse(path, `a string of 1 to ${MAX_STRING} characters`);
  return v;
}

/**
 * Checks untrusted JSON and returns it as a Rule (a fresh copy holding only known keys), or throws
 * DomainError VALIDATION with the path of the first fault. Bounds are checked before recursion goes
 * deeper, so a hostile document costs at most MAX_RULE_NODES steps.
 */
export function parseRule(input: unknown, basePath: string[] = ['rule']): Rule {
  let nodes = 0;
  const walk = (v: unknown, path: string[], depth: number): Rule => {
    if (++nodes > MAX_RULE_NODES) refuse(basePath, `more than ${MAX_RULE_NODES} nodes`);
    if (depth > MAX_RULE_DEPTH) refuse(path, `nested deeper than ${MAX_RULE_DEPTH} levels`);
    if (!isObject(v)) refuse(path, 'a rule is an object: {all}, {any}, {not} or {fact, op, …}');
    const keys = Object.keys(v);
    const only = (allowed: string[]) => {
      const extra = keys.filter((k) => !allowed.includes(k));
      if (extra.length) refuse(path, `unknown key ${JSON.stringify(extra[0]!.slice(0, 40))}`);
    };
    if ('all' in v || 'any' in v) {
      const k = 'all' in v ? 'all' : 'any';
      only([k]);
      const list = v[k];
      if (!Array.isArray(list)) refuse([...path, k], 'a list of rules');
      if (list.length > MAX_RULE_NODES) refuse(basePath, `more than ${MAX_RULE_NODES} nodes`);
      const children = list.map((c, i) => walk(c, [...path, k, String(i)], depth + 1));
      return k === 'all' ? { all: children } : { any: children };
    }
    if ('not' in v) {
      only(['not']);
      return { not: walk(v.not, [...path, 'not'], depth + 1) };
    }
    if (!('fact' in v)) refuse(path, 'a rule is an object: {all}, {any}, {not} or {fact, op, …}');
    const fact = v.fact;
    if (typeof fact !== 'string' || !Object.hasOwn(FACTS, fact)) refuse([...path, 'fact'], `unknown fact; one of ${Object.keys(FACTS).join(', ')}`);
    const f = fact as FactName;
    const op = v.op;
    if (op === 'missing') {
      only(['fact', 'op']);
      return { fact: f, op: 'missing' };
    }
    if (op === 'in') {
      only(['fact', 'op', 'values']);
      const values = v.values;
      if (!Array.isArray(values) || values.length === 0 || values.length > MAX_IN_VALUES) refuse([...path, 'values'], `a list of 1 to ${MAX_IN_VALUES} values`);
      return { fact: f, op: 'in', values: values.map((x, i) => checkValue(f, x, [...path, 'values', String(i)])) };
    }
    if (typeof op !== 'string' || !(COMPARISONS as readonly string[]).includes(op)) refuse([...path, 'op'], `op is one of ${[...COMPARISONS, 'in', 'missing'].join(', ')}`);
    only(['fact', 'op', 'value']);
    const cmp = op as Comparison;
    if (FACTS[f] !== 'number' && cmp !== 'eq' && cmp !== 'ne') refuse([...path, 'op'], `${f} is compared with eq, ne or in only`);
    return { fact: f, op: cmp, value: checkValue(f, v.value, [...path, 'value']) };
  };
  return walk(input, basePath, 1);
}

/** The number of nodes of a rule (what the evaluator visits at most). */
export function ruleSize(rule: Rule): number {
  if ('all' in rule) return 1 + rule.all.reduce((n, r) => n + ruleSize(r), 0);
  if ('any' in rule) return 1 + rule.any.reduce((n, r) => n + ruleSize(r), 0);
  if ('not' in rule) return 1 + ruleSize(rule.not);
  return 1;
}

function compare(op: Comparison, a: string | number, b: string | number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
  }
}

/**
 * Does the rule hold for these facts? Pure, short-circuits `all` and `any`; `meter`, when given,
 * counts the nodes visited (never more than ruleSize(rule)).
 */
export function evaluateRule(rule: Rule, facts: Readonly<Record<FactName, FactValue>>, meter?: { steps: number }): boolean {
  if (meter) meter.steps++;
  if ('all' in rule) {
    for (const r of rule.all) if (!evaluateRule(r, facts, meter)) return false;
    return true;
  }
  if ('any' in rule) {
    for (const r of rule.any) if (evaluateRule(r, facts, meter)) return true;
    return false;
  }
  if ('not' in rule) return !evaluateRule(rule.not, facts, meter);
  const v = facts[rule.fact];
  if (rule.op === 'missing') return v === null || v === undefined;
  if (v === null || v === undefined) return false;
  if (rule.op === 'in') return rule.values.includes(v);
  return compare(rule.op, v, rule.value);
}

/** A one-line reading of a rule, for timelines and the simulation ("daysPastDue ≥ 31 and bucket in [M2, M3]"). */
export function describeRule(rule: Rule): string {
  const symbols: Record<Comparison, string> = { eq: '=', ne: '≠', lt: '<', lte: '≤', gt: '>', gte: '≥' };
  if ('all' in rule) return rule.all.length === 0 ? 'always' : rule.all.map((r) => group(r)).join(' and ');
  if ('any' in rule) return rule.any.length === 0 ? 'never' : rule.any.map((r) => group(r)).join(' or ');
  if ('not' in rule) return `not ${group(rule.not)}`;
  if (rule.op === 'missing') return `${rule.fact} unknown`;
  if (rule.op === 'in') return `${rule.fact} in [${rule.values.join(', ')}]`;
  return `${rule.fact} ${symbols[rule.op]} ${rule.value}`;
}
function group(r: Rule): string {
  const s = describeRule(r);
  return ('all' in r && r.all.length > 1) || ('any' in r && r.any.length > 1) ? `(${s})` : s;
}
