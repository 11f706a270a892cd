// portfolio and collections over HTTP: grouping, exact sums per currency, and the viewer's scope
// (an agency: the cases it holds and the records of its own era; a bank collector: their own cases).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
let cases: Awaited<ReturnType<typeof createCase>>[] = [];
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  cases = [
    await createCase(t.prisma, t.pii, { now, daysPastDue: 10, principal: 100_00n, agencyId: s.north.id, collectorId: s.users.northAgent.id }),
    await createCase(t.prisma, t.pii, { now, daysPastDue: 45, principal: 200_00n, agencyId: s.north.id }),
    await createCase(t.prisma, t.pii, { now, daysPastDue: 45, principal: 300_00n, agencyId: s.south.id }),
    await createCase(t.prisma, t.pii, { now, daysPastDue: 200, principal: 9_000_000_000_000_000n, agencyId: null, collectorId: s.users.collector.id }),
    await createCase(t.prisma, t.pii, { now, daysPastDue: 5, principal: 50_00n, currency: 'USD', agencyId: null, collectorId: s.users.collector.id }),
  ];
  const pay = (i: number, amount: bigint, agencyId: string | null, at = now) =>
    t.prisma.payment.create({
      data: { caseId: cases[i]!.id, agencyId, amount, currency: i === 4 ? 'USD' : 'CNY', receivedAt: at, channel: 'BANK_TRANSFER', idempotencyKey: `k-${Math.random()}`, requestHash: 'h' },
    });
  await pay(0, 10_00n, s.north.id);
  await pay(0, 7_00n, null);
  // Another agency's era of North's case: North never sees it.
  await pay(1, 99_00n, s.south.id);
  await pay(2, 30_00n, s.south.id);
  await pay(4, 5_00n, null);
  const reversed = await pay(3, 1_00n, null);
  await t.prisma.paymentReversal.create({ data: { paymentId: reversed.id, caseId: cases[3]!.id, amount: 1_00n, currency: 'CNY', reason: 'wrong', createdAt: now } });
  // Before the period: not collected in it.
  await pay(0, 1n, s.north.id, new Date('2026-10-01T00:00:00Z'));
  await t.prisma.promiseToPay.create({ data: { caseId: cases[0]!.id, agencyId: s.north.id, amount: 50_00n, paidAmount: 10_00n, currency: 'CNY', promisedFor: new Date('2026-12-05'), createdAt: now } });
});
afterAll(async () => t?.close());

const Q = `query($g: [PortfolioDimension!]!, $f: CaseFilter) { portfolio(groupBy: $g, filter: $f, period: { from: "2026-11-01", to: "2026-11-30" }) {
  from to groups { bucket agency { code } collector { email } currency caseCount overdue { minorUnits currency } principal { minorUnits } collected { minorUnits } promisedOpen { minorUnits } } } }`;

describe('portfolio', () => {
  it('groups by bucket and agency with exact sums per currency', async () => {
    const r = await t.gql(await t.token(s.users.admin), Q, { g: ['BUCKET', 'AGENCY'] });
    expect(r.errors).toBeUndefined();
    const groups = r.data.portfolio.groups.map((g: any) => [g.bucket, g.agency?.code ?? null, g.currency, g.caseCount, g.principal.minorUnits, g.collected.minorUnits, g.promisedOpen.minorUnits]);
    expect(groups).toEqual([
      ['M1', 'NORTH', 'CNY', 1, 100_00, 17_00, 40_00],
      ['M1', null, 'USD', 1, 50_00, 5_00, 0],
      ['M2', 'NORTH', 'CNY', 1, 200_00, 99_00, 0],
      ['M2', 'SOUTH', 'CNY', 1, 300_00, 30_00, 0],
      ['M6_PLUS', null, 'CNY', 1, 9_000_000_000_000_000, 0, 0],
    ]);
  });

  it('gives totals without grouping, and filters like the case list', async () => {
    const admin = await t.token(s.users.admin);
    const all = await t.gql(admin, Q, { g: [] });
    expect(all.data.portfolio.groups.map((g: any) => [g.currency, g.caseCount])).toEqual([['CNY', 4], ['USD', 1]]);
    const m2 = await t.gql(admin, Q, { g: [], f: { bucket: ['M2'], agencyId: encodeGlobalID('Agency', s.north.id) } });
    expect(m2.data.portfolio.groups.map((g: any) => [g.currency, g.caseCount, g.principal.minorUnits])).toEqual([['CNY', 1, 200_00]]);
    const search = await t.gql(admin, Q, { g: [], f: { search: 'C-' + String(cases[2]!.caseNo).padStart(6, '0') } });
    expect(search.data.portfolio.groups.map((g: any) => g.principal.minorUnits)).toEqual([300_00]);
  });

  it('shows an agency only its cases and its era, a bank collector only their cases', async () => {
    const north = await t.gql(await t.token(s.users.northManager), Q, { g: ['AGENCY', 'BUCKET'] });
    expect(north.data.portfolio.groups.map((g: any) => [g.agency.code, g.bucket, g.caseCount, g.collected.minorUnits])).toEqual([
      ['NORTH', 'M1', 1, 17_00],
      // South's payment on this case (South's era) is not North's to see.
      ['NORTH', 'M2', 1, 0],
    ]);
    const agent = await t.gql(await t.token(s.users.northAgent), Q, { g: ['COLLECTOR'] });
    expect(agent.data.portfolio.groups.map((g: any) => [g.collector.email, g.caseCount])).toEqual([['agent@north.example', 1]]);
    const collector = await t.gql(await t.token(s.users.collector), Q, { g: [] });
    expect(collector.data.portfolio.groups.map((g: any) => [g.currency, g.caseCount])).toEqual([['CNY', 1], ['USD', 1]]);
    // A filter naming another agency widens nothing.
    const other = await t.gql(await t.token(s.users.northManager), Q, { g: [], f: { agencyId: encodeGlobalID('Agency', s.south.id) } });
    expect(other.data.portfolio.groups).toEqual([]);
  });

  it('refuses a period backwards or too long', async () => {
    const r = await t.gql(await t.token(s.users.admin), `{ portfolio(groupBy: [], period: { from: "2026-11-30", to: "2026-11-01" }) { from } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('collections', () => {
  const C = `query($g: [CollectionsDimension!]!, $i: ReportInterval!) { collections(period: { from: "2026-09-01", to: "2026-11-30" }, interval: $i, groupBy: $g) {
    points { start agency { code } collector { email } currency paymentCount amount { minorUnits } } } }`;
  it('sums payments per interval, agency of the era and collector placed, reversals excluded', async () => {
    const r = await t.gql(await t.token(s.users.admin), C, { g: ['AGENCY', 'COLLECTOR'], i: 'MONTH' });
    expect(r.errors).toBeUndefined();
    const pts = r.data.collections.points.map((p: any) => [p.start, p.agency?.code ?? null, p.collector?.email ?? null, p.currency, p.paymentCount, p.amount.minorUnits]);
    const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    expect(sorted(pts)).toEqual(
      sorted([
        ['2026-10-01', 'NORTH', null, 'CNY', 1, 1],
        ['2026-11-01', 'NORTH', 'agent@north.example', 'CNY', 1, 10_00],
        ['2026-11-01', 'SOUTH', null, 'CNY', 2, 129_00],
        ['2026-11-01', null, 'agent@north.example', 'CNY', 1, 7_00],
        ['2026-11-01', null, 'collector@bank.example', 'USD', 1, 5_00],
      ]),
    );
    const north = await t.gql(await t.token(s.users.northManager), C, { g: [], i: 'MONTH' });
    expect(north.data.collections.points.map((p: any) => [p.start, p.amount.minorUnits])).toEqual([['2026-10-01', 1], ['2026-11-01', 17_00]]);
  });
});
