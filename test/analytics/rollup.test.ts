// The analytics rollup (the analytics-rollup job): when the reports answer from it and when they
// read the tables, the generation it replaces, and what the answer says about itself (source, asOf).
// That its figures are exact for every viewer is the property test's (property.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { findJob } from '../../src/jobs/index.ts';
import { ROLLUP_MAX_AGE_MS } from '../../src/modules/analytics/rollup.ts';

let t: TestApp;
let s: Scenario;
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  await createCase(t.prisma, t.pii, { now, daysPastDue: 10, principal: 100_00n, agencyId: s.north.id, collectorId: s.users.northAgent.id });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 45, principal: 300_00n, agencyId: s.south.id });
});
afterAll(async () => t?.close());

const P = `query($live: Boolean, $f: CaseFilter) { portfolio(groupBy: [AGENCY], filter: $f, live: $live) { source asOf groups { agency { code } caseCount principal { minorUnits } } } }`;
const R = `query($live: Boolean, $from: Date!, $to: Date! = "2026-11-30") { rollRates(from: $from, to: $to, live: $live) { source asOf fromMonth } }`;
const runJob = () => findJob('analytics-rollup')!.run({ prisma: t.prisma, clock: t.clock, signal: new AbortController().signal } as never);

describe('analytics rollup', () => {
  it('reports read the tables until a rollup exists, then the rollup, with its asOf', async () => {
    const admin = await t.token(s.users.admin);
    const before = await t.gql(admin, P, {});
    expect(before.errors).toBeUndefined();
    expect(before.data.portfolio.source).toBe('LIVE');

    const madeAt = t.clock.now();
    const result = (await runJob()) as Record<string, unknown>;
    expect(result).toMatchObject({ cases: 2, asOf: madeAt.toISOString() });

    // A case opened after the rollup is not in it: the answer is the book as at asOf.
    t.clock.advance(60 * 60_000);
    await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 12, principal: 7_00n, agencyId: s.north.id });
    const rolled = await t.gql(admin, P, {});
    expect(rolled.data.portfolio).toMatchObject({ source: 'ROLLUP', asOf: madeAt.toISOString() });
    expect(rolled.data.portfolio.groups.map((g: any) => [g.agency.code, g.caseCount])).toEqual([['NORTH', 1], ['SOUTH', 1]]);
    const rr = await t.gql(admin, R, { from: '2026-10-01' });
    expect(rr.data.rollRates).toMatchObject({ source: 'ROLLUP', asOf: madeAt.toISOString(), fromMonth: '2026-10' });

    // live: the tables now.
    const live = await t.gql(admin, P, { live: true });
    expect(live.data.portfolio.source).toBe('LIVE');
    expect(live.data.portfolio.groups.map((g: any) => [g.agency.code, g.caseCount])).toEqual([['NORTH', 2], ['SOUTH', 1]]);

    // A filter the rollup cannot answer (days past due, search) reads the tables.
    for (const f of [{ minDaysPastDue: 11 }, { search: 'World' }]) {
      const r = await t.gql(admin, P, { f });
      expect(r.errors, JSON.stringify(f)).toBeUndefined();
      expect(r.data.portfolio.source, JSON.stringify(f)).toBe('LIVE');
    }
    // One it can: stage, status, bucket, agency, collector.
    const filtered = await t.gql(admin, P, { f: { bucket: ['M2'], stage: ['EARLY_REMINDER'] } });
    expect(filtered.data.portfolio.source).toBe('ROLLUP');
    expect(filtered.data.portfolio.groups.map((g: any) => [g.agency.code, g.caseCount])).toEqual([['SOUTH', 1]]);
    // Months before the rollup's 24: the tables.
    expect((await t.gql(admin, R, { from: '2024-11-01', to: '2025-06-30' })).data.rollRates.source).toBe('LIVE');
  });

  it('a new run replaces the previous generation; a rollup too old is not read', async () => {
    await runJob();
    await runJob();
    expect(await t.prisma.rollupRun.count()).toBe(1);
    const [run] = await t.prisma.rollupRun.findMany();
    const rows = await t.prisma.portfolioRollup.groupBy({ by: ['runId'], _count: true });
    expect(rows.map((r) => r.runId)).toEqual([run!.id]);
    expect(await t.prisma.paymentRollup.count({ where: { runId: { not: run!.id } } })).toBe(0);
    expect(await t.prisma.rollRateRollup.count({ where: { runId: { not: run!.id } } })).toBe(0);

    t.clock.advance(ROLLUP_MAX_AGE_MS - 1000);
    expect((await t.gql(await t.token(s.users.admin), P, {})).data.portfolio.source).toBe('ROLLUP');
    t.clock.advance(2000);
    const stale = await t.gql(await t.token(s.users.admin), P, {});
    expect(stale.data.portfolio.source).toBe('LIVE');
    expect(stale.data.portfolio.asOf).toBe(t.clock.now().toISOString());
  });

  it('an agency reads its own cases from the rollup, never another agency’s', async () => {
    await runJob();
    const north = await t.gql(await t.token(s.users.northManager), P, {});
    expect(north.data.portfolio.source).toBe('ROLLUP');
    expect(north.data.portfolio.groups.map((g: any) => g.agency.code)).toEqual(['NORTH']);
    // Asking for South's cases by filter gives nothing, as the live report does.
    const foreign = await t.gql(await t.token(s.users.northManager), P, { f: { agencyId: encodeGlobalID('Agency', s.south.id) } });
    expect(foreign.errors).toBeUndefined();
    expect(foreign.data.portfolio.groups).toEqual([]);
  });
});
