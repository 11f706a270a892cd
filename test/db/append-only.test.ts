import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/store.ts';
import type { Store } from '../../src/db/store.ts';
import { createCase } from '../support/scenario.ts';
import { Pii } from '../../src/lib/pii.ts';

let store: Store;
beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => store?.close());

describe('append-only records, refused by the database itself', () => {
  it('refuses to change or delete an audit event, a timeline event, evidence and its custody', async () => {
    const p = store.prisma;
    const audit = await p.auditEvent.create({ data: { at: new Date(), action: 'test', entityType: 'Test' } });
    await expect(p.auditEvent.update({ where: { id: audit.id }, data: { action: 'forged' } })).rejects.toThrow(/append-only/);
    await expect(p.auditEvent.delete({ where: { id: audit.id } })).rejects.toThrow(/append-only/);
    await expect(store.sql.exec(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/append-only/);
    expect(await p.auditEvent.count()).toBe(1);
    await expect(store.sql.exec(`UPDATE "CaseEvent" SET summary = 'x'`)).resolves.toBeUndefined(); // no rows: nothing to refuse
  });

  it('lets new rows in', async () => {
    const before = await store.prisma.auditEvent.count();
    await store.prisma.auditEvent.create({ data: { at: new Date(), action: 'test2', entityType: 'Test' } });
    expect(await store.prisma.auditEvent.count()).toBe(before + 1);
  });

  it('refuses to change, delete or truncate a payment or its allocation lines (money is immutable)', async () => {
    const p = store.prisma;
    const c = await createCase(p, new Pii(Pii.randomKeys()), { now: new Date('2026-11-28T02:00:00Z') });
    const payment = await p.payment.create({
      data: { caseId: c.id, amount: 10_000n, currency: 'CNY', receivedAt: new Date(), channel: 'CASH', idempotencyKey: 'append-only-test-1', requestHash: 'x' },
    });
    const line = await p.paymentAllocation.create({ data: { paymentId: payment.id, target: 'BALANCE', amount: 10_000n } });
    await expect(p.payment.update({ where: { id: payment.id }, data: { amount: 1n } })).rejects.toThrow(/append-only/);
    await expect(store.sql.exec(`UPDATE "Payment" SET "externalReference" = 'forged'`)).rejects.toThrow(/append-only/);
    await expect(p.paymentAllocation.update({ where: { id: line.id }, data: { amount: 1n } })).rejects.toThrow(/append-only/);
    await expect(store.sql.exec(`UPDATE "PaymentAllocation" SET amount = 0`)).rejects.toThrow(/append-only/);
    await expect(store.sql.exec(`DELETE FROM "PaymentAllocation"`)).rejects.toThrow(/append-only/);
    await expect(store.sql.exec(`DELETE FROM "Payment"`)).rejects.toThrow(/append-only/);
    const reversal = await p.paymentReversal.create({ data: { paymentId: payment.id, caseId: c.id, amount: 10_000n, currency: 'CNY', reason: 'test', createdAt: new Date() } });
    await expect(p.paymentReversal.update({ where: { id: reversal.id }, data: { reason: 'forged' } })).rejects.toThrow(/append-only/);
    await expect(p.paymentReversal.delete({ where: { id: reversal.id } })).rejects.toThrow(/append-only/);
    expect((await p.payment.findUniqueOrThrow({ where: { id: payment.id } })).amount).toBe(10_000n);
    expect((await p.paymentAllocation.findUniqueOrThrow({ where: { id: line.id } })).amount).toBe(10_000n);
  });

  it('refuses TRUNCATE on every append-only table, also when a cascade would reach one', async () => {
    const tables = ['AuditEvent', 'CaseEvent', 'BucketHistory', 'EvidenceCustody', 'Evidence', 'ContactAttempt', 'Visit', 'Payment', 'PaymentAllocation', 'PaymentReversal'];
    for (const table of tables) {
      await expect(store.sql.exec(`TRUNCATE "${table}" CASCADE`), table).rejects.toThrow(/TRUNCATE on "\w+" is refused/);
    }
    await expect(store.sql.exec(`TRUNCATE "Case" CASCADE`)).rejects.toThrow(/append-only/);
    expect(await store.prisma.auditEvent.count()).toBeGreaterThan(0);
    expect(await store.prisma.payment.count()).toBe(1);
  });
});
