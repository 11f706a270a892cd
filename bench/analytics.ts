/**
 * The analytics benchmark (issue 14): each report's latency, as the service runs it (the SQL and
 * the mapping; no HTTP), for the viewers who would ask, against a book made by `npm run bench:data`.
 *
 *   npx tsx bench/analytics.ts --database-url postgres://postgres@127.0.0.1:5432/arrears_an_10k --label 10k
 *   npx tsx bench/analytics.ts --embedded ./bench-data --label 100k-embedded
 *   options: --runs N (timed runs of each query from the rollup, default 15, after one warm-up),
 *            --live-runs N (the same read live from the tables; default --runs; 0: not read live),
 *            --spread-days N (copy the rollup's day rows over N days back: the size a year of
 *            daily work gives it, which bench:data's few dates do not)
 *
 * bench:data writes no bucket history (the hourly job does, in production): when the book has
 * none, this back-fills twelve month-ends of it in one SQL statement, as the job would have
 * recorded them, so that rollRates has something to read. Then it builds the analytics rollup (the
 * analytics-rollup job's work, timed) and measures the portfolio and roll rates again as they
 * answer from it. Results: bench/results/analytics-<label>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore, openPostgresStore, type Store } from '../src/db/store.ts';
import { FixedClock, dateOnly } from '../src/lib/time.ts';
import { viewerOf, type Viewer } from '../src/auth/viewer.ts';
import { periodOf } from '../src/modules/analytics/scope.ts';
import type { AnalyticsDeps } from '../src/modules/analytics/deps.ts';
import { buildRollup, portfolioReport, rollRatesReport } from '../src/modules/analytics/rollup.ts';
import { agencyScorecardsReport, collectionsReport, collectorProductivityReport, contactComplianceReport, promiseStatsReport } from '../src/modules/analytics/rollup-activity.ts';
import { BENCH_NOW } from './data.ts';
import { applyMigrations } from '../src/db/migrations.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const url = arg('database-url');
const embedded = arg('embedded');
if (!url && !embedded) throw new Error('--database-url <postgres://…> or --embedded <folder>: a book made by npm run bench:data');
const label = arg('label') ?? (embedded ? path.basename(embedded) : new URL(url!).pathname.slice(1));
const RUNS = Number(arg('runs') ?? 15);
/** Spread the rollup's day rows over this many days (a synthetic year of daily work; 1: as built). */
const SPREAD_DAYS = Number(arg('spread-days') ?? 1);
/** Timed runs of each report read live (from the tables); 0 measures the rollup alone. */
const LIVE_RUNS = Number(arg('live-runs') ?? RUNS);

async function backfillHistory(store: Store): Promise<number> {
  if ((await store.prisma.bucketHistory.count({ take: 1 })) > 0) return 0;
  return store.prisma.$executeRaw`
    INSERT INTO "BucketHistory" (id, "caseId", bucket, "enteredAt")
    SELECT gen_random_uuid(), c.id,
      (CASE WHEN d <= 30 THEN 'M1' WHEN d <= 60 THEN 'M2' WHEN d <= 90 THEN 'M3' WHEN d <= 120 THEN 'M4' WHEN d <= 150 THEN 'M5' WHEN d <= 180 THEN 'M6' ELSE 'M6_PLUS' END)::"Bucket",
      t
    FROM "Case" c
    CROSS JOIN LATERAL generate_series(${BENCH_NOW}::timestamptz - interval '12 months', ${BENCH_NOW}::timestamptz, interval '1 month') AS t
    CROSS JOIN LATERAL (SELECT ((t AT TIME ZONE 'Asia/Shanghai')::date - c."dueDate") AS d) x
    WHERE c."dueDate" < (t AT TIME ZONE 'Asia/Shanghai')::date`;
}

async function main() {
  const store: Store = embedded ? await openEmbeddedStore(embedded, { purpose: 'bench:analytics' }) : await openPostgresStore(url!, { poolSize: 4 });
  try {
    await applyMigrations(store.sql); // a book made by an older version gets the tables it lacks
    const filled = await backfillHistory(store);
    if (filled) {
      console.log(`back-filled ${filled} bucket history rows; ANALYZE`);
      await store.prisma.$executeRawUnsafe('ANALYZE');
    }
    const clock = new FixedClock(BENCH_NOW);
    const deps: AnalyticsDeps = { prisma: store.prisma, clock, search: { prisma: store.prisma, blindIndex: () => 'none' } };
    const cases = await store.prisma.case.count();
    const user = async (email: string) => viewerOf(await store.prisma.user.findUniqueOrThrow({ where: { email } }));
    const viewers: Record<string, Viewer> = {
      admin: await user('admin@bank.example'),
      'agency manager': await user('manager@north.example'),
      'bank collector': await user('collector1@bank.example'),
    };
    const now = clock.now();
    const month = periodOf(null, now);
    const quarter = periodOf({ from: new Date(now.getTime() - 89 * 86_400_000), to: now }, now);
    const t0 = performance.now();
    const rollup = await buildRollup(store.prisma, now);
    const rollupMs = Math.round(performance.now() - t0);
    console.log(`analytics rollup built in ${rollupMs} ms (${rollup.cases} cases): ${rollup.portfolioRows} portfolio rows, ${rollup.paymentRows} payment-day rows, ${rollup.rollRateRows} roll-rate rows, ${rollup.activityRows} activity rows`);
    if (SPREAD_DAYS > 1) {
      // bench:data dates each kind of record at a few fixed offsets: spread the rollup's day rows
      // over SPREAD_DAYS days back, as a year of daily work would leave them (the rows a report
      // reads, not the records: figures change, the work of reading them is what is measured).
      const copies = SPREAD_DAYS - 1;
      const a = await store.prisma.$executeRaw`
        INSERT INTO "ActivityRollup" ("runId", kind, day, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", "placedCollectorId", "placedAgencyId",
          channel, rule, jurisdiction, status, label, connected, violation, currency, n, amount, amount2, days)
        SELECT "runId", kind, day - k, "assignedAgencyId", "assignedCollectorId", "agencyId", "whoId", "placedCollectorId", "placedAgencyId",
          channel, rule, jurisdiction, status, label, connected, violation, currency, n, amount, amount2, days
        FROM "ActivityRollup" CROSS JOIN generate_series(1, ${copies}) k`;
      const p = await store.prisma.$executeRaw`
        INSERT INTO "PaymentRollup" ("runId", day, bucket, stage, status, "assignedAgencyId", "assignedCollectorId", jurisdiction, product, "placementMonth", currency, amount, "amountOwnEra")
        SELECT "runId", day - k, bucket, stage, status, "assignedAgencyId", "assignedCollectorId", jurisdiction, product, "placementMonth", currency, amount, "amountOwnEra"
        FROM "PaymentRollup" CROSS JOIN generate_series(1, ${copies}) k`;
      await store.prisma.$executeRawUnsafe('ANALYZE "ActivityRollup"');
      await store.prisma.$executeRawUnsafe('ANALYZE "PaymentRollup"');
      console.log(`spread over ${SPREAD_DAYS} days: ${rollup.activityRows + a} activity rows, ${rollup.paymentRows + p} payment-day rows`);
    }
    const all = ['BUCKET', 'STAGE', 'STATUS', 'AGENCY', 'COLLECTOR', 'JURISDICTION', 'PRODUCT', 'PLACEMENT_MONTH'] as const;
    const months = (days: number) => ({ from: dateOnly(new Date(now.getTime() - days * 86_400_000)), to: dateOnly(now) });
    // Each report as the API answers it: from the rollup (live: false), and from the tables (live: true).
    const queries: [string, (v: Viewer, live: boolean) => Promise<{ source: string }>][] = [
      ['portfolio by bucket × agency', (v, live) => portfolioReport(deps, v, { groupBy: ['BUCKET', 'AGENCY'], period: month, live })],
      ['portfolio by every dimension', (v, live) => portfolioReport(deps, v, { groupBy: all, period: month, live })],
      ['portfolio totals, bucket M3 filter', (v, live) => portfolioReport(deps, v, { groupBy: [], filter: { bucket: ['M3'] }, period: month, live })],
      ['collections, 90 days by day × agency', (v, live) => collectionsReport(deps, v, { period: quarter, interval: 'DAY', groupBy: ['AGENCY'], live })],
      ['collections, 90 days by week × collector', (v, live) => collectionsReport(deps, v, { period: quarter, interval: 'WEEK', groupBy: ['COLLECTOR'], live })],
      ['promiseStats, 90 days by agency × collector', (v, live) => promiseStatsReport(deps, v, { period: quarter, groupBy: ['AGENCY', 'COLLECTOR'], live })],
      // By week: 90 days × 70 collectors by day is more rows than a report holds (MAX_GROUPS) once activity is spread over every day.
      ['collectorProductivity, 90 days by week', (v, live) => collectorProductivityReport(deps, v, { period: quarter, interval: 'WEEK', live })],
      ['contactCompliance, 90 days by rule × jurisdiction', (v, live) => contactComplianceReport(deps, v, { period: quarter, groupBy: ['RULE', 'JURISDICTION'], live })],
      ['rollRates, 3 months', (v, live) => rollRatesReport(deps, v, { ...months(75), live })],
      ['rollRates, 12 months', (v, live) => rollRatesReport(deps, v, { ...months(334), live })],
      ['agencyScorecards, 90 days', (v, live) => agencyScorecardsReport(deps, v, { period: quarter, live })],
    ];
    const time = async (runs: number, run: () => Promise<{ source: string }>, source: string) => {
      if ((await run()).source !== source) throw new Error(`expected an answer from ${source}`);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return { p50: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10, max: Math.round(times[times.length - 1]! * 10) / 10 };
    };
    const results: { query: string; viewer: string; rollup: { p50: number; max: number }; live: { p50: number; max: number } | null }[] = [];
    console.log(`${cases} cases (${label}); ${RUNS} runs from the rollup, ${LIVE_RUNS} live, after a warm-up; milliseconds\n`);
    console.log(`${'query'.padEnd(52)} ${'viewer'.padEnd(15)} ${'rollup p50'.padStart(11)} ${'max'.padStart(8)} ${'live p50'.padStart(10)} ${'max'.padStart(8)}`);
    for (const [name, run] of queries) {
      for (const [who, v] of Object.entries(viewers)) {
        const fromRollup = await time(RUNS, () => run(v, false), 'ROLLUP');
        const live = LIVE_RUNS > 0 ? await time(LIVE_RUNS, () => run(v, true), 'LIVE') : null;
        results.push({ query: name, viewer: who, rollup: fromRollup, live });
        const f = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));
        console.log(`${name.padEnd(52)} ${who.padEnd(15)} ${f(fromRollup.p50).padStart(11)} ${f(fromRollup.max).padStart(8)} ${f(live?.p50).padStart(10)} ${f(live?.max).padStart(8)}`);
      }
    }
    const out = path.join(root, 'bench', 'results', `analytics-${label}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ label, cases, runs: RUNS, at: new Date().toISOString(), rollup: { ms: rollupMs, portfolioRows: rollup.portfolioRows, paymentRows: rollup.paymentRows, rollRateRows: rollup.rollRateRows, activityRows: rollup.activityRows }, liveRuns: LIVE_RUNS, spreadDays: SPREAD_DAYS, results }, null, 2) + '\n');
    console.log(`\n${out}`);
  } finally {
    await store.close();
  }
}

await main();
