// The demo data set gives every report non-trivial figures (issue 14, "Done when"): what a
// newcomer sees after `npm run seed:demo` when trying the README's worked example.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock, dateOnly, DAY_MS } from '../../src/lib/time.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { viewerOf, type Viewer } from '../../src/auth/viewer.ts';
import { periodOf } from '../../src/modules/analytics/scope.ts';
import { portfolio } from '../../src/modules/analytics/portfolio.ts';
import { collections } from '../../src/modules/analytics/collections.ts';
import { collectorProductivity, contactCompliance, promiseStats } from '../../src/modules/analytics/activity.ts';
import { rollRates } from '../../src/modules/analytics/roll-rates.ts';
import { agencyScorecards } from '../../src/modules/analytics/scorecards.ts';
import type { AnalyticsDeps } from '../../src/modules/analytics/deps.ts';
import { createTestStore } from '../support/store.ts';

let store: Store;
let dir: string;
let deps: AnalyticsDeps;
let admin: Viewer;
let north: Viewer;
const clock = new FixedClock('2026-11-28T02:00:00.000Z');
beforeAll(async () => {
  store = await createTestStore();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-demo-analytics-'));
  const pii = new Pii(Pii.randomKeys());
  await seedDemo(store.prisma, { pii, clock, blobs: new FolderBlobStore(dir) });
  deps = { prisma: store.prisma, clock, search: { prisma: store.prisma, blindIndex: (id) => pii.blindIndex(id) } };
  admin = viewerOf(await store.prisma.user.findUniqueOrThrow({ where: { email: 'admin@bank.example' } }));
  north = viewerOf(await store.prisma.user.findUniqueOrThrow({ where: { email: 'manager@north.example' } }));
}, 120_000);
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the demo data set, reported', () => {
  it('gives every report figures, for the bank and for an agency', async () => {
    const now = clock.now();
    const quarter = periodOf({ from: new Date(now.getTime() - 89 * DAY_MS), to: now }, now);
    for (const v of [admin, north]) {
      const p = await portfolio(deps, v, { groupBy: ['BUCKET', 'AGENCY'], period: quarter });
      expect(p.groups.length).toBeGreaterThan(2);
      expect(p.groups.some((g) => g.collected > 0n)).toBe(true);
      expect(p.groups.some((g) => g.promisedOpen > 0n)).toBe(true);
      expect((await collections(deps, v, { period: quarter, interval: 'WEEK', groupBy: [] })).points.length).toBeGreaterThan(1);
      const ps = await promiseStats(deps, v, { period: quarter, groupBy: [] });
      expect(ps.rows.reduce((n, r) => n + r.kept + r.broken + r.partial, 0)).toBeGreaterThan(0);
      const cp = await collectorProductivity(deps, v, { period: quarter, interval: 'MONTH' });
      expect(cp.rows.some((r) => r.attempts > 0)).toBe(true);
      const cc = await contactCompliance(deps, v, { period: quarter, groupBy: ['RULE'] });
      expect(cc.rows.reduce((n, r) => n + r.attempts, 0)).toBeGreaterThan(0);
      const rr = await rollRates(deps, v, { from: dateOnly(new Date(now.getTime() - 120 * DAY_MS)), to: dateOnly(now) });
      expect(rr.cells.length).toBeGreaterThan(1);
      const sc = await agencyScorecards(deps, v, { period: quarter });
      expect(sc.scorecards.length).toBe(v === admin ? 2 : 1);
      expect(sc.scorecards[0]!.placed.length).toBeGreaterThan(0);
    }
  }, 120_000);
});
