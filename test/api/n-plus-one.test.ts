import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

/**
 * No N+1: a page of cases with its nested relations costs the same number of SQL statements
 * for 10 cases as for 50, and no more than one per relation level (Vendure's
 * collection-n-plus-one e2e test is the model).
 */
let t: TestApp;
let s: Scenario;
let admin: string;

const QUERY = /* GraphQL */ `
  query Page($first: Int!) {
    cases(first: $first) {
      nodes {
        id
        number
        debtor { fullName contactPoints { value } }
        account { product }
        assignedAgency { name }
        reminders(first: 5) { nodes { id status } }
        visits(first: 3) { nodes { id status } }
        repaymentPlans { nodes { id instalments { seq amount { minorUnits } } } }
      }
    }
  }
`;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  for (let i = 0; i < 60; i++) {
    const c = await createCase(t.prisma, t.pii, { now, daysPastDue: 10 + i, agencyId: i % 2 ? s.north.id : null });
    const debtor = await t.prisma.debtor.findUniqueOrThrow({ where: { id: c.debtorId }, include: { contactPoints: true, addresses: true } });
    const cp = debtor.contactPoints[0]!;
    await t.prisma.reminder.createMany({
      data: Array.from({ length: 7 }, (_, k) => ({
        caseId: c.id,
        contactPointId: cp.id,
        channel: 'SMS' as const,
        language: 'ZH_CN' as const,
        scheduledAt: new Date(now.getTime() - k * 86_400_000),
        nextAttemptAt: now,
        idempotencyKey: `n1-${c.id}-${k}`,
        requestHash: 'x',
      })),
    });
    await t.prisma.visit.createMany({
      data: Array.from({ length: 4 }, () => ({ caseId: c.id, addressId: debtor.addresses[0]!.id, purpose: 'visit', dossier: {} })),
    });
    await t.prisma.repaymentPlan.create({
      data: {
        caseId: c.id,
        kind: 'INSTALMENTS',
        currency: 'CNY',
        totalAmount: 3000n,
        instalmentCount: 3,
        frequency: 'MONTHLY',
        firstDueDate: new Date('2026-12-01T00:00:00Z'),
        proposedAt: now,
        instalments: { create: [1, 2, 3].map((seq) => ({ seq, amount: 1000n, dueDate: new Date(`2027-0${seq}-01T00:00:00Z`) })) },
      },
    });
  }
  admin = await t.token(s.users.admin);
});

afterAll(async () => t?.close());

async function statementsFor(first: number): Promise<{ count: number; data: any }> {
  // Authentication's user lookup is counted too: it is part of every request.
  let count = 0;
  const stop = t.runtime.store.onQuery(() => count++);
  try {
    const r = await t.gql(admin, QUERY, { first });
    expect(r.errors).toBeUndefined();
    return { count, data: r.data };
  } finally {
    stop();
  }
}

describe('no N+1', () => {
  it('costs the same number of statements for 10 and 50 cases, at most one per relation level', async () => {
    const ten = await statementsFor(10);
    const fifty = await statementsFor(50);
    expect(ten.data.cases.nodes).toHaveLength(10);
    expect(fifty.data.cases.nodes).toHaveLength(50);
    // The data is really there: 5 of 7 reminders, 3 of 4 visits, 3 instalments per case.
    for (const c of fifty.data.cases.nodes) {
      expect(c.reminders.nodes).toHaveLength(5);
      expect(c.visits.nodes).toHaveLength(3);
      expect(c.repaymentPlans.nodes[0].instalments).toHaveLength(3);
      expect(c.debtor.contactPoints.length).toBeGreaterThan(0);
    }
    console.log(`SQL statements: ${ten.count} for 10 cases, ${fifty.count} for 50`);
    expect(fifty.count).toBe(ten.count);
    // Relation levels below the root: cases → (debtor, account, agency, reminders, visits, plans) → (contact points, instalments).
    // One statement for authentication, one for the whole page (relation joins), at most one per level beyond.
    expect(fifty.count).toBeLessThanOrEqual(1 + 3);
  });
});
