/**
 * Strategies in the API (issue 16). Scope: strategies, their segments, rules and treatments, a
 * case's assignment and its risk scores are the bank's internals: read by BANK_ADMIN,
 * BANK_SUPERVISOR and AUDITOR; changed by BANK_ADMIN and BANK_SUPERVISOR. An agency principal (and
 * a bank collector) gets FORBIDDEN from the root fields, null from node(id) and from
 * Case.strategyAssignment / Case.riskScore; it sees only the effects (the case's priority, its
 * placement), as it always did.
 */
import { GraphQLError } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { STRATEGY_READERS } from '../../auth/scopes.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import * as E from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { money } from '../../lib/money.ts';
import { dateOnly } from '../../lib/time.ts';
import { MoneyRef, UserErrorRef, withUserErrors, mutationPayload } from '../common/schema.ts';
import { CasePriority } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import type { Segment, Treatment, Challenger } from './definition.ts';
import { describeRule } from './rules.ts';
import * as service from './service.ts';
import { strategyExperiment, type ArmResult, type ExperimentResult } from './experiment.ts';
import type { Interval } from './stats.ts';

/** Who changes strategies (who reads them: src/auth/scopes.ts). */
export const STRATEGY_WRITERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR'];
const readsStrategies = (v: Viewer) => STRATEGY_READERS.includes(v.role);
const NO_ROW = '00000000-0000-0000-0000-000000000000';
const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });

const StrategyStatus = builder.enumType(E.StrategyStatus, { name: 'StrategyStatus' });
const PlacementTargetKind = builder.enumType('StrategyPlacementKind', {
  values: ['NONE', 'BANK', 'AGENCY', 'POOL'] as const,
  description: 'Where a treatment places a case: nowhere (as it is), the bank, one agency, a pool of agencies by weight, capacity and performance.',
});

const PoolMemberRef = builder.objectRef<{ agencyId: string; weight: number; capacity: number }>('StrategyPoolMember').implement({
  fields: (t) => ({
    agencyId: t.id({ description: 'The agency’s global id.', resolve: (m) => encodeGlobalID('Agency', m.agencyId) }),
    weight: t.exposeInt('weight'),
    capacity: t.exposeInt('capacity', { description: 'Open cases the agency may hold at most.' }),
  }),
});

const TreatmentRef = builder.objectRef<Treatment>('StrategyTreatment').implement({
  description: 'What a segment (or a challenger arm) does with its cases.',
  fields: (t) => ({
    dunningRules: t.stringList({ nullable: true, description: 'Names of the dunning rules that send automatic reminders; null: every active rule; empty: none.', resolve: (x) => x.dunningRules }),
    priority: t.field({ type: CasePriority, resolve: (x) => x.priority }),
    placementKind: t.field({ type: PlacementTargetKind, resolve: (x) => x.placement.kind }),
    placementAgencyId: t.id({ nullable: true, resolve: (x) => (x.placement.kind === 'AGENCY' ? encodeGlobalID('Agency', x.placement.agencyId) : null) }),
    placementPool: t.field({ type: [PoolMemberRef], resolve: (x) => (x.placement.kind === 'POOL' ? x.placement.agencies : []) }),
    placementDays: t.exposeInt('placementDays'),
    visitEligible: t.exposeBoolean('visitEligible'),
  }),
});

const ChallengerRef = builder.objectRef<Challenger>('StrategyChallenger').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    share: t.exposeInt('share', { description: 'Percent of the segment’s cases.' }),
    treatment: t.field({ type: TreatmentRef, resolve: (c) => c.treatment }),
  }),
});

const SegmentRef = builder.objectRef<Segment>('StrategySegment').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    rule: t.field({ type: 'JSON', description: 'The rule, in the rule language (README, "Strategies").', resolve: (s) => s.rule }),
    ruleText: t.string({ resolve: (s) => describeRule(s.rule) }),
    treatment: t.field({ type: TreatmentRef, description: 'The champion’s treatment.', resolve: (s) => s.treatment }),
    challengers: t.field({ type: [ChallengerRef], resolve: (s) => s.challengers }),
  }),
});

export const StrategyRef = builder.prismaNode('Strategy', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id: readsStrategies(ctx.viewer) ? id : NO_ROW }),
  description: 'One version of a collections strategy: ordered segments with treatments and champion-challenger arms.',
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeInt('version'),
    status: t.expose('status', { type: StrategyStatus }),
    note: t.exposeString('note'),
    definition: t.field({ type: 'JSON', description: 'The whole definition, as createStrategy takes it.', resolve: (s) => s.definition }),
    segments: t.field({ type: [SegmentRef], resolve: (s) => service.definitionOf(s).segments }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
    retiredAt: t.expose('retiredAt', { type: 'DateTime', nullable: true }),
  }),
});

const AssignmentRef = builder.prismaObject('CaseStrategyAssignment', {
  description: 'The segment, arm and treatment a case has under a strategy, and the rule that matched.',
  fields: (t) => ({
    strategy: t.relation('strategy', { type: StrategyRef }),
    segmentKey: t.exposeString('segmentKey'),
    arm: t.exposeString('arm', { description: '"champion" or a challenger’s key.' }),
    treatment: t.field({ type: TreatmentRef, resolve: (a) => a.treatment as unknown as Treatment }),
    matchedRule: t.exposeString('matchedRule'),
    assignedAt: t.expose('assignedAt', { type: 'DateTime' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
  }),
});

const RiskScoreRef = builder.prismaObject('RiskScore', {
  description: 'A score from the bank’s risk model for the case’s account.',
  fields: (t) => ({
    score: t.exposeFloat('score'),
    model: t.exposeString('model'),
    scoredOn: t.expose('scoredOn', { type: 'Date' }),
    importedAt: t.expose('importedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectFields(CaseRef, (t) => ({
  strategyAssignment: t.field({
    type: AssignmentRef,
    nullable: true,
    description: 'The case’s segment and treatment in force (strategy readers only; null for others).',
    resolve: (c, _a, ctx) => (readsStrategies(ctx.viewer) ? ctx.prisma.caseStrategyAssignment.findFirst({ where: { caseId: c.id, endedAt: null } }) : null),
  }),
  riskScore: t.field({
    type: RiskScoreRef,
    nullable: true,
    description: 'The account’s latest risk score (strategy readers only; null for others).',
    select: { accountId: true },
    resolve: (c, _a, ctx) =>
      readsStrategies(ctx.viewer) ? ctx.prisma.riskScore.findFirst({ where: { accountId: c.accountId }, orderBy: [{ scoredOn: 'desc' }, { importedAt: 'desc' }, { id: 'desc' }] }) : null,
  }),
}));

// ---------------------------------------------------------------- simulation and experiment

const SimulationRowRef = builder.objectRef<service.SimulationRow>('StrategySimulationSegment').implement({
  fields: (t) => ({
    segmentKey: t.string({ nullable: true, description: 'Null: the cases no segment takes.', resolve: (r) => r.segmentKey }),
    segmentName: t.string({ nullable: true, resolve: (r) => r.segmentName }),
    arm: t.string({ nullable: true, resolve: (r) => r.arm }),
    cases: t.exposeInt('cases'),
    balance: t.field({ type: [MoneyRef], description: 'Overdue balance by currency.', resolve: (r) => [...r.balance.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([c, v]) => money(v, c)) }),
    changes: t.exposeInt('changes', { description: 'Cases whose segment or arm would change from the assignment in force.' }),
  }),
});

const SimulationRef = builder.objectRef<service.Simulation>('StrategySimulation').implement({
  description: 'What a strategy would do to the open book now; nothing is written.',
  fields: (t) => ({
    strategy: t.field({ type: StrategyRef, resolve: (s) => s.strategy }),
    cases: t.exposeInt('cases', { description: 'Open cases looked at.' }),
    segments: t.field({ type: [SimulationRowRef], resolve: (s) => s.rows }),
  }),
});

const IntervalRef = builder.objectRef<Interval>('ConfidenceInterval').implement({
  description: 'An estimate with its 95 % interval (Wilson for rates, normal approximation for means); null bounds: too few cases.',
  fields: (t) => ({
    estimate: t.float({ nullable: true, resolve: (i) => i.estimate }),
    low: t.float({ nullable: true, resolve: (i) => i.low }),
    high: t.float({ nullable: true, resolve: (i) => i.high }),
    n: t.exposeInt('n', { description: 'Cases (or promises) counted.' }),
  }),
});

const MoneyIntervalRef = builder.objectRef<Interval & { currency: string }>('MoneyInterval').implement({
  description: 'A mean amount per case with its 95 % interval, in one currency.',
  fields: (t) => ({
    estimate: t.field({ type: MoneyRef, nullable: true, resolve: (i) => (i.estimate === null ? null : money(BigInt(i.estimate), i.currency)) }),
    low: t.field({ type: MoneyRef, nullable: true, resolve: (i) => (i.low === null ? null : money(BigInt(i.low), i.currency)) }),
    high: t.field({ type: MoneyRef, nullable: true, resolve: (i) => (i.high === null ? null : money(BigInt(i.high), i.currency)) }),
    n: t.exposeInt('n'),
  }),
});

const ArmRef = builder.objectRef<ArmResult>('StrategyExperimentArm').implement({
  fields: (t) => ({
    arm: t.exposeString('arm'),
    share: t.int({ nullable: true, description: 'Percent in the version asked about; null: an arm no longer in it.', resolve: (a) => a.share }),
    cases: t.exposeInt('cases'),
    cureRate: t.field({ type: IntervalRef, description: 'Share of cases resolved (paid in full) in the period.', resolve: (a) => a.cureRate }),
    collectedPerCase: t.field({ type: [MoneyIntervalRef], description: 'Payments received in the period (not reversed) per case, by currency.', resolve: (a) => a.collectedPerCase }),
    promiseKeptRate: t.field({ type: IntervalRef, description: 'Promises due in the period that were kept, among those that ended.', resolve: (a) => a.promiseKeptRate }),
    complaintRate: t.field({ type: IntervalRef, description: 'Share of cases with a complaint received in the period.', resolve: (a) => a.complaintRate }),
    contactCostPerCase: t.field({ type: IntervalRef, description: 'Contact cost units per case (SMS or e-mail 1, call 5, letter 10).', resolve: (a) => a.contactCostPerCase }),
  }),
});

const ExperimentRef = builder.objectRef<ExperimentResult>('StrategyExperiment').implement({
  fields: (t) => ({
    strategy: t.field({ type: StrategyRef, resolve: (e) => e.strategy }),
    segmentKey: t.exposeString('segmentKey'),
    from: t.field({ type: 'DateTime', resolve: (e) => e.from }),
    to: t.field({ type: 'DateTime', resolve: (e) => e.to }),
    arms: t.field({ type: [ArmRef], resolve: (e) => e.arms }),
  }),
});

/** A query's refusal: not found answers null, bad input a BAD_USER_INPUT error naming the field. */
async function queryRefusal<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DomainError) {
      if (err.code === 'NOT_FOUND') return null;
      throw new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT', field: err.field } });
    }
    throw err;
  }
}

const strategiesWhere = (args: { status?: E.StrategyStatus | null; name?: string | null }) => ({ ...(args.status ? { status: args.status } : {}), ...(args.name ? { name: args.name } : {}) });
const readers = { role: [...STRATEGY_READERS] };
const writers = { role: STRATEGY_WRITERS };

builder.queryFields((t) => ({
  strategies: t.prismaConnection({
    type: 'Strategy',
    cursor: 'id',
    description: 'Strategy versions, newest first (strategy readers only).',
    authScopes: readers,
    args: { status: t.arg({ type: StrategyStatus, required: false }), name: t.arg.string({ required: false }) },
    totalCount: (_p, args, ctx) => ctx.prisma.strategy.count({ where: strategiesWhere(args) }),
    resolve: (query, _r, args, ctx) => ctx.prisma.strategy.findMany({ ...query, where: strategiesWhere(args), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
  simulateStrategy: t.field({
    type: SimulationRef,
    nullable: true,
    description: 'Cases and overdue balance each segment and arm of a strategy would take now, and how many would change; changes nothing.',
    authScopes: readers,
    args: { strategyId: t.arg.globalID({ for: [StrategyRef] }) },
    resolve: (_r, args, ctx) => queryRefusal(() => service.simulateStrategy(ctx, ctx.pii.strategySplitKey(), { strategyId: args.strategyId.id })),
  }),
  strategyExperiment: t.field({
    type: ExperimentRef,
    nullable: true,
    description: 'The arms of a champion-challenger segment compared over a period, each figure with a 95 % interval (README, "Strategies").',
    authScopes: readers,
    args: {
      strategyId: t.arg.globalID({ for: [StrategyRef] }),
      segmentKey: t.arg.string(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: (_r, args, ctx) => queryRefusal(() => strategyExperiment(ctx.prisma, { strategyId: args.strategyId.id, segmentKey: args.segmentKey, from: args.from, to: args.to })),
  }),
}));

// ---------------------------------------------------------------- mutations

const CreateStrategyInput = builder.inputType('CreateStrategyInput', {
  fields: (t) => ({
    name: t.string({ description: 'A new strategy, or a new version of one.' }),
    definition: t.field({ type: 'JSON', description: '{ segments: [{ key, name, rule, treatment, challengers }] } (README, "Strategies").' }),
    note: t.string({ required: false }),
  }),
});
const ActivateStrategyInput = builder.inputType('ActivateStrategyInput', { fields: (t) => ({ strategyId: t.globalID({ for: [StrategyRef] }), reason: t.string() }) });
const RetireStrategyInput = builder.inputType('RetireStrategyInput', { fields: (t) => ({ strategyId: t.globalID({ for: [StrategyRef] }), reason: t.string() }) });
const PromoteChallengerInput = builder.inputType('PromoteChallengerInput', {
  fields: (t) => ({ strategyId: t.globalID({ for: [StrategyRef] }), segmentKey: t.string(), arm: t.string({ description: 'The challenger’s key.' }), reason: t.string() }),
});
const RiskScoreInput = builder.inputType('RiskScoreInput', {
  fields: (t) => ({ accountRef: t.string({ description: 'The bank’s account reference.' }), score: t.float() }),
});
const SetRiskScoresInput = builder.inputType('SetRiskScoresInput', {
  fields: (t) => ({
    model: t.string({ description: 'The model’s name and version, e.g. "behaviour-v3".' }),
    scoredOn: t.field({ type: 'Date' }),
    scores: t.field({ type: [RiskScoreInput], description: `At most ${service.MAX_RISK_SCORES}.` }),
  }),
});

const SetRiskScoresPayload = builder.objectRef<{ created?: number; unchanged?: number; userErrors: import('../../lib/errors.ts').UserError[] }>('SetRiskScoresPayload').implement({
  fields: (t) => ({
    created: t.int({ nullable: true, resolve: (p) => p.created ?? null }),
    unchanged: t.int({ nullable: true, description: 'Scores kept already with the same value (a retry).', resolve: (p) => p.unchanged ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  createStrategy: t.field({
    type: mutationPayload('CreateStrategyPayload', 'strategy', StrategyRef),
    description: 'A new DRAFT version of a strategy; the definition is checked whole (rules, treatments, agencies, dunning rules). Audited.',
    authScopes: writers,
    args: { input: t.arg({ type: CreateStrategyInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.createStrategy(ctx, actorOf(ctx), { name: input.name, definition: input.definition, note: input.note ?? null })),
  }),
  activateStrategy: t.field({
    type: mutationPayload('ActivateStrategyPayload', 'strategy', StrategyRef),
    description: 'Puts a DRAFT in force (the version in force before is retired); the daily job applies it. Audited.',
    authScopes: writers,
    args: { input: t.arg({ type: ActivateStrategyInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.activateStrategy(ctx, actorOf(ctx), { strategyId: input.strategyId.id, reason: input.reason })),
  }),
  retireStrategy: t.field({
    type: mutationPayload('RetireStrategyPayload', 'strategy', StrategyRef),
    description: 'Retires a version; the daily job then ends the assignments it made. Audited.',
    authScopes: writers,
    args: { input: t.arg({ type: RetireStrategyInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.retireStrategy(ctx, actorOf(ctx), { strategyId: input.strategyId.id, reason: input.reason })),
  }),
  promoteChallenger: t.field({
    type: mutationPayload('PromoteChallengerPayload', 'strategy', StrategyRef),
    description: 'Makes a challenger arm the champion of its segment: a new version (in force at once when the source was). Audited.',
    authScopes: writers,
    args: { input: t.arg({ type: PromoteChallengerInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.promoteChallenger(ctx, actorOf(ctx), { strategyId: input.strategyId.id, segmentKey: input.segmentKey, arm: input.arm, reason: input.reason })),
  }),
  setRiskScores: t.field({
    type: SetRiskScoresPayload,
    description: 'Risk scores from the bank’s model, in bulk (all or nothing; a retry changes nothing). History is kept. Audited.',
    authScopes: writers,
    args: { input: t.arg({ type: SetRiskScoresInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.setRiskScores(ctx, actorOf(ctx), { model: input.model, scoredOn: dateOnly(input.scoredOn), scores: input.scores.map((s) => ({ accountRef: s.accountRef, score: s.score })) })),
  }),
}));
