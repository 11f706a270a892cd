import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { runStrategyAssignment, setRiskScores, activateStrategy } from '../../src/modules/strategy/service.ts';
import { createAutomaticReminders } from '../../src/modules/contact/dunning.ts';
import { planVisit } from '../../src/modules/visits/service.ts';
import { recordPayment } from '../../src/modules/repayment/service.ts';
import { placementExpiryJob } from '../../src/jobs/placements.ts';
import { JobScheduler } from '../../src/jobs/index.ts';
import { STRATEGY_ASSIGNMENT_JOB, strategyAssignmentJob } from '../../src/jobs/strategy.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { viewerOf } from '../../src/auth/viewer.ts';
import { DomainError } from '../../src/lib/errors.ts';
import { DAY_MS } from '../../src/lib/time.ts';

let t: TestApp;
let s: Scenario;
let adminToken: string;
const logger = createLogger('silent');
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  adminToken = await t.token(s.users.admin);
});
afterAll(async () => t?.close());

const deps = () => ({ prisma: t.prisma, clock: t.clock });
const splitKey = () => t.pii.strategySplitKey();
const actor = (u: Scenario['users'][keyof Scenario['users']]) => ({
  viewer: viewerOf({ id: u.id, email: u.email, fullName: u.email, role: u.role, agencyId: u.agencyId }),
  requestId: 'test',
});

const CREATE = `mutation($input: CreateStrategyInput!) { createStrategy(input: $input) { strategy { id name version status segments { key ruleText treatment { priority placementKind dunningRules visitEligible } challengers { key share } } } userErrors { code field message } } }`;
const ACTIVATE = `mutation($input: ActivateStrategyInput!) { activateStrategy(input: $input) { strategy { id status } userErrors { code field message } } }`;

async function create(definition: unknown, name = 'collections', token = adminToken) {
  const r = await t.gql(token, CREATE, { input: { name, definition } });
  return r.data?.createStrategy ?? r;
}

/** Wipes strategies and assignments between tests (cases stay; each test makes its own). */
async function resetStrategies() {
  await t.prisma.caseStrategyAssignment.deleteMany({});
  await t.prisma.strategy.deleteMany({});
}

/** Only the given cases go through the job (other tests' cases stay out of the counts). */
async function run(only: string[]) {
  return runStrategyAssignment(deps(), splitKey(), { only });
}

describe('createStrategy and activateStrategy', () => {
  it('checks the definition at the edge: a bad rule is a VALIDATION error naming the path; nothing is written', async () => {
    await resetStrategies();
    const bad = await create({ segments: [{ key: 'a', rule: { fact: 'daysPastDue', op: 'gte', value: 'thirty' }, treatment: {} }] });
    expect(bad.userErrors).toEqual([{ code: 'VALIDATION', field: ['definition', 'segments', '0', 'rule', 'value'], message: expect.stringMatching(/number/) }]);
    const noAgency = await create({ segments: [{ key: 'a', rule: { all: [] }, treatment: { placement: { kind: 'AGENCY', agencyId: '0190a1b2-0000-7000-8000-0000000000ff' } } }] });
    expect(noAgency.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['definition', 'segments', '0', 'treatment', 'placement', 'agencyId'] });
    const noRule = await create({ segments: [{ key: 'a', rule: { all: [] }, treatment: { dunningRules: ['no-such-rule'] } }] });
    expect(noRule.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['definition', 'segments', '0', 'treatment', 'dunningRules'] });
    expect(await t.prisma.strategy.count()).toBe(0);
  });

  it('versions a strategy, activates one at a time (the one before retires), audits both', async () => {
    await resetStrategies();
    const v1 = await create({ segments: [{ key: 'all', rule: { all: [] }, treatment: { priority: 'HIGH' } }] });
    expect(v1.userErrors).toEqual([]);
    expect(v1.strategy).toMatchObject({ name: 'collections', version: 1, status: 'DRAFT', segments: [{ key: 'all', ruleText: 'always', treatment: { priority: 'HIGH', placementKind: 'NONE', dunningRules: null, visitEligible: true } }] });
    const v2 = await create({ segments: [{ key: 'all', rule: { all: [] }, treatment: {} }] });
    expect(v2.strategy.version).toBe(2);
    const a1 = await t.gql(adminToken, ACTIVATE, { input: { strategyId: v1.strategy.id, reason: 'first' } });
    expect(a1.data.activateStrategy.strategy.status).toBe('ACTIVE');
    const again = await t.gql(adminToken, ACTIVATE, { input: { strategyId: v1.strategy.id, reason: 'again' } });
    expect(again.data.activateStrategy.userErrors[0].code).toBe('INVALID_TRANSITION');
    const a2 = await t.gql(await t.token(s.users.supervisor), ACTIVATE, { input: { strategyId: v2.strategy.id, reason: 'second' } });
    expect(a2.data.activateStrategy.userErrors).toEqual([]);
    const rows = await t.prisma.strategy.findMany({ orderBy: { version: 'asc' } });
    expect(rows.map((r) => r.status)).toEqual(['RETIRED', 'ACTIVE']);
    const audit = await t.prisma.auditEvent.findMany({ where: { action: { startsWith: 'strategy.' } }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
    expect(audit.map((a) => a.action)).toEqual(['strategy.create', 'strategy.create', 'strategy.activate', 'strategy.activate']);
    expect(audit[3]!.reason).toBe('second');
    expect(audit[3]!.data).toMatchObject({ retired: { version: 1 } });
  });

  it('a collector, an auditor or an agency may not write strategies', async () => {
    for (const u of [s.users.collector, s.users.auditor, s.users.northManager]) {
      const r = await t.gql(await t.token(u), CREATE, { input: { name: 'x', definition: { segments: [{ key: 'a', rule: { all: [] }, treatment: {} }] } } });
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});

describe('the scope of strategies', () => {
  it('agencies and bank collectors never read strategies, assignments or scores; the timeline entry is the bank’s', async () => {
    await resetStrategies();
    const now = t.clock.now();
    const c = await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, collectorId: s.users.northAgent.id, daysPastDue: 40 });
    const account = await t.prisma.cardAccount.findUniqueOrThrow({ where: { id: c.accountId } });
    await setRiskScores(deps(), actor(s.users.admin), { model: 'behaviour-v3', scoredOn: '2026-11-27', scores: [{ accountRef: account.externalRef, score: 350 }] });
    const created = await create({ segments: [{ key: 'secret-segment', rule: { fact: 'riskScore', op: 'lt', value: 400 }, treatment: { priority: 'URGENT' } }] });
    await activateStrategy(deps(), actor(s.users.admin), { strategyId: Buffer.from(created.strategy.id, 'base64').toString().split(':')[1]!, reason: 'go' });
    expect(await run([c.id])).toMatchObject({ assigned: 1 });

    const caseId = encodeGlobalID('Case', c.id);
    const Q = `query($id: ID!, $sid: ID!) { node(id: $id) { ... on Case { priority strategyAssignment { segmentKey } riskScore { score } timeline(first: 50) { nodes { type summary } } } } strategy: node(id: $sid) { id } }`;
    const admin = await t.gql(adminToken, Q, { id: caseId, sid: created.strategy.id });
    expect(admin.data.node).toMatchObject({ priority: 'URGENT', strategyAssignment: { segmentKey: 'secret-segment' }, riskScore: { score: 350 } });
    expect(admin.data.node.timeline.nodes.map((n: any) => n.type)).toContain('STRATEGY_SEGMENT_ASSIGNED');
    expect(admin.data.strategy.id).toBe(created.strategy.id);

    for (const u of [s.users.northManager, s.users.northAgent]) {
      const r = await t.gql(await t.token(u), Q, { id: caseId, sid: created.strategy.id });
      expect(r.errors).toBeUndefined();
      // The effect (the priority) shows; the strategy's internals do not.
      expect(r.data.node.priority).toBe('URGENT');
      expect(r.data.node.strategyAssignment).toBeNull();
      expect(r.data.node.riskScore).toBeNull();
      expect(JSON.stringify(r.data.node.timeline)).not.toMatch(/secret-segment|STRATEGY_|riskScore/);
      expect(r.data.strategy).toBeNull();
    }
    for (const u of [s.users.northManager, s.users.collector]) {
      const token = await t.token(u);
      for (const q of [`query($id: ID!) { strategies(first: 5) { totalCount } node(id: $id) { id } }`, `query($id: ID!) { simulateStrategy(strategyId: $id) { cases } }`]) {
        const r = await t.gql(token, q, { id: created.strategy.id });
        expect(r.errors?.[0]?.extensions?.code, JSON.stringify(r.errors)).toBe('FORBIDDEN');
      }
    }
    const auditor = await t.gql(await t.token(s.users.auditor), `{ strategies(first: 5) { totalCount nodes { name } } }`);
    expect(auditor.errors, JSON.stringify(auditor.errors)).toBeUndefined();
    expect(auditor.data.strategies.totalCount).toBe(1);
  });
});

describe('risk scores', () => {
  it('setRiskScores: bounded, idempotent, history kept, a conflicting re-import refused whole', async () => {
    const now = t.clock.now();
    const a = await createCase(t.prisma, t.pii, { now });
    const b = await createCase(t.prisma, t.pii, { now });
    const refs = await t.prisma.cardAccount.findMany({ where: { id: { in: [a.accountId, b.accountId] } }, orderBy: { externalRef: 'asc' } });
    const SET = `mutation($input: SetRiskScoresInput!) { setRiskScores(input: $input) { created unchanged userErrors { code field message } } }`;
    const input = { model: 'behaviour-v3', scoredOn: '2026-11-01', scores: refs.map((r, i) => ({ accountRef: r.externalRef, score: 500 + i })) };
    expect((await t.gql(adminToken, SET, { input })).data.setRiskScores).toEqual({ created: 2, unchanged: 0, userErrors: [] });
    expect((await t.gql(adminToken, SET, { input })).data.setRiskScores).toEqual({ created: 0, unchanged: 2, userErrors: [] });
    const conflict = await t.gql(adminToken, SET, { input: { ...input, scores: [{ accountRef: refs[0]!.externalRef, score: 1 }] } });
    expect(conflict.data.setRiskScores.userErrors[0]).toMatchObject({ code: 'DUPLICATE', field: ['scores', '0', 'score'] });
    const later = await t.gql(adminToken, SET, { input: { ...input, scoredOn: '2026-11-20', scores: [{ accountRef: refs[0]!.externalRef, score: 1 }, { accountRef: 'NO-SUCH', score: 2 }] } });
    expect(later.data.setRiskScores.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['scores', '1', 'accountRef'] });
    expect(await t.prisma.riskScore.count({ where: { accountId: refs[0]!.id } })).toBe(1); // all or nothing
    const tooMany = await t.gql(adminToken, SET, { input: { ...input, scores: Array.from({ length: 1001 }, (_x, i) => ({ accountRef: `A${i}`, score: 1 })) } });
    expect(tooMany.data.setRiskScores.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['scores'] });
    await setRiskScores(deps(), null, { ...input, scoredOn: '2026-11-20', scores: [{ accountRef: refs[0]!.externalRef, score: 1 }] });
    expect(await t.prisma.riskScore.count({ where: { accountId: refs[0]!.id } })).toBe(2); // history
    const agency = await t.gql(await t.token(s.users.northManager), SET, { input });
    expect(agency.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('simulation and the daily assignment', () => {
  it('simulates without writing, then the job assigns, records the rule, sets priority, and a re-run changes nothing', async () => {
    await resetStrategies();
    const now = t.clock.now();
    const early = await createCase(t.prisma, t.pii, { now, daysPastDue: 5, principal: 100_000n });
    const late = await createCase(t.prisma, t.pii, { now, daysPastDue: 75, principal: 200_000n, collectorId: s.users.collector.id });
    const usd = await createCase(t.prisma, t.pii, { now, daysPastDue: 75, principal: 300_000n, currency: 'USD' });
    const ids = [early.id, late.id, usd.id];
    const created = await create({
      segments: [
        { key: 'late', name: 'Late', rule: { fact: 'daysPastDue', op: 'gte', value: 31 }, treatment: { priority: 'URGENT' } },
        { key: 'early', name: 'Early', rule: { fact: 'bucket', op: 'eq', value: 'M1' }, treatment: { priority: 'LOW' } },
      ],
    });
    const sim = await t.gql(adminToken, `query($id: ID!) { simulateStrategy(strategyId: $id) { cases segments { segmentKey arm cases changes balance { minorUnits currency } } } }`, { id: created.strategy.id });
    const rows = sim.data.simulateStrategy.segments;
    const lateRow = rows.find((r: any) => r.segmentKey === 'late');
    // Every open case of the test store is counted; these three at least.
    expect(lateRow.cases).toBeGreaterThanOrEqual(2);
    expect(lateRow.balance.find((m: any) => m.currency === 'USD').minorUnits).toBeGreaterThanOrEqual(300_000 + 12_345 + 5_000);
    expect(await t.prisma.caseStrategyAssignment.count()).toBe(0);

    // Nothing in force: the job assigns nothing.
    expect(await run(ids)).toMatchObject({ strategy: null, assigned: 0 });
    const sid = Buffer.from(created.strategy.id, 'base64').toString().split(':')[1]!;
    await activateStrategy(deps(), actor(s.users.admin), { strategyId: sid, reason: 'go' });
    const first = await run(ids);
    expect(first).toMatchObject({ assigned: 3, unchanged: 0, failed: 0 });
    const lateCase = await t.prisma.case.findUniqueOrThrow({ where: { id: late.id } });
    expect(lateCase.priority).toBe('URGENT');
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: early.id } })).priority).toBe('LOW');
    const ev = await t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: late.id, type: 'STRATEGY_SEGMENT_ASSIGNED' } });
    expect(ev.agencyId).toBeNull();
    expect(ev.summary).toContain('daysPastDue ≥ 31');
    expect(ev.data).toMatchObject({ segmentKey: 'late', arm: 'champion', matchedRule: 'daysPastDue ≥ 31' });
    expect(await run(ids)).toMatchObject({ assigned: 0, unchanged: 3 });

    // The clock moves: the early case reaches 31 days past due and changes segment; its old assignment ends.
    t.clock.set(new Date(now.getTime() + 30 * DAY_MS));
    try {
      expect(await run(ids)).toMatchObject({ assigned: 1, unchanged: 2 });
      const history = await t.prisma.caseStrategyAssignment.findMany({ where: { caseId: early.id }, orderBy: { assignedAt: 'asc' } });
      expect(history.map((h) => [h.segmentKey, h.endedAt !== null])).toEqual([['early', true], ['late', false]]);
    } finally {
      t.clock.set(now);
    }

    // The work queue honours the treatment's priority.
    const urgent = await createCase(t.prisma, t.pii, { now, daysPastDue: 10, collectorId: s.users.collector.id });
    const normal = await createCase(t.prisma, t.pii, { now, daysPastDue: 200, collectorId: s.users.collector.id });
    await t.prisma.case.update({ where: { id: urgent.id }, data: { priority: 'URGENT' } });
    const q = await t.gql(await t.token(s.users.collector), `{ viewer { workQueue(first: 50) { nodes { id priority } } } }`);
    const order = q.data.viewer.workQueue.nodes.map((n: any) => n.id);
    expect(order.indexOf(encodeGlobalID('Case', urgent.id))).toBeLessThan(order.indexOf(encodeGlobalID('Case', normal.id)));

    // Retired: the next run ends the assignments.
    await t.prisma.strategy.update({ where: { id: sid }, data: { status: 'RETIRED' } });
    expect(await run(ids)).toMatchObject({ unassigned: 3 });
    expect(await t.prisma.caseStrategyAssignment.count({ where: { caseId: { in: ids }, endedAt: null } })).toBe(0);
  });

  it('runs as the daily job under a lease, through the scheduler', async () => {
    await resetStrategies();
    const scheduler = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger, pii: t.pii }, [strategyAssignmentJob()], { owner: 'test' });
    const r = await scheduler.runOnce(STRATEGY_ASSIGNMENT_JOB);
    expect(r.status).toBe('SUCCEEDED');
    expect(strategyAssignmentJob().everyMs).toBe(86_400_000);
  });
});

describe('treatments take effect', () => {
  it('dunning sends only the treatment’s rules; a treatment without visits refuses planVisit', async () => {
    await resetStrategies();
    const now = t.clock.now();
    const quiet = await createCase(t.prisma, t.pii, { now, daysPastDue: 3, stage: 'FIELD_VISIT' });
    const loud = await createCase(t.prisma, t.pii, { now, daysPastDue: 3 });
    const quietScore = await t.prisma.cardAccount.findUniqueOrThrow({ where: { id: quiet.accountId } });
    await setRiskScores(deps(), null, { model: 'm', scoredOn: '2026-11-27', scores: [{ accountRef: quietScore.externalRef, score: 900 }] });
    const created = await create({
      segments: [
        { key: 'good', rule: { fact: 'riskScore', op: 'gte', value: 800 }, treatment: { dunningRules: [], visitEligible: false } },
        { key: 'rest', rule: { all: [] }, treatment: { dunningRules: ['overdue-notice-sms'] } },
      ],
    });
    await activateStrategy(deps(), actor(s.users.admin), { strategyId: Buffer.from(created.strategy.id, 'base64').toString().split(':')[1]!, reason: 'go' });
    await run([quiet.id, loud.id]);
    await createAutomaticReminders({ prisma: t.prisma, clock: t.clock, logger });
    const reminders = await t.prisma.reminder.findMany({ where: { caseId: { in: [quiet.id, loud.id] }, automatic: true } });
    const ruleNames = new Map((await t.prisma.dunningRule.findMany()).map((r) => [r.id, r.name]));
    expect(reminders.filter((r) => r.caseId === quiet.id)).toEqual([]);
    // Without the strategy the loud case would also get the weekly e-mail (if it had an address); it gets the named SMS rule only.
    expect(reminders.filter((r) => r.caseId === loud.id).map((r) => ruleNames.get(r.dunningRuleId!))).toEqual(['overdue-notice-sms']);

    const debtor = await t.prisma.debtor.findUniqueOrThrow({ where: { id: quiet.debtorId }, include: { addresses: true } });
    const err = await planVisit({ ...deps(), pii: t.pii } as never, actor(s.users.supervisor), { caseId: quiet.id, addressId: debtor.addresses[0]!.id, purpose: 'talk' }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.message).toMatch(/does not include home visits/);
  });

  it('places unplaced cases across a pool by weight and capacity; the placement window and expiry recall keep working', async () => {
    await resetStrategies();
    const now = t.clock.now();
    const third = await t.prisma.agency.create({ data: { code: `EAST-${Date.now()}`, name: 'East', licenseNumber: 'L', dataProcessingContractRef: 'D' } });
    const cases = [];
    for (let i = 0; i < 6; i++) cases.push(await createCase(t.prisma, t.pii, { now, daysPastDue: 100 + i, product: undefined } as never));
    const ids = cases.map((c) => c.id);
    const openAt = async (agencyId: string) => t.prisma.case.count({ where: { assignedAgencyId: agencyId, stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] } } });
    const eastBefore = await openAt(third.id);
    const created = await create({
      segments: [{ key: 'pool', rule: { fact: 'daysPastDue', op: 'gte', value: 100 }, treatment: { placementDays: 30, placement: { kind: 'POOL', agencies: [{ agencyId: third.id, weight: 1, capacity: eastBefore + 2 }] } } }],
    });
    await activateStrategy(deps(), actor(s.users.admin), { strategyId: Buffer.from(created.strategy.id, 'base64').toString().split(':')[1]!, reason: 'go' });
    const r = await run(ids);
    expect(r).toMatchObject({ assigned: 6, placed: 2, poolFull: 4 });
    expect(await openAt(third.id)).toBe(eastBefore + 2); // never beyond capacity
    const placement = await t.prisma.placement.findFirstOrThrow({ where: { agencyId: third.id, caseId: { in: ids } } });
    expect(placement.endsAt!.getTime() - placement.startsAt.getTime()).toBe(30 * DAY_MS);
    // Past the window the expiry job recalls; the next strategy run places the case again (capacity allowing).
    t.clock.set(new Date(now.getTime() + 31 * DAY_MS));
    try {
      const scheduler = new JobScheduler({ prisma: t.prisma, clock: t.clock, logger, pii: t.pii }, [placementExpiryJob()], { owner: 'test' });
      const expiry = await scheduler.runOnce('placement-expiry');
      expect(expiry.status).toBe('SUCCEEDED');
      expect(await openAt(third.id)).toBe(eastBefore);
      expect((await t.prisma.placement.findUniqueOrThrow({ where: { id: placement.id } })).recallReason).toBe('END_OF_PLACEMENT');
      expect(await run(ids)).toMatchObject({ placed: 2 });
    } finally {
      t.clock.set(now);
    }
  });
});

describe('champion-challenger', () => {
  it('splits stably, compares arms with intervals, and promotes a challenger (audited)', async () => {
    await resetStrategies();
    const now = t.clock.now();
    const cases = [];
    for (let i = 0; i < 40; i++) cases.push(await createCase(t.prisma, t.pii, { now, daysPastDue: 300 + i, collectorId: s.users.collector2.id }));
    const ids = cases.map((c) => c.id);
    const created = await create({
      segments: [{ key: 'test', rule: { fact: 'daysPastDue', op: 'gte', value: 300 }, treatment: { priority: 'NORMAL' }, challengers: [{ key: 'calls', share: 50, treatment: { priority: 'HIGH' } }] }],
    });
    const sid = Buffer.from(created.strategy.id, 'base64').toString().split(':')[1]!;
    await activateStrategy(deps(), actor(s.users.admin), { strategyId: sid, reason: 'go' });
    await run(ids);
    const arms = await t.prisma.caseStrategyAssignment.findMany({ where: { caseId: { in: ids }, endedAt: null } });
    const byArm = (arm: string) => arms.filter((a) => a.arm === arm);
    expect(byArm('calls').length + byArm('champion').length).toBe(40);
    expect(byArm('calls').length).toBeGreaterThan(8);
    expect(byArm('champion').length).toBeGreaterThan(8);
    for (const a of arms) expect(a.splitPoint! < 0.5).toBe(a.arm === 'calls');
    const priorities = await t.prisma.case.findMany({ where: { id: { in: byArm('calls').map((a) => a.caseId) } }, select: { priority: true } });
    expect(new Set(priorities.map((p) => p.priority))).toEqual(new Set(['HIGH']));

    // Money: two champion cases pay, one of them in full (cured).
    const champ = byArm('champion').map((a) => a.caseId);
    const full = await t.prisma.case.findUniqueOrThrow({ where: { id: champ[0]! } });
    const payer = actor(s.users.supervisor);
    await recordPayment({ ...deps() } as never, payer, { caseId: full.id, amount: Number(full.overdueTotal), currency: 'CNY', receivedAt: now, channel: 'BANK_TRANSFER', idempotencyKey: `exp-${full.id}` });
    await recordPayment({ ...deps() } as never, payer, { caseId: champ[1]!, amount: 1000, currency: 'CNY', receivedAt: now, channel: 'BANK_TRANSFER', idempotencyKey: `exp-${champ[1]}` });

    const EXP = `query($id: ID!, $from: DateTime!, $to: DateTime!) { strategyExperiment(strategyId: $id, segmentKey: "test", from: $from, to: $to) {
      arms { arm share cases cureRate { estimate low high n } collectedPerCase { estimate { minorUnits } low { minorUnits } high { minorUnits } n } promiseKeptRate { n } complaintRate { estimate } contactCostPerCase { estimate n } } } }`;
    const from = new Date(now.getTime() - DAY_MS).toISOString();
    const to = new Date(now.getTime() + DAY_MS).toISOString();
    const exp = await t.gql(adminToken, EXP, { id: created.strategy.id, from, to });
    expect(exp.errors).toBeUndefined();
    const [c, ch] = exp.data.strategyExperiment.arms;
    expect([c.arm, c.share, ch.arm, ch.share]).toEqual(['champion', 50, 'calls', 50]);
    expect(c.cases).toBe(byArm('champion').length);
    expect(c.cureRate.estimate).toBeCloseTo(1 / c.cases);
    expect(c.cureRate.low).toBeGreaterThanOrEqual(0);
    expect(ch.cureRate.estimate).toBe(0);
    const collected = Number(full.overdueTotal) + 1000;
    expect(c.collectedPerCase[0].estimate.minorUnits).toBe(Math.round(collected / c.cases));
    expect(c.collectedPerCase[0].low.minorUnits).toBeLessThan(c.collectedPerCase[0].estimate.minorUnits);
    expect(ch.collectedPerCase[0].estimate.minorUnits).toBe(0);
    expect(c.complaintRate.estimate).toBe(0);
    const badPeriod = await t.gql(adminToken, EXP, { id: created.strategy.id, from: to, to: from });
    expect(badPeriod.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // Promote: a new version in force with the challenger's treatment as the champion's; the old one retired.
    const PROMOTE = `mutation($input: PromoteChallengerInput!) { promoteChallenger(input: $input) { strategy { version status segments { treatment { priority } challengers { key } } } userErrors { code field } } }`;
    const bad = await t.gql(adminToken, PROMOTE, { input: { strategyId: created.strategy.id, segmentKey: 'test', arm: 'champion', reason: 'x' } });
    expect(bad.data.promoteChallenger.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['arm'] });
    const p = await t.gql(adminToken, PROMOTE, { input: { strategyId: created.strategy.id, segmentKey: 'test', arm: 'calls', reason: 'calls win' } });
    expect(p.data.promoteChallenger).toEqual({ strategy: { version: 2, status: 'ACTIVE', segments: [{ treatment: { priority: 'HIGH' }, challengers: [] }] }, userErrors: [] });
    expect((await t.prisma.strategy.findUniqueOrThrow({ where: { id: sid } })).status).toBe('RETIRED');
    expect(await t.prisma.auditEvent.count({ where: { action: 'strategy.promoteChallenger', reason: 'calls win' } })).toBe(1);
    // The next run moves the champion's open cases to the promoted treatment; the calls cases keep HIGH.
    await run(ids);
    const open = await t.prisma.case.findMany({ where: { id: { in: ids }, stage: { not: 'RESOLVED' } }, select: { priority: true } });
    expect(new Set(open.map((o) => o.priority))).toEqual(new Set(['HIGH']));
  });
});
