/**
 * Strategies (issue 16, points 1-4): versions of a strategy are created as DRAFT, simulated
 * (counts and balance per segment and arm, nothing written), activated by a bank admin or
 * supervisor (the active one before is RETIRED), and applied by the daily `strategy-assignment`
 * job (src/jobs/strategy.ts): every open case gets its segment, arm and treatment; a change ends
 * the case's assignment in force, writes a new one and a timeline entry naming the rule that
 * matched, sets the case's work-queue priority, and places the case as the treatment says.
 * Dunning (src/modules/contact/dunning.ts) sends only the treatment's rules.
 *
 * Strategies are the bank's: no agency principal reads them, their assignments, or the timeline
 * entries they write (those entries are of the bank's era, agencyId null).
 */
import { Prisma, type PrismaClient, type Strategy } from '../../generated/prisma/client.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { BANK_TIME_ZONE, DAY_MS, bucketOf, daysBetween, localDate, parseDateOnly } from '../../lib/time.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { isUniqueViolation } from '../../lib/idempotency.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { recordAudit } from '../audit/service.ts';
import { OPEN_STAGES, writeCase } from '../cases/write.ts';
import type { EventBus } from '../../events/bus.ts';
import { parseStrategyDefinition, chooseSegment, type StrategyDefinition, type Treatment, type PoolMember, CHAMPION } from './definition.ts';
import { describeRule, type FactName, type FactValue } from './rules.ts';
import { splitPoint } from './split.ts';
import { chooseAgency, PERFORMANCE_WINDOW_DAYS, type PoolMemberState } from './allocation.ts';

export interface StrategyDeps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$/;
const MAX_NOTE = 500;

function cleanText(v: string | null | undefined, field: string, required: boolean): string {
  const s = (v ?? '').trim();
  if (required && s.length === 0) throw new DomainError('VALIDATION', `${field}: required`, field);
  if (s.length > MAX_NOTE) throw new DomainError('VALIDATION', `${field}: at most ${MAX_NOTE} characters`, field);
  return s;
}

/** The stored definition (checked when it was written). */
export function definitionOf(s: Pick<Strategy, 'definition'>): StrategyDefinition {
  return s.definition as unknown as StrategyDefinition;
}

/** Agencies and dunning rules a definition names must exist (agencies active) when it is written and when it is activated. */
async function checkReferences(prisma: Pick<PrismaClient, 'agency' | 'dunningRule'>, def: StrategyDefinition): Promise<void> {
  const agencies = new Map<string, string[]>();
  const rules = new Map<string, string[]>();
  def.segments.forEach((s, i) => {
    const treatments: [Treatment, string[]][] = [[s.treatment, ['definition', 'segments', String(i), 'treatment']]];
    s.challengers.forEach((c, j) => treatments.push([c.treatment, ['definition', 'segments', String(i), 'challengers', String(j), 'treatment']]));
    for (const [t, path] of treatments) {
      if (t.placement.kind === 'AGENCY') agencies.set(t.placement.agencyId, [...path, 'placement', 'agencyId']);
      if (t.placement.kind === 'POOL') t.placement.agencies.forEach((m, k) => agencies.set(m.agencyId, [...path, 'placement', 'agencies', String(k), 'agencyId']));
      for (const name of t.dunningRules ?? []) rules.set(name, [...path, 'dunningRules']);
    }
  });
  if (agencies.size) {
    const found = new Set((await prisma.agency.findMany({ where: { id: { in: [...agencies.keys()] }, status: 'ACTIVE' }, select: { id: true } })).map((a) => a.id));
    for (const [id, path] of agencies) if (!found.has(id)) throw new DomainError('VALIDATION', `${path.join('.')}: no such active agency`, path);
  }
  if (rules.size) {
    const found = new Set((await prisma.dunningRule.findMany({ where: { name: { in: [...rules.keys()] } }, select: { name: true } })).map((r) => r.name));
    for (const [name, path] of rules) if (!found.has(name)) throw new DomainError('VALIDATION', `${path.join('.')}: no dunning rule named ${JSON.stringify(name)}`, path);
  }
}

export interface CreateStrategyInput {
  name: string;
  definition: unknown;
  note?: string | null;
}

/** A new DRAFT version of a strategy (or a strategy's first version). Audited. */
export async function createStrategy(deps: StrategyDeps, actor: Actor, input: CreateStrategyInput): Promise<{ strategy: Strategy }> {
  const name = input.name.trim();
  if (!NAME.test(name)) throw new DomainError('VALIDATION', 'name: 1 to 80 letters, digits, spaces, _ . -', 'name');
  const note = cleanText(input.note, 'note', false);
  const definition = parseStrategyDefinition(input.definition);
  await checkReferences(deps.prisma, definition);
  const now = deps.clock.now();
  try {
    const strategy = await deps.prisma.$transaction(async (tx) => {
      const last = await tx.strategy.findFirst({ where: { name }, orderBy: { version: 'desc' }, select: { version: true } });
      const strategy = await tx.strategy.create({
        data: { name, version: (last?.version ?? 0) + 1, status: 'DRAFT', definition: definition as unknown as Prisma.InputJsonValue, note, createdById: actor.viewer.userId, createdAt: now },
      });
      await recordAudit(tx, auditActor(actor), now, { action: 'strategy.create', entityType: 'Strategy', entityId: strategy.id, data: { name, version: strategy.version, definition: definition as unknown as Prisma.InputJsonValue }, reason: note || null });
      return strategy;
    });
    return { strategy };
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('STALE_VERSION', 'Another version of this strategy was created at the same time: retry', 'name');
    throw err;
  }
}

/** Puts a DRAFT version in force; the version in force before is RETIRED. Audited with both. */
export async function activateStrategy(deps: StrategyDeps, actor: Actor, input: { strategyId: string; reason: string }): Promise<{ strategy: Strategy; retired: Strategy | null }> {
  const reason = cleanText(input.reason, 'reason', true);
  const now = deps.clock.now();
  try {
    return await deps.prisma.$transaction(async (tx) => {
      const s = await tx.strategy.findUnique({ where: { id: input.strategyId } });
      if (!s) throw new DomainError('NOT_FOUND', 'No such strategy', 'strategyId');
      if (s.status !== 'DRAFT') throw new DomainError('INVALID_TRANSITION', `The strategy is ${s.status.toLowerCase()}: only a draft is activated (a change is a new version)`, 'strategyId');
      await checkReferences(tx, definitionOf(s));
      const active = await tx.strategy.findFirst({ where: { status: 'ACTIVE' } });
      let retired: Strategy | null = null;
      if (active) retired = await tx.strategy.update({ where: { id: active.id }, data: { status: 'RETIRED', retiredAt: now } });
      const strategy = await tx.strategy.update({ where: { id: s.id }, data: { status: 'ACTIVE', activatedAt: now, activatedById: actor.viewer.userId } });
      await recordAudit(tx, auditActor(actor), now, {
        action: 'strategy.activate',
        entityType: 'Strategy',
        entityId: s.id,
        data: { name: s.name, version: s.version, retired: retired ? { id: retired.id, name: retired.name, version: retired.version } : null },
        reason,
      });
      return { strategy, retired };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('STALE_VERSION', 'Another strategy was activated at the same time: retry', 'strategyId');
    throw err;
  }
}

/** Retires the version in force (cases keep their treatment until the job runs, then lose it). Audited. */
export async function retireStrategy(deps: StrategyDeps, actor: Actor, input: { strategyId: string; reason: string }): Promise<{ strategy: Strategy }> {
  const reason = cleanText(input.reason, 'reason', true);
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    const s = await tx.strategy.findUnique({ where: { id: input.strategyId } });
    if (!s) throw new DomainError('NOT_FOUND', 'No such strategy', 'strategyId');
    if (s.status === 'RETIRED') throw new DomainError('INVALID_TRANSITION', 'The strategy is retired already', 'strategyId');
    const strategy = await tx.strategy.update({ where: { id: s.id }, data: { status: 'RETIRED', retiredAt: now } });
    await recordAudit(tx, auditActor(actor), now, { action: 'strategy.retire', entityType: 'Strategy', entityId: s.id, data: { name: s.name, version: s.version, from: s.status }, reason });
    return { strategy };
  });
}

/**
 * Makes a challenger arm the champion of its segment: a new version of the strategy whose segment
 * treatment is the challenger's (the challenger's share goes back to the champion; the other arms
 * keep theirs, and as the split hashes the strategy's name, their cases stay where they are). When
 * the source version is in force, the new one is activated at once (the source RETIRED); else it
 * is a DRAFT. Audited.
 */
export async function promoteChallenger(
  deps: StrategyDeps,
  actor: Actor,
  input: { strategyId: string; segmentKey: string; arm: string; reason: string },
): Promise<{ strategy: Strategy }> {
  const reason = cleanText(input.reason, 'reason', true);
  const now = deps.clock.now();
  try {
    return await deps.prisma.$transaction(async (tx) => {
      const s = await tx.strategy.findUnique({ where: { id: input.strategyId } });
      if (!s) throw new DomainError('NOT_FOUND', 'No such strategy', 'strategyId');
      if (s.status === 'RETIRED') throw new DomainError('INVALID_TRANSITION', 'The strategy is retired: promote from the version in force or a draft', 'strategyId');
      const def = definitionOf(s);
      const segment = def.segments.find((g) => g.key === input.segmentKey);
      if (!segment) throw new DomainError('NOT_FOUND', 'No such segment in the strategy', 'segmentKey');
      const challenger = segment.challengers.find((c) => c.key === input.arm);
      if (!challenger) throw new DomainError('NOT_FOUND', `No challenger ${JSON.stringify(input.arm)} in the segment (the champion is not promoted)`, 'arm');
      const next: StrategyDefinition = {
        segments: def.segments.map((g) => (g.key !== segment.key ? g : { ...g, treatment: challenger.treatment, challengers: g.challengers.filter((c) => c.key !== challenger.key) })),
      };
      const last = await tx.strategy.findFirst({ where: { name: s.name }, orderBy: { version: 'desc' }, select: { version: true } });
      const activeNow = s.status === 'ACTIVE';
      if (activeNow) await tx.strategy.update({ where: { id: s.id }, data: { status: 'RETIRED', retiredAt: now } });
      const strategy = await tx.strategy.create({
        data: {
          name: s.name,
          version: last!.version + 1,
          status: activeNow ? 'ACTIVE' : 'DRAFT',
          definition: next as unknown as Prisma.InputJsonValue,
          note: `${challenger.key} promoted to champion of ${segment.key} (from version ${s.version})`,
          createdById: actor.viewer.userId,
          createdAt: now,
          ...(activeNow ? { activatedAt: now, activatedById: actor.viewer.userId } : {}),
        },
      });
      await recordAudit(tx, auditActor(actor), now, {
        action: 'strategy.promoteChallenger',
        entityType: 'Strategy',
        entityId: strategy.id,
        data: { name: s.name, fromVersion: s.version, version: strategy.version, segmentKey: segment.key, arm: challenger.key, treatment: challenger.treatment as unknown as Prisma.InputJsonValue, activated: activeNow },
        reason,
      });
      return { strategy };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('STALE_VERSION', 'The strategy changed at the same time: retry', 'strategyId');
    throw err;
  }
}

/**
 * A home visit may be planned only when the case's treatment allows visits (a case with no
 * treatment may be visited, as before strategies). The refusal names the effect, not the
 * strategy: an agency learns nothing of segments or rules from it.
 */
export async function visitAllowedByStrategy(tx: Pick<PrismaClient, 'caseStrategyAssignment'>, caseId: string): Promise<void> {
  const current = await tx.caseStrategyAssignment.findFirst({ where: { caseId, endedAt: null }, select: { treatment: true } });
  if (current && (current.treatment as unknown as Treatment).visitEligible === false) {
    throw new DomainError('INVALID_TRANSITION', 'The case’s collection treatment does not include home visits', 'caseId');
  }
}

// ---------------------------------------------------------------- facts

export interface CaseFactsRow {
  id: string;
  dueDate: Date;
  overdueTotal: bigint;
  currency: string;
  accountId: string;
  assignedAgencyId: string | null;
  assignedCollectorId: string | null;
  priority: string;
  version: number;
  product: string;
  jurisdiction: string;
  riskScore: number | null;
  promisesKept: number;
  promisesBroken: number;
  lastRightPartyContact: Date | null;
  complaints: number;
  placementCount: number;
  assignmentId: string | null;
  assignmentStrategyId: string | null;
  assignmentSegmentKey: string | null;
  assignmentArm: string | null;
  assignmentTreatment: unknown;
}

/** One page of open cases (keyset on id) with every fact a rule may name, and the assignment in force. */
export async function readCaseFacts(prisma: PrismaClient, cursor: string | null, limit: number, only?: string[]): Promise<CaseFactsRow[]> {
  const stages = Prisma.raw(OPEN_STAGES.map((s) => `'${s}'`).join(', '));
  return prisma.$queryRaw<CaseFactsRow[]>`
    SELECT c.id, c."dueDate", c."overdueTotal", c.currency, c."accountId", c."assignedAgencyId", c."assignedCollectorId", c.priority::text AS priority, c.version,
           a.product, d.jurisdiction::text AS jurisdiction,
           (SELECT rs.score FROM "RiskScore" AS rs WHERE rs."accountId" = c."accountId" ORDER BY rs."scoredOn" DESC, rs."importedAt" DESC, rs.id DESC LIMIT 1) AS "riskScore",
           (SELECT count(*)::int FROM "PromiseToPay" AS p WHERE p."caseId" = c.id AND p.status = 'KEPT') AS "promisesKept",
           (SELECT count(*)::int FROM "PromiseToPay" AS p WHERE p."caseId" = c.id AND p.status = 'BROKEN') AS "promisesBroken",
           (SELECT max(x."attemptedAt") FROM "ContactAttempt" AS x WHERE x."caseId" = c.id AND x.connected) AS "lastRightPartyContact",
           (SELECT count(*)::int FROM "Complaint" AS k WHERE k."caseId" = c.id) AS complaints,
           (SELECT count(*)::int FROM "Placement" AS pl WHERE pl."caseId" = c.id AND pl.kind = 'AGENCY') AS "placementCount",
           cur.id AS "assignmentId", cur."strategyId" AS "assignmentStrategyId", cur."segmentKey" AS "assignmentSegmentKey", cur.arm AS "assignmentArm", cur.treatment AS "assignmentTreatment"
      FROM "Case" AS c
      JOIN "CardAccount" AS a ON a.id = c."accountId"
      JOIN "Debtor" AS d ON d.id = c."debtorId"
      LEFT JOIN "CaseStrategyAssignment" AS cur ON cur."caseId" = c.id AND cur."endedAt" IS NULL
     WHERE c.stage IN (${stages}) AND c.status NOT IN ('PAID', 'WRITTEN_OFF')
       ${cursor ? Prisma.sql`AND c.id > ${cursor}::uuid` : Prisma.empty}
       ${only ? Prisma.sql`AND c.id = ANY(${only}::uuid[])` : Prisma.empty}
     ORDER BY c.id
     LIMIT ${limit}::int`;
}

/** The facts of a rule, from a case's row and the clock (days in the bank's zone, as everywhere). */
export function factsOf(row: CaseFactsRow, now: Date): Record<FactName, FactValue> {
  const today = localDate(now, BANK_TIME_ZONE);
  const dpd = Math.max(0, daysBetween(row.dueDate, today));
  return {
    bucket: bucketOf(dpd),
    daysPastDue: dpd,
    overdueMinorUnits: Number(row.overdueTotal),
    currency: row.currency,
    product: row.product,
    jurisdiction: row.jurisdiction,
    riskScore: row.riskScore === null ? null : Number(row.riskScore),
    promisesKept: row.promisesKept,
    promisesBroken: row.promisesBroken,
    daysSinceRightPartyContact: row.lastRightPartyContact ? Math.max(0, daysBetween(localDate(row.lastRightPartyContact, BANK_TIME_ZONE), today)) : null,
    complaints: row.complaints,
    placementCount: row.placementCount,
  };
}

// ---------------------------------------------------------------- simulation

export interface SimulationRow {
  segmentKey: string | null;
  segmentName: string | null;
  arm: string | null;
  cases: number;
  /** Overdue balance by currency, in minor units. */
  balance: Map<string, bigint>;
  /** Cases whose segment or arm would change from the assignment in force. */
  changes: number;
}

export interface Simulation {
  strategy: Strategy;
  cases: number;
  rows: SimulationRow[];
}

/**
 * What a strategy would do to the open book now: cases and overdue balance per segment and arm
 * (plus a row with segmentKey null for cases no segment takes), and how many would change from the
 * assignment in force. Reads only.
 */
export async function simulateStrategy(deps: StrategyDeps, splitKey: Uint8Array, input: { strategyId: string }, options: { batchSize?: number } = {}): Promise<Simulation> {
  const strategy = await deps.prisma.strategy.findUnique({ where: { id: input.strategyId } });
  if (!strategy) throw new DomainError('NOT_FOUND', 'No such strategy', 'strategyId');
  const def = definitionOf(strategy);
  const now = deps.clock.now();
  const rows = new Map<string, SimulationRow>();
  for (const g of def.segments) {
    for (const arm of [CHAMPION, ...g.challengers.map((c) => c.key)]) rows.set(`${g.key}|${arm}`, { segmentKey: g.key, segmentName: g.name, arm, cases: 0, balance: new Map(), changes: 0 });
  }
  const none: SimulationRow = { segmentKey: null, segmentName: null, arm: null, cases: 0, balance: new Map(), changes: 0 };
  let total = 0;
  let cursor: string | null = null;
  const batch = options.batchSize ?? 1000;
  for (;;) {
    const page = await readCaseFacts(deps.prisma, cursor, batch);
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.id;
    for (const c of page) {
      total++;
      const choice = chooseSegment(def, factsOf(c, now), (seg) => splitPoint(splitKey, strategy.name, seg, c.id));
      const row = choice ? rows.get(`${choice.segment.key}|${choice.arm}`)! : none;
      row.cases++;
      row.balance.set(c.currency, (row.balance.get(c.currency) ?? 0n) + c.overdueTotal);
      if ((choice?.segment.key ?? null) !== c.assignmentSegmentKey || (choice?.arm ?? null) !== c.assignmentArm) row.changes++;
    }
    if (page.length < batch) break;
  }
  return { strategy, cases: total, rows: [...rows.values(), none] };
}

// ---------------------------------------------------------------- the daily assignment

export interface AssignmentResult {
  strategy: { id: string; name: string; version: number } | null;
  examined: number;
  assigned: number;
  unchanged: number;
  /** Cases whose assignment ended because no segment takes them (or no strategy is in force). */
  unassigned: number;
  /** Cases written to meanwhile (their version moved): left for the next run. */
  skipped: number;
  placed: number;
  recalledToBank: number;
  /** Pool placements skipped: every agency of the pool at capacity. */
  poolFull: number;
  failed: number;
  failures: { caseId: string; error: string }[];
  interrupted?: boolean;
}

const SYSTEM_AUDIT = { userId: null, role: null, agencyId: null, requestId: null };

/** JSON with object keys sorted: a treatment read back from jsonb (keys reordered) compares equal to itself. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function sameTreatment(a: unknown, b: Treatment): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Applies the strategy in force to every open case (see the file's comment). Set-based: a page of
 * cases is read with its facts in one statement, and its changes are written in one transaction
 * (bulk statements: the cases' priority and version, the assignments ended and made, their
 * timeline entries, one audit entry for the page). A case written meanwhile (its version moved) is
 * left for the next run. Placements then go case by case (few: only unplaced cases move).
 * Idempotent: a second run at the same instant changes nothing.
 */
export async function runStrategyAssignment(
  deps: StrategyDeps,
  splitKey: Uint8Array,
  options: { batchSize?: number; signal?: AbortSignal; only?: string[] } = {},
): Promise<AssignmentResult> {
  const { prisma, clock } = deps;
  const now = clock.now();
  const strategy = await prisma.strategy.findFirst({ where: { status: 'ACTIVE' } });
  const def = strategy ? definitionOf(strategy) : null;
  const result: AssignmentResult = {
    strategy: strategy ? { id: strategy.id, name: strategy.name, version: strategy.version } : null,
    examined: 0,
    assigned: 0,
    unchanged: 0,
    unassigned: 0,
    skipped: 0,
    placed: 0,
    recalledToBank: 0,
    poolFull: 0,
    failed: 0,
    failures: [],
  };
  const pools = new PoolState(prisma, now);
  const batch = options.batchSize ?? 1000;
  let cursor: string | null = null;
  for (;;) {
    if (options.signal?.aborted) return { ...result, interrupted: true };
    const page = await readCaseFacts(prisma, cursor, batch, options.only);
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.id;
    result.examined += page.length;
    const changes: Change[] = [];
    const ends: CaseFactsRow[] = [];
    const placements: [CaseFactsRow, Treatment][] = [];
    for (const c of page) {
      const points = new Map<string, number>();
      const choice = def
        ? chooseSegment(def, factsOf(c, now), (seg) => {
            const p = splitPoint(splitKey, strategy!.name, seg, c.id);
            points.set(seg, p);
            return p;
          })
        : null;
      if (!choice) {
        if (c.assignmentId === null) result.unchanged++;
        else ends.push(c);
        continue;
      }
      placements.push([c, choice.treatment]);
      const same = c.assignmentStrategyId === strategy!.id && c.assignmentSegmentKey === choice.segment.key && c.assignmentArm === choice.arm && sameTreatment(c.assignmentTreatment, choice.treatment);
      if (same) result.unchanged++;
      else changes.push({ c, segmentKey: choice.segment.key, segmentName: choice.segment.name, arm: choice.arm, point: points.get(choice.segment.key) ?? null, treatment: choice.treatment, matchedRule: describeRule(choice.segment.rule) });
    }
    if (changes.length || ends.length) {
      const written = await writePage(deps, strategy, changes, ends, now);
      result.assigned += written.assigned;
      result.unassigned += written.ended;
      result.skipped += changes.length + ends.length - written.assigned - written.ended;
    }
    for (const [c, t] of placements) {
      try {
        const placement = await place(deps, c, t, pools);
        if (placement === 'placed') result.placed++;
        else if (placement === 'recalled') result.recalledToBank++;
        else if (placement === 'full') result.poolFull++;
      } catch (err) {
        if (err instanceof DomainError && err.code === 'STALE_VERSION') continue; // written to meanwhile: next run
        result.failed++;
        if (result.failures.length < 50) result.failures.push({ caseId: c.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (page.length < batch) break;
  }
  return result;
}

interface Change {
  c: CaseFactsRow;
  segmentKey: string;
  segmentName: string;
  arm: string;
  point: number | null;
  treatment: Treatment;
  matchedRule: string;
}

/** One page's changes in one transaction (see runStrategyAssignment). */
async function writePage(deps: StrategyDeps, strategy: Strategy | null, changes: Change[], ends: CaseFactsRow[], now: Date): Promise<{ assigned: number; ended: number }> {
  const stages = Prisma.raw(OPEN_STAGES.map((s) => `'${s}'`).join(', '));
  const out = await deps.prisma.$transaction(
    async (tx) => {
      const all = [...changes.map((ch) => ({ c: ch.c, priority: ch.treatment.priority as string })), ...ends.map((c) => ({ c, priority: c.priority }))];
      // Only cases still at the version read, still open: the others were written meanwhile.
      const ok = new Set(
        (
          await tx.$queryRaw<{ id: string }[]>`
            UPDATE "Case" AS c SET priority = u.priority::"CasePriority", version = c.version + 1, "updatedAt" = ${now}
              FROM unnest(${all.map((a) => a.c.id)}::uuid[], ${all.map((a) => a.c.version)}::int[], ${all.map((a) => a.priority)}::text[]) AS u(id, version, priority)
             WHERE c.id = u.id AND c.version = u.version AND c.stage IN (${stages})
            RETURNING c.id::text AS id`
        ).map((r) => r.id),
      );
      const changed = changes.filter((ch) => ok.has(ch.c.id));
      const ended = ends.filter((c) => ok.has(c.id));
      const endIds = [...changed.filter((ch) => ch.c.assignmentId).map((ch) => ch.c.assignmentId!), ...ended.map((c) => c.assignmentId!)];
      if (endIds.length) await tx.caseStrategyAssignment.updateMany({ where: { id: { in: endIds }, endedAt: null }, data: { endedAt: now } });
      const made = changed.map((ch) => ({ id: uuidv7(now.getTime()), ch }));
      if (made.length) {
        await tx.caseStrategyAssignment.createMany({
          data: made.map(({ id, ch }) => ({
            id,
            caseId: ch.c.id,
            strategyId: strategy!.id,
            strategyName: strategy!.name,
            segmentKey: ch.segmentKey,
            arm: ch.arm,
            splitPoint: ch.point,
            treatment: ch.treatment as unknown as Prisma.InputJsonValue,
            matchedRule: ch.matchedRule,
            assignedAt: now,
          })),
        });
      }
      // Timeline entries of the bank's era (agencyId null), shown to strategy readers only (src/auth/scopes.ts).
      const events: Prisma.CaseEventCreateManyInput[] = [
        ...made.map(({ id, ch }) => ({
          caseId: ch.c.id,
          type: 'STRATEGY_SEGMENT_ASSIGNED',
          actorLabel: 'system',
          agencyId: null,
          occurredAt: now,
          recordedAt: now,
          summary: `Segment ${ch.segmentName}${ch.arm === CHAMPION ? '' : ` (arm ${ch.arm})`} of strategy ${strategy!.name} v${strategy!.version}: ${ch.matchedRule}`,
          data: { assignmentId: id, strategyId: strategy!.id, segmentKey: ch.segmentKey, arm: ch.arm, matchedRule: ch.matchedRule, priority: ch.treatment.priority, previous: ch.c.assignmentSegmentKey ? { segmentKey: ch.c.assignmentSegmentKey, arm: ch.c.assignmentArm } : null },
        })),
        ...ended.map((c) => ({
          caseId: c.id,
          type: 'STRATEGY_SEGMENT_ENDED',
          actorLabel: 'system',
          agencyId: null,
          occurredAt: now,
          recordedAt: now,
          summary: `Left segment ${c.assignmentSegmentKey}: ${strategy ? 'no segment of the strategy in force takes the case' : 'no strategy in force'}`,
          data: { assignmentId: c.assignmentId, segmentKey: c.assignmentSegmentKey, arm: c.assignmentArm },
        })),
      ];
      if (events.length) await tx.caseEvent.createMany({ data: events });
      await recordAudit(tx, SYSTEM_AUDIT, now, {
        action: 'strategy.assign',
        entityType: 'Strategy',
        entityId: strategy?.id ?? null,
        data: { assigned: made.map(({ ch }) => ({ caseId: ch.c.id, segmentKey: ch.segmentKey, arm: ch.arm })), ended: ended.map((c) => c.id) },
      });
      return { assigned: made.length, ended: ended.length };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  if (out.assigned || out.ended) deps.events?.committed();
  return out;
}

/** Open cases per agency and recent performance, read once per run and kept as the run places cases. */
class PoolState {
  private openCases = new Map<string, number>();
  private performance = new Map<string, { placed: number; cured: number }>();
  constructor(
    private prisma: PrismaClient,
    private now: Date,
  ) {}

  async members(pool: PoolMember[]): Promise<PoolMemberState[]> {
    const missing = pool.map((m) => m.agencyId).filter((id) => !this.openCases.has(id));
    if (missing.length) {
      const counts = await this.prisma.$queryRaw<{ agencyId: string; open: number }[]>`
        SELECT "assignedAgencyId"::text AS "agencyId", count(*)::int AS open FROM "Case"
         WHERE "assignedAgencyId" = ANY(${missing}::uuid[]) AND stage IN ('EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL')
         GROUP BY "assignedAgencyId"`;
      const since = new Date(this.now.getTime() - PERFORMANCE_WINDOW_DAYS * DAY_MS);
      const perf = await this.prisma.$queryRaw<{ agencyId: string; placed: number; cured: number }[]>`
        SELECT p."agencyId"::text AS "agencyId", count(*)::int AS placed,
               count(*) FILTER (WHERE c.status = 'PAID' OR (c.stage = 'RESOLVED' AND c."closedAt" <= p."endedAt"))::int AS cured
          FROM "Placement" AS p JOIN "Case" AS c ON c.id = p."caseId"
         WHERE p."agencyId" = ANY(${missing}::uuid[]) AND p."endedAt" >= ${since} AND p."endedAt" <= ${this.now}
         GROUP BY p."agencyId"`;
      for (const id of missing) this.openCases.set(id, 0);
      for (const r of counts) this.openCases.set(r.agencyId, r.open);
      for (const r of perf) this.performance.set(r.agencyId, { placed: r.placed, cured: r.cured });
    }
    const active = new Set((await this.prisma.agency.findMany({ where: { id: { in: pool.map((m) => m.agencyId) }, status: 'ACTIVE' }, select: { id: true } })).map((a) => a.id));
    return pool.map((m) => ({
      agencyId: m.agencyId,
      weight: m.weight,
      // A suspended agency takes nothing.
      capacity: active.has(m.agencyId) ? m.capacity : 0,
      openCases: this.openCases.get(m.agencyId) ?? 0,
      recentPlacements: this.performance.get(m.agencyId)?.placed ?? 0,
      recentCured: this.performance.get(m.agencyId)?.cured ?? 0,
    }));
  }

  placed(agencyId: string): void {
    this.openCases.set(agencyId, (this.openCases.get(agencyId) ?? 0) + 1);
  }
  left(agencyId: string): void {
    this.openCases.set(agencyId, Math.max(0, (this.openCases.get(agencyId) ?? 0) - 1));
  }
}

/**
 * Places the case as the treatment says, when it is not placed so already. Only unplaced cases
 * (no agency, no collector) go to an agency or pool: a case already worked by someone stays
 * with them until its placement ends (the expiry job recalls it, and the next run places it
 * anew). BANK recalls an agency's case to the bank (reason OTHER).
 */
async function place(deps: StrategyDeps, c: CaseFactsRow, t: Treatment, pools: PoolState): Promise<'placed' | 'recalled' | 'full' | null> {
  const target = t.placement;
  if (target.kind === 'NONE') return null;
  const fresh = await deps.prisma.case.findUnique({ where: { id: c.id }, select: { version: true, assignedAgencyId: true, assignedCollectorId: true } });
  if (!fresh) return null;
  if (target.kind === 'BANK') {
    if (!fresh.assignedAgencyId) return null;
    const agencyId = fresh.assignedAgencyId;
    await writeCase(deps, null, c.id, { system: true, expectedVersion: fresh.version, action: 'case.recall' }, async ({ tx, now }) => {
      const current = await tx.placement.findFirst({ where: { caseId: c.id, endedAt: null }, orderBy: { startsAt: 'desc' } });
      if (current) await tx.placement.update({ where: { id: current.id }, data: { endedAt: now, recallReason: 'OTHER', recallNote: 'strategy: the treatment keeps the case at the bank' } });
      return {
        result: {},
        data: { assignedAgencyId: null, assignedCollectorId: null },
        events: [{ type: 'CASE_RECALLED', summary: 'Recalled: OTHER', data: { reason: 'OTHER', note: 'strategy', agencyId, collectorId: fresh.assignedCollectorId } }],
        auditData: { reason: 'OTHER', agencyId, by: 'strategy' },
      };
    });
    pools.left(agencyId);
    return 'recalled';
  }
  if (fresh.assignedAgencyId || fresh.assignedCollectorId) return null;
  let agencyId: string;
  if (target.kind === 'AGENCY') {
    agencyId = target.agencyId;
    const agency = await deps.prisma.agency.findUnique({ where: { id: agencyId }, select: { status: true } });
    if (agency?.status !== 'ACTIVE') return 'full';
  } else {
    const members = await pools.members(target.agencies);
    const i = chooseAgency(members);
    if (i === null) return 'full';
    agencyId = members[i]!.agencyId;
  }
  await writeCase(deps, null, c.id, { system: true, expectedVersion: fresh.version, action: 'case.assign' }, async ({ tx, now }) => {
    const endsAt = new Date(now.getTime() + t.placementDays * DAY_MS);
    const placement = await tx.placement.create({ data: { caseId: c.id, kind: 'AGENCY', agencyId, collectorId: null, startsAt: now, endsAt } });
    return {
      result: {},
      data: { assignedAgencyId: agencyId, assignedCollectorId: null },
      events: [{ type: 'CASE_ASSIGNED', summary: 'Assigned to agency', data: { placementId: placement.id, agencyId, collectorId: null, endsAt: endsAt.toISOString() } }],
      auditData: { placementId: placement.id, agencyId, by: 'strategy', pool: target.kind === 'POOL' },
    };
  });
  pools.placed(agencyId);
  return 'placed';
}

// ---------------------------------------------------------------- risk scores

export const MAX_RISK_SCORES = 1000;

export interface RiskScoreInput {
  /** The bank's account reference (CardAccount.externalRef). */
  accountRef: string;
  score: number;
}

/**
 * Scores from the bank's model for many accounts at once (at most MAX_RISK_SCORES), each with the
 * model's name and the score date. Idempotent: a score already kept for (account, model, date)
 * with the same value is left as it is (counted `unchanged`); with another value the whole batch
 * is refused (DUPLICATE): a correction is a score of a later date, and history is never rewritten.
 * All or nothing, audited once.
 */
export async function setRiskScores(
  deps: StrategyDeps,
  actor: Actor | null,
  input: { model: string; scoredOn: string; scores: RiskScoreInput[] },
): Promise<{ created: number; unchanged: number }> {
  const model = input.model.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$/.test(model)) throw new DomainError('VALIDATION', 'model: 1 to 64 letters, digits, spaces, _ . : -', 'model');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.scoredOn)) throw new DomainError('VALIDATION', 'scoredOn: a date YYYY-MM-DD', 'scoredOn');
  const scoredOn = parseDateOnly(input.scoredOn);
  const now = deps.clock.now();
  if (scoredOn.getTime() > now.getTime() + DAY_MS) throw new DomainError('VALIDATION', 'scoredOn: not in the future', 'scoredOn');
  if (input.scores.length === 0 || input.scores.length > MAX_RISK_SCORES) throw new DomainError('VALIDATION', `scores: 1 to ${MAX_RISK_SCORES} in one call`, 'scores');
  const seen = new Map<string, number>();
  const firstIndex = new Map<string, number>();
  input.scores.forEach((s, i) => {
    if (!firstIndex.has(s.accountRef)) firstIndex.set(s.accountRef, i);
    if (!Number.isFinite(s.score) || Math.abs(s.score) > 1e9) throw new DomainError('VALIDATION', `scores.${i}.score: a finite number`, ['scores', String(i), 'score']);
    const prior = seen.get(s.accountRef);
    if (prior !== undefined && prior !== s.score) throw new DomainError('VALIDATION', `scores.${i}: the account is scored twice with different values`, ['scores', String(i), 'accountRef']);
    seen.set(s.accountRef, s.score);
  });
  return deps.prisma.$transaction(
    async (tx) => {
      const accounts = await tx.cardAccount.findMany({ where: { externalRef: { in: [...seen.keys()] } }, select: { id: true, externalRef: true } });
      const idOf = new Map(accounts.map((a) => [a.externalRef, a.id]));
      input.scores.forEach((s, i) => {
        if (!idOf.has(s.accountRef)) throw new DomainError('NOT_FOUND', `scores.${i}.accountRef: no such account`, ['scores', String(i), 'accountRef']);
      });
      const existing = await tx.riskScore.findMany({ where: { accountId: { in: accounts.map((a) => a.id) }, model, scoredOn }, select: { accountId: true, score: true } });
      const kept = new Map(existing.map((e) => [e.accountId, e.score]));
      const fresh: { accountId: string; score: number }[] = [];
      let unchanged = 0;
      for (const [ref, score] of seen) {
        const accountId = idOf.get(ref)!;
        const prior = kept.get(accountId);
        if (prior === undefined) fresh.push({ accountId, score });
        else if (prior === score) unchanged++;
        else throw new DomainError('DUPLICATE', `scores: account ${ref} has a ${model} score of ${prior} for ${input.scoredOn} already; a correction is a score of a later date`, ['scores', String(firstIndex.get(ref)), 'score']);
      }
      if (fresh.length) {
        await tx.riskScore.createMany({ data: fresh.map((f) => ({ accountId: f.accountId, score: f.score, model, scoredOn, importedAt: now, importedById: actor?.viewer.userId ?? null })) });
      }
      await recordAudit(tx, actor ? auditActor(actor) : SYSTEM_AUDIT, now, {
        action: 'riskScore.set',
        entityType: 'RiskScore',
        data: { model, scoredOn: input.scoredOn, created: fresh.length, unchanged },
      });
      return { created: fresh.length, unchanged };
    },
    { timeout: 60_000 },
  );
}
