/**
 * At most once per idempotency key, with two dispatchers racing. On PostgreSQL (TEST_DATABASE_URL)
 * each dispatcher has its own Prisma client and connection pool, as two server instances would;
 * on PGlite the same race runs inside one process (one connection), which checks the bookkeeping
 * but not the locking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { claimDueReminders, dispatchDueReminders } from '../../src/modules/contact/outbox.ts';
import { ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import type { ChannelProvider, OutboundMessage } from '../../src/modules/contact/providers.ts';
import { mobileOf } from './support.ts';

const POSTGRES = process.env.TEST_DATABASE_URL;
const logger = createLogger('silent');

let t: TestApp;
let other: PrismaClient;

/** Counts every hand-over per idempotency key; a little slow, to widen the race windows. */
class CountingProvider implements ChannelProvider {
  readonly name = 'counting';
  readonly byKey = new Map<string, number>();
  total = 0;
  async send(msg: OutboundMessage) {
    this.total++;
    this.byKey.set(msg.idempotencyKey, (this.byKey.get(msg.idempotencyKey) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 2 + Math.floor(Math.random() * 4)));
    return { providerMessageId: `count:${msg.reminderId}` };
  }
}

/** `n` due reminders over 10 cases (a few per case: the dispatchers also meet on the case lock). */
async function dueReminders(n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  const cases = [];
  for (let i = 0; i < 10; i++) {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 12 });
    cases.push({ c, mobile: await mobileOf(t.prisma, c.id) });
  }
  for (let i = 0; i < n; i++) {
    const { c, mobile } = cases[i % cases.length]!;
    const r = await t.prisma.reminder.create({
      data: { caseId: c.id, contactPointId: mobile.id, channel: 'SMS', templateKey: 'overdue-followup', language: 'ZH_CN', scheduledAt: t.clock.now(), nextAttemptAt: t.clock.now(), idempotencyKey: `race-${tag}-${i}`, requestHash: 'test' },
    });
    ids.push(r.id);
  }
  return ids;
}

beforeAll(async () => {
  t = await createTestApp();
  await createPeople(t.prisma);
  await ensureDefaultTemplates(t.prisma);
  if (POSTGRES) {
    const [{ db }] = (await t.prisma.$queryRaw<{ db: string }[]>`SELECT current_database() AS db`) as [{ db: string }];
    const url = new URL(POSTGRES);
    url.pathname = `/${db}`;
    other = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.toString(), max: 5 }) });
    // Warm both up (a client's first query loads its query compiler), so that they start the race together.
    await Promise.all([other.reminder.count(), t.prisma.reminder.count(), other.case.findFirst({ include: { account: true } })]);
  } else {
    other = t.prisma;
  }
});
afterAll(async () => {
  if (POSTGRES) await other?.$disconnect();
  await t?.close();
});

async function race(tag: string) {
  const ids = await dueReminders(50, tag);
  const provider = new CountingProvider();
  const [a, b] = await Promise.all([
    dispatchDueReminders({ prisma: t.prisma, clock: t.clock, logger, provider }, { owner: 'dispatcher-a', batchSize: 5, concurrency: 3 }),
    dispatchDueReminders({ prisma: other, clock: t.clock, logger, provider }, { owner: 'dispatcher-b', batchSize: 5, concurrency: 3 }),
  ]);
  expect(a.claimed + b.claimed).toBe(50);
  expect(a.sent + b.sent).toBe(50);
  expect(a.lostLease + b.lostLease).toBe(0);
  expect(provider.total).toBe(50);
  expect([...provider.byKey.values()].every((n) => n === 1)).toBe(true);
  const rows = await t.prisma.reminder.findMany({ where: { id: { in: ids } } });
  expect(rows.every((r) => r.status === 'SENT')).toBe(true);
  const attempts = await t.prisma.contactAttempt.findMany({ where: { reminderId: { in: ids } }, select: { reminderId: true } });
  expect(new Set(attempts.map((x) => x.reminderId)).size).toBe(50);
  expect(attempts).toHaveLength(50);
  return { a, b };
}

describe.skipIf(!POSTGRES)('two dispatchers on PostgreSQL', () => {
  it('claims each due reminder once, however many claims run at once', async () => {
    const ids = await dueReminders(50, 'claims');
    const clients = [t.prisma, other];
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimDueReminders(clients[i % 2]!, `claimer-${i}`, t.clock.now(), 60_000, 10)));
    // Never more than asked for (a claim written as `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` takes more).
    for (const c of claims) expect(c.length).toBeLessThanOrEqual(10);
    const all = claims.flat();
    expect(all.length).toBe(50);
    expect(new Set(all).size).toBe(50);
    expect(new Set(all)).toEqual(new Set(ids));
    const owners = await t.prisma.reminder.groupBy({ by: ['leaseOwner'], where: { id: { in: ids } }, _count: true });
    expect(owners.reduce((n, o) => n + o._count, 0)).toBe(50);
    // Release them for the next test: sent by nobody.
    await t.prisma.reminder.updateMany({ where: { id: { in: ids } }, data: { status: 'CANCELLED', leaseOwner: null, leaseUntil: null } });
  });

  it('sends every one of 50 due reminders exactly once with two dispatchers racing', async () => {
    const { a, b } = await race('pg');
    // Both took part (each claims in batches of 5 while the other sends).
    expect(a.claimed).toBeGreaterThan(0);
    expect(b.claimed).toBeGreaterThan(0);
  });
});

describe.skipIf(!!POSTGRES)('two dispatchers in one process (PGlite)', () => {
  it('sends every one of 50 due reminders exactly once', async () => {
    await race('pglite');
  });
});
