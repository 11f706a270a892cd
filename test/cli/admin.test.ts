// The first administrator of a fresh install, from the command line's service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore } from '../support/store.ts';
import { createFirstAdmin } from '../../src/modules/agencies/service.ts';
import { FixedClock } from '../../src/lib/time.ts';
import type { Store } from '../../src/db/store.ts';

let store: Store;
const clock = new FixedClock('2026-12-01T02:00:00.000Z');
beforeAll(async () => {
  store = await createTestStore();
});
afterAll(async () => store?.close());

describe('npm run admin:create', () => {
  it('creates the first BANK_ADMIN, audited; refuses a second unless forced; checks its input', async () => {
    const deps = { prisma: store.prisma, clock };
    const admin = await createFirstAdmin(deps, { email: 'Ops.Lead@Bank.example', fullName: 'Ops Lead' });
    expect(admin).toMatchObject({ email: 'ops.lead@bank.example', role: 'BANK_ADMIN', active: true });
    const audit = await store.prisma.auditEvent.findFirstOrThrow({ where: { entityId: admin.id } });
    expect(audit).toMatchObject({ action: 'user.create', actorId: null, reason: expect.stringMatching(/admin:create/) });

    await expect(createFirstAdmin(deps, { email: 'second@bank.example', fullName: 'Second' })).rejects.toMatchObject({ code: 'DUPLICATE' });
    expect(await store.prisma.user.count()).toBe(1);
    await expect(createFirstAdmin(deps, { email: 'not-an-email', fullName: 'X', force: true })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(createFirstAdmin(deps, { email: 'ops.lead@bank.example', fullName: 'Again', force: true })).rejects.toMatchObject({ code: 'DUPLICATE' });

    const forced = await createFirstAdmin(deps, { email: 'second@bank.example', fullName: 'Second', force: true });
    expect(forced.role).toBe('BANK_ADMIN');
    expect(await store.prisma.user.count({ where: { role: 'BANK_ADMIN' } })).toBe(2);
  });
});
