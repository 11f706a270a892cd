/**
 * A strategy's definition: an ordered list of segments, each a rule (rules.ts) with a treatment
 * and, optionally, challenger treatments that take a share of the segment's cases. The first
 * segment whose rule holds takes the case; a case no segment takes keeps no treatment.
 *
 * Parsed once at the edge (createStrategy) from JSON; the stored copy is the parsed one.
 */
import { DomainError } from '../../lib/errors.ts';
import { parseRule, type Rule, type FactName, type FactValue, evaluateRule } from './rules.ts';
import { armForShare, CHAMPION_ARM, type Arm } from './split.ts';

export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface PoolMember {
  agencyId: string;
  /** Relative share of new placements (1–100). */
  weight: number;
  /** Open cases the agency may hold at most; the pool skips an agency at capacity. */
  capacity: number;
}

export type PlacementTarget =
  /** Keep the case where it is (no placement by the strategy). */
  | { kind: 'NONE' }
  /** The bank's own team: an agency placement ends (recalled, reason OTHER) and the case waits for a supervisor's assignment. */
  | { kind: 'BANK' }
  | { kind: 'AGENCY'; agencyId: string }
  | { kind: 'POOL'; agencies: PoolMember[] };

export interface Treatment {
  /** Names of the dunning rules (src/modules/contact) that send this case's automatic reminders; null: every active rule. */
  dunningRules: string[] | null;
  /** The case's priority in the work queue. */
  priority: Priority;
  placement: PlacementTarget;
  /** Days a placement made by the strategy lasts (then the expiry job recalls it); default 90. */
  placementDays: number;
  /** May a home visit be planned for the case? */
  visitEligible: boolean;
}

export interface Challenger {
  key: string;
  /** Percent of the segment's cases, 1–99; all challengers together below 100. */
  share: number;
  treatment: Treatment;
}

export interface Segment {
  key: string;
  name: string;
  rule: Rule;
  treatment: Treatment;
  challengers: Challenger[];
}

export interface StrategyDefinition {
  segments: Segment[];
}

export const MAX_SEGMENTS = 50;
export const MAX_CHALLENGERS = 4;
export const CHAMPION = CHAMPION_ARM;
const KEY = /^[a-z][a-z0-9_-]{0,39}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function refuse(path: string[], message: string): never {
  throw new DomainError('VALIDATION', `${path.join('.')}: ${message}`, path);
}
function obj(v: unknown, path: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse(path, 'an object');
  return v as Record<string, unknown>;
}
function int(v: unknown, path: string[], min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) refuse(path, `an integer from ${min} to ${max}`);
  return v;
}
function onlyKeys(o: Record<string, unknown>, allowed: string[], path: string[]): void {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) refuse(path, `unknown key ${JSON.stringify(extra.slice(0, 40))}`);
}

export function parseTreatment(v: unknown, path: string[]): Treatment {
  const o = obj(v, path);
  onlyKeys(o, ['dunningRules', 'priority', 'placement', 'placementDays', 'visitEligible'], path);
  let dunningRules: string[] | null = null;
  if (o.dunningRules !== undefined && o.dunningRules !== null) {
    if (!Array.isArray(o.dunningRules) || o.dunningRules.length > 20 || o.dunningRules.some((n) => typeof n !== 'string' || n.length === 0 || n.length > 100)) {
      refuse([...path, 'dunningRules'], 'a list of at most 20 dunning rule names, or null for every active rule');
    }
    dunningRules = [...new Set(o.dunningRules as string[])];
  }
  const priority = o.priority ?? 'NORMAL';
  if (typeof priority !== 'string' || !(PRIORITIES as readonly string[]).includes(priority)) refuse([...path, 'priority'], `one of ${PRIORITIES.join(', ')}`);
  const placementDays = o.placementDays === undefined ? 90 : int(o.placementDays, [...path, 'placementDays'], 1, 730);
  const visitEligible = o.visitEligible ?? true;
  if (typeof visitEligible !== 'boolean') refuse([...path, 'visitEligible'], 'true or false');
  return { dunningRules, priority: priority as Priority, placement: parsePlacement(o.placement ?? { kind: 'NONE' }, [...path, 'placement']), placementDays, visitEligible };
}

function parsePlacement(v: unknown, path: string[]): PlacementTarget {
  const o = obj(v, path);
  switch (o.kind) {
    case 'NONE':
    case 'BANK':
      onlyKeys(o, ['kind'], path);
      return { kind: o.kind };
    case 'AGENCY':
      onlyKeys(o, ['kind', 'agencyId'], path);
      if (typeof o.agencyId !== 'string' || !UUID.test(o.agencyId)) refuse([...path, 'agencyId'], 'an agency id');
      return { kind: 'AGENCY', agencyId: o.agencyId.toLowerCase() };
    case 'POOL': {
      onlyKeys(o, ['kind', 'agencies'], path);
      if (!Array.isArray(o.agencies) || o.agencies.length === 0 || o.agencies.length > 20) refuse([...path, 'agencies'], 'a list of 1 to 20 agencies');
      const seen = new Set<string>();
      const agencies = o.agencies.map((m, i) => {
        const p = [...path, 'agencies', String(i)];
        const mo = obj(m, p);
        onlyKeys(mo, ['agencyId', 'weight', 'capacity'], p);
        if (typeof mo.agencyId !== 'string' || !UUID.test(mo.agencyId)) refuse([...p, 'agencyId'], 'an agency id');
        const agencyId = mo.agencyId.toLowerCase();
        if (seen.has(agencyId)) refuse([...p, 'agencyId'], 'an agency is in a pool once');
        seen.add(agencyId);
        return { agencyId, weight: int(mo.weight, [...p, 'weight'], 1, 100), capacity: int(mo.capacity, [...p, 'capacity'], 1, 10_000_000) };
      });
      return { kind: 'POOL', agencies };
    }
    default:
      refuse([...path, 'kind'], 'one of NONE, BANK, AGENCY, POOL');
  }
}

/** Checks a whole definition (untrusted JSON); throws VALIDATION naming the path of the first fault. */
export function parseStrategyDefinition(v: unknown): StrategyDefinition {
  const path = ['definition'];
  const o = obj(v, path);
  onlyKeys(o, ['segments'], path);
  if (!Array.isArray(o.segments) || o.segments.length === 0 || o.segments.length > MAX_SEGMENTS) refuse([...path, 'segments'], `a list of 1 to ${MAX_SEGMENTS} segments`);
  const keys = new Set<string>();
  const segments = o.segments.map((s, i): Segment => {
    const p = [...path, 'segments', String(i)];
    const so = obj(s, p);
    onlyKeys(so, ['key', 'name', 'rule', 'treatment', 'challengers'], p);
    if (typeof so.key !== 'string' || !KEY.test(so.key)) refuse([...p, 'key'], 'a key of lower-case letters, digits, - and _ (at most 40), starting with a letter');
    if (keys.has(so.key)) refuse([...p, 'key'], 'segment keys are unique');
    keys.add(so.key);
    const name = so.name ?? so.key;
    if (typeof name !== 'string' || name.length === 0 || name.length > 100) refuse([...p, 'name'], 'a name of 1 to 100 characters');
    const challengers: Challenger[] = [];
    if (so.challengers !== undefined) {
      if (!Array.isArray(so.challengers) || so.challengers.length > MAX_CHALLENGERS) refuse([...p, 'challengers'], `a list of at most ${MAX_CHALLENGERS} challengers`);
      const armKeys = new Set([CHAMPION]);
      let total = 0;
      so.challengers.forEach((c, j) => {
        const cp = [...p, 'challengers', String(j)];
        const co = obj(c, cp);
        onlyKeys(co, ['key', 'share', 'treatment'], cp);
        if (typeof co.key !== 'string' || !KEY.test(co.key) || armKeys.has(co.key)) refuse([...cp, 'key'], `a key unique in the segment, not "${CHAMPION}"`);
        armKeys.add(co.key);
        const share = int(co.share, [...cp, 'share'], 1, 99);
        total += share;
        challengers.push({ key: co.key, share, treatment: parseTreatment(co.treatment, [...cp, 'treatment']) });
      });
      if (total >= 100) refuse([...p, 'challengers'], 'the challengers’ shares add up to less than 100 (the champion keeps the rest)');
    }
    return { key: so.key, name, rule: parseRule(so.rule, [...p, 'rule']), treatment: parseTreatment(so.treatment, [...p, 'treatment']), challengers };
  });
  return { segments };
}

export interface SegmentChoice {
  segment: Segment;
  /** CHAMPION or a challenger's key. */
  arm: string;
  treatment: Treatment;
}

/**
 * The segment, arm and treatment of one case: the first segment whose rule holds; within it, the
 * arm the case's keyed hash falls in (split.ts). Pure.
 */
export function chooseSegment(def: StrategyDefinition, facts: Readonly<Record<FactName, FactValue>>, splitPoint: (segmentKey: string) => number): SegmentChoice | null {
  for (const segment of def.segments) {
    if (!evaluateRule(segment.rule, facts)) continue;
    if (segment.challengers.length === 0) return { segment, arm: CHAMPION, treatment: segment.treatment };
    const arms: Arm[] = segment.challengers.map((c) => ({ key: c.key, share: c.share }));
    const arm = armForShare(arms, splitPoint(segment.key));
    const challenger = segment.challengers.find((c) => c.key === arm);
    return { segment, arm, treatment: challenger ? challenger.treatment : segment.treatment };
  }
  return null;
}
