import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { checkPromisesAndInstalments } from '../../src/modules/repayment/service.ts';

let t: TestApp;
let s: Scenario;
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const QUEUE = `{ viewer { workQueue(first: 20) { totalCount nodes { number daysPastDue status overdue { minorUnits } } } } }`;

describe("the viewer's work queue", () => {
  it('lists open, unheld cases assigned to me: broken promises first, then days past due, then amount', async () => {
    const now = t.clock.now();
    const me = s.users.collector.id;
    const young = await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 10 });
    const oldSmall = await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 90, principal: 1_000n });
    const oldLarge = await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 90, principal: 9_000_000n });
    const promised = await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 5 });
    await createCase(t.prisma, t.pii, { now, collectorId: s.users.collector2.id, daysPastDue: 200 }); // not mine
    const held = await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 300 });
    await t.prisma.hold.create({ data: { caseId: held.id, reason: 'HARDSHIP', startsAt: now } });
    await createCase(t.prisma, t.pii, { now, collectorId: me, daysPastDue: 400, stage: 'CLOSED', status: 'WRITTEN_OFF' });
    // A promise that breaks: promised for 10 days ago, 3 grace days gone.
    await t.prisma.promiseToPay.create({ data: { caseId: promised.id, amount: 500n, currency: 'CNY', promisedFor: new Date(now.getTime() - 10 * 86_400_000), createdAt: now } });
    await t.prisma.case.update({ where: { id: promised.id }, data: { status: 'PROMISED' } });
    expect(await checkPromisesAndInstalments({ prisma: t.prisma, clock: t.clock })).toMatchObject({ promisesBroken: 1 });

    const token = await t.token(s.users.collector);
    const r = await t.gql(token, QUEUE);
    const q = r.data.viewer.workQueue;
    expect(q.totalCount).toBe(4);
    const numbers = async (c: { caseNo: number } | { id: string }) => {
      const row = await t.prisma.case.findUniqueOrThrow({ where: { id: (c as { id: string }).id } });
      return `C-${String(row.caseNo).padStart(6, '0')}`;
    };
    expect(q.nodes.map((n: any) => n.number)).toEqual([await numbers(promised), await numbers(oldLarge), await numbers(oldSmall), await numbers(young)]);
    expect(q.nodes[0].status).toBe('BROKEN_PROMISE');
  });
});
