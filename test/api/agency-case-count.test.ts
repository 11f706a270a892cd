// Agency.caseCount: the database's kept count for those who see a whole agency, a live count of
// their own for collectors; both equal to counting the cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const COUNTS = '{ agencies(first: 10) { nodes { code caseCount } } }';
const byCode = (r: any) => Object.fromEntries(r.data.agencies.nodes.map((a: any) => [a.code, a.caseCount]));

describe('Agency.caseCount', () => {
  it('follows cases placed, moved, recalled, and matches a live count for every viewer', async () => {
    const now = t.clock.now();
    const north = [];
    for (let i = 0; i < 4; i++) north.push(await createCase(t.prisma, t.pii, { now, daysPastDue: 10 + i, agencyId: s.north.id, collectorId: i < 2 ? s.users.northAgent.id : null }));
    for (let i = 0; i < 3; i++) await createCase(t.prisma, t.pii, { now, daysPastDue: 20 + i, agencyId: s.south.id });
    await createCase(t.prisma, t.pii, { now, daysPastDue: 30, agencyId: null });
    const admin = await t.token(s.users.admin);
    expect(byCode(await t.gql(admin, COUNTS))).toEqual({ NORTH: 4, SOUTH: 3 });

    // Moved by the services: North's case recalled, then placed with South; another recalled to the bank.
    const supervisor = await t.token(s.users.supervisor);
    const ok = (r: any, field: string) => expect(r.errors ?? r.data[field].userErrors, JSON.stringify(r)).toEqual([]);
    const recall = (id: string) =>
      t.gql(supervisor, `mutation($i: RecallCaseInput!) { recallCase(input: $i) { userErrors { code message } } }`, {
        i: { caseId: encodeGlobalID('Case', id), reason: 'PERFORMANCE' },
      });
    ok(await recall(north[3]!.id), 'recallCase');
    ok(
      await t.gql(supervisor, `mutation($i: AssignCaseInput!) { assignCase(input: $i) { userErrors { code message } } }`, {
        i: { caseId: encodeGlobalID('Case', north[3]!.id), agencyId: encodeGlobalID('Agency', s.south.id) },
      }),
      'assignCase',
    );
    ok(await recall(north[2]!.id), 'recallCase');
    expect(byCode(await t.gql(admin, COUNTS))).toEqual({ NORTH: 2, SOUTH: 4 });
    const live = await t.prisma.case.groupBy({ by: ['assignedAgencyId'], _count: { _all: true }, where: { assignedAgencyId: { not: null } } });
    expect(Object.fromEntries(live.map((r) => [r.assignedAgencyId === s.north.id ? 'NORTH' : 'SOUTH', r._count._all]))).toEqual({ NORTH: 2, SOUTH: 4 });

    // The manager sees their own agency's; the collector only the cases assigned to them.
    expect(byCode(await t.gql(await t.token(s.users.northManager), COUNTS))).toEqual({ NORTH: 2 });
    expect(byCode(await t.gql(await t.token(s.users.northAgent), COUNTS))).toEqual({ NORTH: 2 });
    await t.prisma.case.update({ where: { id: north[1]!.id }, data: { assignedCollectorId: null } });
    expect(byCode(await t.gql(await t.token(s.users.northAgent), COUNTS))).toEqual({ NORTH: 1 });
  });

  it('is kept by statement: one statement moving many cases between agencies, in both directions, counts exactly', async () => {
    const kept = async () => Object.fromEntries((await t.prisma.agencyCaseCount.findMany()).map((r) => [r.agencyId, r.cases]));
    const counted = async () => {
      const rows = await t.prisma.case.groupBy({ by: ['assignedAgencyId'], _count: { _all: true }, where: { assignedAgencyId: { not: null } } });
      const all = Object.fromEntries((await t.prisma.agencyCaseCount.findMany()).map((r) => [r.agencyId, 0]));
      for (const r of rows) all[r.assignedAgencyId!] = r._count._all;
      return all;
    };
    const now = t.clock.now();
    for (let i = 0; i < 30; i++) await createCase(t.prisma, t.pii, { now, daysPastDue: 40 + i, agencyId: i % 3 === 0 ? s.north.id : i % 3 === 1 ? s.south.id : null });
    expect(await kept()).toEqual(await counted());
    // One statement: North's cases to South, South's to North, the bank's to North, and a no-op.
    await t.prisma.$executeRaw`UPDATE "Case" SET "assignedAgencyId" = CASE
        WHEN "assignedAgencyId" = ${s.north.id}::uuid THEN ${s.south.id}::uuid
        WHEN "assignedAgencyId" = ${s.south.id}::uuid THEN ${s.north.id}::uuid
        ELSE ${s.north.id}::uuid END, "assignedCollectorId" = NULL`;
    expect(await kept()).toEqual(await counted());
    await t.prisma.$executeRaw`UPDATE "Case" SET "assignedAgencyId" = NULL WHERE "dueDate" < ${new Date(now.getTime() - 50 * 86_400_000)}::date`;
    expect(await kept()).toEqual(await counted());
    // An update that does not move a case (a version bump) changes no count.
    const before = await kept();
    await t.prisma.$executeRaw`UPDATE "Case" SET version = version + 1`;
    expect(await kept()).toEqual(before);
  });
});
