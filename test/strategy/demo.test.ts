import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../src/db/store.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { seedDemoStrategy, DEMO_STRATEGY_NAME } from '../../src/seed/strategy.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { strategyExperiment } from '../../src/modules/strategy/experiment.ts';
import { createTestStore } from '../support/store.ts';

describe('the demo strategy', () => {
  const clock = new FixedClock('2026-11-28T02:00:00Z');
  const pii = new Pii(Pii.randomKeys());
  let store: Store;
  beforeAll(async () => {
    store = await createTestStore();
    await seedDemo(store.prisma, { pii, clock, blobs: new FolderBlobStore(fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-strategy-demo-'))) });
  });
  afterAll(async () => store?.close());

  it('has scores, a strategy in force with a running experiment, every open case assigned; a second seed writes nothing', async () => {
    const first = await seedDemoStrategy(store.prisma, { pii, clock });
    const p = store.prisma;
    expect(first.seeded).toBe(true);
    expect(await p.riskScore.count()).toBe(await p.cardAccount.count());
    const strategy = await p.strategy.findFirstOrThrow({ where: { name: DEMO_STRATEGY_NAME } });
    expect(strategy.status).toBe('ACTIVE');
    const open = await p.case.count({ where: { stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] }, status: { notIn: ['PAID', 'WRITTEN_OFF'] } } });
    expect(await p.caseStrategyAssignment.count({ where: { endedAt: null } })).toBe(open);
    const arms = await p.caseStrategyAssignment.groupBy({ by: ['segmentKey', 'arm'], _count: true, where: { endedAt: null } });
    expect(arms.find((a) => a.segmentKey === 'early' && a.arm === 'sms-only')?._count).toBeGreaterThan(0);
    expect(arms.find((a) => a.segmentKey === 'early' && a.arm === 'champion')?._count).toBeGreaterThan(0);
    const exp = await strategyExperiment(p, { strategyId: strategy.id, segmentKey: 'early', from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') });
    expect(exp.arms.map((a) => a.arm)).toEqual(['champion', 'sms-only']);
    expect(exp.arms.reduce((n, a) => n + a.cases, 0)).toBeGreaterThan(0);
    expect(await seedDemoStrategy(store.prisma, { pii, clock })).toEqual({ seeded: false, scores: 0, assigned: 0 });
  });
});
