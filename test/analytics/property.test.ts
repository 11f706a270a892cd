// Issue 14, item 8: on random books (both stores: TEST_DATABASE_URL runs it on PostgreSQL), every
// figure of every report, for every kind of viewer, equals the figure recomputed from the raw rows
// (test/analytics/reference.ts), exactly. Deterministic: a fixed seed and a bounded number of runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { viewerOf, type Viewer } from '../../src/auth/viewer.ts';
import { dateOnly, DAY_MS } from '../../src/lib/time.ts';
import { periodOf } from '../../src/modules/analytics/scope.ts';
import { portfolio, PORTFOLIO_DIMENSIONS } from '../../src/modules/analytics/portfolio.ts';
import { collections } from '../../src/modules/analytics/collections.ts';
import { collectorProductivity, contactCompliance, promiseStats } from '../../src/modules/analytics/activity.ts';
import { monthsBetween, rollRates } from '../../src/modules/analytics/roll-rates.ts';
import { agencyScorecards } from '../../src/modules/analytics/scorecards.ts';
import { buildRollup, portfolioReport, rollRatesReport } from '../../src/modules/analytics/rollup.ts';
import { agencyScorecardsReport, collectionsReport, collectorProductivityReport, contactComplianceReport, promiseStatsReport } from '../../src/modules/analytics/rollup-activity.ts';
import type { AnalyticsDeps } from '../../src/modules/analytics/deps.ts';
import { bookArb, writeBook } from './world.ts';
import * as ref from './reference.ts';

let t: TestApp;
let s: Scenario;
let deps: AnalyticsDeps;
let viewers: Viewer[];
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  deps = { prisma: t.prisma, clock: t.clock, search: { prisma: t.prisma, blindIndex: (id) => t.pii.blindIndex(id) } };
  const users = await t.prisma.user.findMany();
  const pick = (id: string) => viewerOf(users.find((u) => u.id === id)!);
  viewers = [s.users.admin, s.users.northManager, s.users.northAgent, s.users.southManager, s.users.collector].map((u) => pick(u.id));
});
afterAll(async () => t?.close());

/** Order-free, exact comparison: bigint as text, floats to 1e-6. */
const canon = (rows: unknown[]) =>
  rows
    .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e6) / 1e6 : v)))
    .sort();

describe('analytics against the raw rows', () => {
  it('agrees with the reference on random books, for every kind of viewer', async () => {
    const now = t.clock.now();
    await fc.assert(
      fc.asyncProperty(bookArb, fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 120 }), async (book, a, b) => {
        await writeBook(t.prisma, t.pii, s, now, book);
        const rows = await ref.loadRows(t.prisma);
        const period = periodOf({ from: new Date(now.getTime() - Math.max(a, b) * DAY_MS), to: new Date(now.getTime() - Math.min(a, b) * DAY_MS) }, now);
        for (const v of viewers) {
          const who = `${v.email}`;
          const p = await portfolio(deps, v, { groupBy: PORTFOLIO_DIMENSIONS, period });
          expect(canon(p.groups), `portfolio ${who}`).toEqual(canon(ref.portfolioRef(rows, v, now, period)));

          const c = await collections(deps, v, { period, interval: 'MONTH', groupBy: ['AGENCY', 'COLLECTOR', 'CHANNEL'] });
          expect(canon(c.points), `collections ${who}`).toEqual(canon(ref.collectionsRef(rows, v, period)));

          const ps = await promiseStats(deps, v, { period, groupBy: ['AGENCY', 'COLLECTOR', 'DAY'] });
          expect(canon(ps.rows), `promiseStats ${who}`).toEqual(canon(ref.promiseStatsRef(rows, v, period)));

          const cp = await collectorProductivity(deps, v, { period, interval: 'DAY' });
          expect(canon(cp.rows), `collectorProductivity ${who}`).toEqual(canon(ref.productivityRef(rows, v, period)));

          const cc = await contactCompliance(deps, v, { period, groupBy: ['RULE', 'JURISDICTION', 'AGENCY', 'CHANNEL', 'DAY'] });
          expect(canon(cc.rows), `contactCompliance ${who}`).toEqual(canon(ref.complianceRef(rows, v, period)));

          const from = dateOnly(new Date(now.getTime() - 150 * DAY_MS));
          const rr = await rollRates(deps, v, { from, to: dateOnly(now) });
          expect(canon(rr.cells), `rollRates ${who}`).toEqual(canon(ref.rollRatesRef(rows, v, now, monthsBetween(from, dateOnly(now)))));

          const sc = await agencyScorecards(deps, v, { period });
          expect(canon(sc.scorecards), `agencyScorecards ${who}`).toEqual(canon(ref.scorecardsRef(rows, v, period)));
        }
        // The rollup made now answers the same, for every viewer (and says it is the rollup's).
        await buildRollup(t.prisma, now);
        for (const v of viewers) {
          const who = `${v.email} (rollup)`;
          const p = await portfolioReport(deps, v, { groupBy: PORTFOLIO_DIMENSIONS, period });
          expect(p.source, who).toBe('ROLLUP');
          expect(canon(p.groups), `portfolio ${who}`).toEqual(canon(ref.portfolioRef(rows, v, now, period)));
          const from = dateOnly(new Date(now.getTime() - 150 * DAY_MS));
          const rr = await rollRatesReport(deps, v, { from, to: dateOnly(now) });
          expect(rr.source, who).toBe('ROLLUP');
          expect(canon(rr.cells), `rollRates ${who}`).toEqual(canon(ref.rollRatesRef(rows, v, now, monthsBetween(from, dateOnly(now)))));

          const c = await collectionsReport(deps, v, { period, interval: 'MONTH', groupBy: ['AGENCY', 'COLLECTOR', 'CHANNEL'] });
          expect(c.source, who).toBe('ROLLUP');
          expect(canon(c.points), `collections ${who}`).toEqual(canon(ref.collectionsRef(rows, v, period)));
          const ps = await promiseStatsReport(deps, v, { period, groupBy: ['AGENCY', 'COLLECTOR', 'DAY'] });
          expect(canon(ps.rows), `promiseStats ${who}`).toEqual(canon(ref.promiseStatsRef(rows, v, period)));
          const cp = await collectorProductivityReport(deps, v, { period, interval: 'DAY' });
          expect(canon(cp.rows), `collectorProductivity ${who}`).toEqual(canon(ref.productivityRef(rows, v, period)));
          const cc = await contactComplianceReport(deps, v, { period, groupBy: ['RULE', 'JURISDICTION', 'AGENCY', 'CHANNEL', 'DAY'] });
          expect(canon(cc.rows), `contactCompliance ${who}`).toEqual(canon(ref.complianceRef(rows, v, period)));
          const sc = await agencyScorecardsReport(deps, v, { period });
          expect(sc.source, who).toBe('ROLLUP');
          expect(canon(sc.scorecards), `agencyScorecards ${who}`).toEqual(canon(ref.scorecardsRef(rows, v, period)));
        }
        // Totals (no grouping) add up to the grouped figures.
        const admin = viewers[0]!;
        const totals = await portfolio(deps, admin, { groupBy: [], period });
        const grouped = await portfolio(deps, admin, { groupBy: ['BUCKET', 'AGENCY'], period });
        for (const tot of totals.groups) {
          const parts = grouped.groups.filter((g) => g.currency === tot.currency);
          expect(parts.reduce((x, g) => x + g.overdue, 0n)).toBe(tot.overdue);
          expect(parts.reduce((x, g) => x + g.caseCount, 0)).toBe(tot.caseCount);
        }
      }),
      { seed: 20_261_206, numRuns: Number(process.env.ANALYTICS_RUNS ?? 12), endOnFailure: true },
    );
  }, 240_000);
});
