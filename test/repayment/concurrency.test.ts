/**
 * Payments under concurrent retries, on PostgreSQL (issue 6: "a test fires the same payment in
 * parallel on PostgreSQL and finds one"). The embedded store runs one statement at a time, so
 * only a real server shows the race: set TEST_DATABASE_URL to run this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id amount { minorUnits } allocations { target amount { minorUnits } } }
  case { id version overdue { minorUnits } } replayed userErrors { code field message } } }`;
const PROMISE = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { id } userErrors { code } } }`;

describe.skipIf(!process.env.TEST_DATABASE_URL)('concurrent payments on PostgreSQL', () => {
  let t: TestApp;
  let s: Scenario;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    expect(t.runtime.store.kind).toBe('postgres');
    s = await createPeople(t.prisma);
    token = await t.token(s.users.collector);
  });
  afterAll(async () => t?.close());

  const newCase = async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), principal: 1_000_000n, collectorId: s.users.collector.id }); // 1 017 345
    return { id: c.id, gid: encodeGlobalID('Case', c.id) };
  };
  const pay = (caseGid: string, amount: number, key: string) =>
    t.gql(token, PAY, { input: { caseId: caseGid, amount, currency: 'CNY', receivedAt: '2026-11-28T01:00:00.000Z', channel: 'BANK_TRANSFER', externalReference: `EXT-${key}`, idempotencyKey: key } });

  it('the same payment sent 8 times at once is recorded once: one row, one set of allocations, the case reduced once, 8 answers with its id', async () => {
    const c = await newCase();
    const key = `race-same-${process.pid}`;
    const responses = await Promise.all(Array.from({ length: 8 }, () => pay(c.gid, 40_000, key)));

    for (const r of responses) {
      expect(r.errors).toBeUndefined();
      expect(r.data.recordPayment.userErrors).toEqual([]);
    }
    const ids = new Set(responses.map((r) => r.data.recordPayment.payment.id));
    expect(ids.size).toBe(1);
    // Exactly one request wrote; the other seven were told they replayed it.
    expect(responses.filter((r) => r.data.recordPayment.replayed === false)).toHaveLength(1);
    expect(responses.filter((r) => r.data.recordPayment.replayed === true)).toHaveLength(7);

    const rows = await t.prisma.payment.findMany({ where: { caseId: c.id }, include: { allocations: true } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(decodeGlobalID([...ids][0]!).id);
    expect(await t.prisma.paymentAllocation.count({ where: { payment: { caseId: c.id } } })).toBe(rows[0]!.allocations.length);
    expect(rows[0]!.allocations.map((a) => [a.target, a.amount])).toEqual([['BALANCE', 40_000n]]);

    // Reduced once: fees 5 000, interest 12 345, principal 22 655.
    const after = await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    expect([after.principal, after.interest, after.fees, after.overdueTotal, after.credit]).toEqual([977_345n, 0n, 0n, 977_345n, 0n]);
    expect(after.version).toBe(2);
    expect(await t.prisma.caseEvent.count({ where: { caseId: c.id, type: 'PAYMENT_RECORDED' } })).toBe(1);
    expect(await t.prisma.auditEvent.count({ where: { caseId: c.id, action: 'payment.record' } })).toBe(1);
    // Every answer shows the case as it stands after the one payment.
    for (const r of responses) expect(r.data.recordPayment.case.overdue.minorUnits).toBe(977_345);
  });

  it('two different payments at once both apply, one after the other, FIFO against an open promise', async () => {
    const c = await newCase();
    const p = await t.gql(token, PROMISE, { input: { caseId: c.gid, amount: 25_000, currency: 'CNY', promisedFor: '2026-12-05' } });
    expect(p.data.recordPromiseToPay.userErrors).toEqual([]);
    const [a, b] = await Promise.all([pay(c.gid, 10_000, `race-a-${process.pid}`), pay(c.gid, 20_000, `race-b-${process.pid}`)]);
    for (const r of [a, b]) {
      expect(r.errors).toBeUndefined();
      expect(r.data.recordPayment.userErrors).toEqual([]);
      expect(r.data.recordPayment.replayed).toBe(false);
    }
    expect(a.data.recordPayment.payment.id).not.toBe(b.data.recordPayment.payment.id);

    const after = await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    // 30 000 in: fees 5 000, interest 12 345, principal 12 655.
    expect([after.principal, after.interest, after.fees, after.overdueTotal, after.credit]).toEqual([987_345n, 0n, 0n, 987_345n, 0n]);
    expect(after.version).toBe(4); // created 1, promise 2, two payments
    expect(after.status).toBe('OPEN'); // the promise was kept

    // Serialized by the row lock: whichever came first, the promise got exactly 25 000 and the rest went to the balance.
    const rows = await t.prisma.payment.findMany({ where: { caseId: c.id }, include: { allocations: true } });
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.allocations.reduce((x, l) => x + l.amount, 0n)).toBe(r.amount);
    const lines = rows.flatMap((r) => r.allocations);
    expect(lines.filter((l) => l.target === 'PROMISE').reduce((x, l) => x + l.amount, 0n)).toBe(25_000n);
    expect(lines.filter((l) => l.target === 'BALANCE').reduce((x, l) => x + l.amount, 0n)).toBe(5_000n);
    const promise = await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: c.id } });
    expect([promise.status, promise.paidAmount]).toEqual(['KEPT', 25_000n]);
  });

  it('four payments, each retried twice, all at once: four rows, the case reduced by the four', async () => {
    const c = await newCase();
    const amounts = [1_000, 2_000, 3_000, 4_000];
    const requests = amounts.flatMap((amount, k) => [0, 1].map(() => pay(c.gid, amount, `race-mix-${k}-${process.pid}`)));
    const responses = await Promise.all(requests);
    for (const r of responses) expect(r.data.recordPayment.userErrors).toEqual([]);
    expect(new Set(responses.map((r) => r.data.recordPayment.payment.id)).size).toBe(4);
    expect(responses.filter((r) => r.data.recordPayment.replayed).length).toBe(4);
    const rows = await t.prisma.payment.findMany({ where: { caseId: c.id } });
    expect(rows.map((r) => Number(r.amount)).sort((x, y) => x - y)).toEqual(amounts);
    const after = await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    expect(after.overdueTotal).toBe(1_017_345n - 10_000n);
    expect(after.version).toBe(5);
  });
});
