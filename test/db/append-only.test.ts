import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/store.ts';
import type { Store } from '../../src/db/store.ts';

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
});
