import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { COUNT_CAP } from '../../src/modules/cases/queries.ts';

let t: TestApp;
let s: Scenario;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  // Days past due 5, 45, 95, 200: buckets M1, M2, M4, M6_PLUS.
  await createCase(t.prisma, t.pii, { now, daysPastDue: 5, agencyId: s.north.id, debtorName: '王伟', nationalId: '110101199003071234', phone: '13800001111', principal: 500_000n });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 45, agencyId: s.south.id, principal: 900_000n });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 95, collectorId: s.users.collector.id, principal: 100_000n, stage: 'FIELD_VISIT' });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 200, principal: 2_000_000n, status: 'PROMISED' });
  admin = await t.token(s.users.admin);
});

afterAll(async () => t?.close());

const CASES = /* GraphQL */ `
  query Cases($first: Int, $after: String, $filter: CaseFilter, $orderBy: CaseOrder) {
    cases(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id number daysPastDue bucket stage status overdue { minorUnits currency formatted } debtor { fullName nationalIdMasked } }
    }
  }
`;

describe('cases', () => {
  it('lists, counts, computes days past due and bucket from the clock', async () => {
    const r = await t.gql(admin, CASES, { first: 10 });
    expect(r.errors).toBeUndefined();
    expect(r.data.cases.totalCount).toBe(4);
    // Default order: most days past due first.
    expect(r.data.cases.nodes.map((c: any) => [c.daysPastDue, c.bucket])).toEqual([
      [200, 'M6_PLUS'],
      [95, 'M4'],
      [45, 'M2'],
      [5, 'M1'],
    ]);
    expect(r.data.cases.nodes[0].number).toMatch(/^C-\d{6}$/);
  });

  it('moves the bucket when the clock moves', async () => {
    t.clock.advance(26 * 86_400_000);
    try {
      const later = await t.token(s.users.admin); // tokens expire: sign one at the new time
      const r = await t.gql(later, CASES, { first: 10, filter: { bucket: ['M2'] } });
      expect(r.data.cases.nodes.map((c: any) => [c.daysPastDue, c.bucket])).toEqual([[31, 'M2']]); // was 5 days, M1
      const m3 = await t.gql(later, CASES, { first: 10, filter: { bucket: ['M3'] } });
      expect(m3.data.cases.nodes.map((c: any) => c.daysPastDue)).toEqual([71]); // was 45, M2
    } finally {
      t.clock.set('2026-11-28T02:00:00.000Z');
    }
  });

  it('masks the national ID and formats money exactly', async () => {
    const r = await t.gql(admin, CASES, { first: 1, filter: { search: '王伟' } });
    const c = r.data.cases.nodes[0];
    expect(c.debtor.nationalIdMasked).toBe('1101**********1234');
    expect(c.overdue).toEqual({ minorUnits: 500_000 + 12_345 + 5_000, currency: 'CNY', formatted: '¥5,173.45' });
  });

  it('filters by stage, status, days past due, and orders by amount', async () => {
    const byStage = await t.gql(admin, CASES, { first: 10, filter: { stage: ['FIELD_VISIT'] } });
    expect(byStage.data.cases.totalCount).toBe(1);
    const byStatus = await t.gql(admin, CASES, { first: 10, filter: { status: ['PROMISED'] } });
    expect(byStatus.data.cases.nodes[0].daysPastDue).toBe(200);
    const band = await t.gql(admin, CASES, { first: 10, filter: { minDaysPastDue: 30, maxDaysPastDue: 100 } });
    expect(band.data.cases.nodes.map((c: any) => c.daysPastDue)).toEqual([95, 45]);
    const byAmount = await t.gql(admin, CASES, { first: 10, orderBy: { field: 'OVERDUE_AMOUNT', direction: 'ASC' } });
    const amounts = byAmount.data.cases.nodes.map((c: any) => c.overdue.minorUnits);
    expect(amounts).toEqual([...amounts].sort((a: number, b: number) => a - b));
  });

  it('counts no further than COUNT_CAP: the count is a bounded subquery', async () => {
    const statements: string[] = [];
    const off = t.runtime.store.onQuery((sql) => statements.push(sql));
    const r = await t.gql(admin, CASES, { first: 1 });
    off();
    expect(r.data.cases.totalCount).toBe(4);
    const count = statements.find((q) => /COUNT\(/i.test(q));
    expect(count).toMatch(/LIMIT/i);
    expect(COUNT_CAP).toBe(10_000);
  });

  it('searches by exact national ID through the blind index, by phone and by case number', async () => {
    const byId = await t.gql(admin, CASES, { first: 10, filter: { search: '110101199003071234' } });
    expect(byId.data.cases.nodes.map((c: any) => c.debtor.fullName), JSON.stringify(byId)).toEqual(['王伟']);
    const partialId = await t.gql(admin, CASES, { first: 10, filter: { search: '11010119900307123' } });
    expect(partialId.data.cases.nodes).toEqual([]);
    const byPhone = await t.gql(admin, CASES, { first: 10, filter: { search: '13800001111' } });
    expect(byPhone.data.cases.nodes.map((c: any) => c.debtor.fullName)).toEqual(['王伟']);
    const number = byId.data.cases.nodes[0].number;
    const byNumber = await t.gql(admin, CASES, { first: 10, filter: { search: number } });
    expect(byNumber.data.cases.nodes[0].number).toBe(number);
  });

  it('paginates with stable cursors, also when rows are inserted between pages', async () => {
    const p1 = await t.gql(admin, CASES, { first: 2 });
    expect(p1.data.cases.pageInfo.hasNextPage).toBe(true);
    await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 300 }); // sorts before page 1
    const p2 = await t.gql(admin, CASES, { first: 2, after: p1.data.cases.pageInfo.endCursor });
    expect(p2.data.cases.nodes.map((c: any) => c.daysPastDue)).toEqual([45, 5]);
    expect(p2.data.cases.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses first above 100 or below 0 with a validation error, not a silent cap', async () => {
    for (const first of [101, -1]) {
      const r = await t.gql(admin, CASES, { first });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.data?.cases ?? null).toBeNull();
    }
  });

  it('finds a case by number and returns null for an unknown one', async () => {
    const list = await t.gql(admin, CASES, { first: 1 });
    const number = list.data.cases.nodes[0].number;
    const r = await t.gql(admin, `query($n: String!) { caseByNumber(number: $n) { number } }`, { n: number });
    expect(r.data.caseByNumber.number).toBe(number);
    const none = await t.gql(admin, `{ caseByNumber(number: "C-999999") { number } }`);
    expect(none.data.caseByNumber).toBeNull();
  });

  it('reads the contact policy presets', async () => {
    const r = await t.gql(admin, `{ cn: contactPolicy { contactHoursStart contactHoursEnd maxConnectedCallsPerDay maxAttemptsPerNumberPerDay } us: contactPolicy(jurisdiction: US) { contactHoursEnd maxCallAttemptsPer7Days quietDaysAfterConversation optOutLineRequired } }`);
    expect(r.data.cn).toEqual({ contactHoursStart: '08:00', contactHoursEnd: '22:00', maxConnectedCallsPerDay: 3, maxAttemptsPerNumberPerDay: 6 });
    expect(r.data.us).toEqual({ contactHoursEnd: '21:00', maxCallAttemptsPer7Days: 7, quietDaysAfterConversation: 7, optOutLineRequired: true });
  });
});
