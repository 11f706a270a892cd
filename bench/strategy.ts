// npx tsx bench/strategy.ts [--cases N]
// The strategy engine's pure parts and one assignment run:
//  - the rule evaluator on a 200-node rule (the largest parseRule accepts) and on the demo's rules;
//  - the keyed split (HMAC-SHA256) per case;
//  - runStrategyAssignment over N cases (default 2,000) on an in-memory PGlite: the first run
//    (every case assigned: one transaction per case) and a re-run (nothing changes).
import { performance } from 'node:perf_hooks';
import { evaluateRule, parseRule, type Rule } from '../src/modules/strategy/rules.ts';
import { parseStrategyDefinition, chooseSegment } from '../src/modules/strategy/definition.ts';
import { splitPoint } from '../src/modules/strategy/split.ts';
import { DEMO_STRATEGY_DEFINITION } from '../src/seed/strategy.ts';
import { createTestStore } from '../test/support/store.ts';
import { createCase, createPeople } from '../test/support/scenario.ts';
import { Pii } from '../src/lib/pii.ts';
import { FixedClock } from '../src/lib/time.ts';
import { viewerOf } from '../src/auth/viewer.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../src/modules/contact/templates.ts';
import { activateStrategy, createStrategy, runStrategyAssignment } from '../src/modules/strategy/service.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('cases', 2000);

const facts = { bucket: 'M3', daysPastDue: 75, overdueMinorUnits: 1_234_500, currency: 'CNY', product: 'Platinum', jurisdiction: 'CN', riskScore: 512, promisesKept: 1, promisesBroken: 2, daysSinceRightPartyContact: 9, complaints: 0, placementCount: 1 };
function time(label: string, n: number, fn: (i: number) => void) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ms = performance.now() - t0;
  console.log(`${label.padEnd(48)} ${(n / (ms / 1000)).toFixed(0).padStart(10)} /s   ${((ms * 1000) / n).toFixed(2)} µs each`);
}

const wide = parseRule({ all: Array.from({ length: 199 }, (_x, i) => ({ fact: 'daysPastDue', op: 'gte', value: i % 50 })) }) as Rule;
time('evaluate a 200-node rule (read whole)', 200_000, () => evaluateRule(wide, facts));
const def = parseStrategyDefinition(DEMO_STRATEGY_DEFINITION);
const key = Buffer.alloc(32, 1);
time('choose segment, demo strategy (split included)', 200_000, (i) => chooseSegment(def, { ...facts, daysPastDue: i % 120, bucket: i % 2 ? 'M1' : 'M3' }, (seg) => splitPoint(key, 'collections', seg, `0190a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`)));
time('keyed split point (HMAC-SHA256)', 200_000, (i) => splitPoint(key, 'collections', 'early', `0190a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`));

const store = await createTestStore();
try {
  const clock = new FixedClock('2026-11-28T02:00:00Z');
  const pii = new Pii(Pii.randomKeys());
  const s = await createPeople(store.prisma);
  await ensureDefaultTemplates(store.prisma);
  await ensureDefaultDunningRules(store.prisma);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await createCase(store.prisma, pii, { now: clock.now(), daysPastDue: 1 + (i % 200) });
  console.log(`made ${N} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const admin = await store.prisma.user.findUniqueOrThrow({ where: { id: s.users.admin.id } });
  const actor = { viewer: viewerOf(admin), requestId: null };
  const deps = { prisma: store.prisma, clock };
  const { strategy } = await createStrategy(deps, actor, { name: 'collections', definition: DEMO_STRATEGY_DEFINITION });
  await activateStrategy(deps, actor, { strategyId: strategy.id, reason: 'bench' });
  for (const label of ['first run (every case assigned)', 're-run (nothing changes)']) {
    const t1 = performance.now();
    const r = await runStrategyAssignment(deps, pii.strategySplitKey());
    const ms = performance.now() - t1;
    console.log(`${label.padEnd(36)} ${N} cases in ${(ms / 1000).toFixed(2)} s (${((ms * 1000) / N).toFixed(0)} µs a case): assigned ${r.assigned}, unchanged ${r.unchanged}`);
  }
} finally {
  await store.close();
}
