/**
 * The demo's strategy (issue 16), written through the strategy services after the demo data:
 * risk scores for every account (model "demo-behaviour-v1", deterministic from the account's
 * reference), a strategy "collections" in force with four segments, one of them running a
 * champion-challenger experiment (30 % of early cases on SMS-only dunning), and the daily job's
 * first run, so that every open case has its segment, arm, treatment and timeline entry.
 * Once only: a demo that has the strategy already is left as it is.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Clock } from '../lib/time.ts';
import { dateOnly } from '../lib/time.ts';
import type { Pii } from '../lib/pii.ts';
import { viewerOf } from '../auth/viewer.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from '../modules/contact/templates.ts';
import { activateStrategy, createStrategy, runStrategyAssignment, setRiskScores, MAX_RISK_SCORES } from '../modules/strategy/service.ts';

export const DEMO_STRATEGY_NAME = 'collections';

export const DEMO_STRATEGY_DEFINITION = {
  segments: [
    {
      key: 'complained',
      name: 'Complained',
      rule: { fact: 'complaints', op: 'gte', value: 1 },
      treatment: { priority: 'HIGH', dunningRules: [], visitEligible: false },
    },
    {
      key: 'high-risk-late',
      name: 'High risk, 61+ days',
      rule: { all: [{ fact: 'daysPastDue', op: 'gte', value: 61 }, { any: [{ fact: 'riskScore', op: 'missing' }, { fact: 'riskScore', op: 'lt', value: 450 }] }] },
      treatment: { priority: 'URGENT', visitEligible: true },
    },
    {
      key: 'early',
      name: 'Early (M1)',
      rule: { fact: 'bucket', op: 'eq', value: 'M1' },
      treatment: { priority: 'NORMAL' },
      challengers: [{ key: 'sms-only', share: 30, treatment: { priority: 'LOW', dunningRules: ['overdue-notice-sms', 'followup-sms-m1'], visitEligible: false } }],
    },
    { key: 'rest', name: 'Everything else', rule: { all: [] }, treatment: { priority: 'NORMAL' } },
  ],
};

/** A score in [300, 850) from the account's reference: the same on every seed. */
function demoScore(ref: string): number {
  return 300 + (createHash('sha256').update(ref).digest().readUInt32BE(0) % 550);
}

export async function seedDemoStrategy(prisma: PrismaClient, deps: { pii: Pii; clock: Clock }): Promise<{ seeded: boolean; scores: number; assigned: number }> {
  if (await prisma.strategy.findFirst({ where: { name: DEMO_STRATEGY_NAME }, select: { id: true } })) return { seeded: false, scores: 0, assigned: 0 };
  await ensureDefaultTemplates(prisma);
  await ensureDefaultDunningRules(prisma);
  const admin = await prisma.user.findUniqueOrThrow({ where: { email: 'admin@bank.example' } });
  const actor = { viewer: viewerOf(admin), requestId: null };
  const svc = { prisma, clock: deps.clock };
  const scoredOn = dateOnly(new Date(deps.clock.now().getTime() - 86_400_000));
  const accounts = await prisma.cardAccount.findMany({ select: { externalRef: true }, orderBy: { externalRef: 'asc' } });
  for (let i = 0; i < accounts.length; i += MAX_RISK_SCORES) {
    const page = accounts.slice(i, i + MAX_RISK_SCORES);
    await setRiskScores(svc, actor, { model: 'demo-behaviour-v1', scoredOn, scores: page.map((a) => ({ accountRef: a.externalRef, score: demoScore(a.externalRef) })) });
  }
  const { strategy } = await createStrategy(svc, actor, { name: DEMO_STRATEGY_NAME, definition: DEMO_STRATEGY_DEFINITION, note: 'demo: segments by complaints, risk and bucket; SMS-only challenger on M1' });
  await activateStrategy(svc, actor, { strategyId: strategy.id, reason: 'demo strategy' });
  const run = await runStrategyAssignment(svc, deps.pii.strategySplitKey());
  return { seeded: true, scores: accounts.length, assigned: run.assigned };
}
