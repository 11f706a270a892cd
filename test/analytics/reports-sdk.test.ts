// The reports through the SDK over real HTTP: each answers with typed figures, and each keeps
// an agency to its own cases and era (South's records on a case North holds never show to North;
// South's scorecard does not exist for North).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArrearsClient, type ArrearsClient } from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { buildRollup } from '../../src/modules/analytics/rollup.ts';

let t: TestApp;
let s: Scenario;
let server: RunningServer;
let north: ArrearsClient;
let admin: ArrearsClient;
const period = { from: '2026-11-01', to: '2026-11-30' };

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  const c = await createCase(t.prisma, t.pii, { now, daysPastDue: 40, agencyId: s.north.id, collectorId: s.users.northAgent.id });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 70, agencyId: s.south.id });
  const attempt = (agencyId: string | null, extra: object) =>
    t.prisma.contactAttempt.create({ data: { caseId: c.id, debtorId: c.debtorId, agencyId, channel: 'CALL', attemptedAt: now, actorId: s.users.northAgent.id, ...extra } });
  await attempt(s.north.id, { connected: true });
  await attempt(s.north.id, { status: 'BLOCKED', rule: 'CONTACT_HOURS' });
  await attempt(s.south.id, { violation: true, rule: 'DAILY_CONNECTED_CALLS' }); // South's era: not North's to see
  const promise = (agencyId: string | null, status: 'KEPT' | 'BROKEN', paidAmount: bigint) =>
    t.prisma.promiseToPay.create({ data: { caseId: c.id, agencyId, amount: 100_00n, paidAmount, currency: 'CNY', promisedFor: now, status, capturedById: s.users.northAgent.id, createdAt: now } });
  await promise(s.north.id, 'KEPT', 100_00n);
  await promise(s.north.id, 'BROKEN', 25_00n);
  await promise(s.south.id, 'BROKEN', 0n);
  await t.prisma.bucketHistory.create({ data: { caseId: c.id, bucket: 'M1', enteredAt: new Date('2026-10-20T00:00:00Z') } });
  await t.prisma.bucketHistory.create({ data: { caseId: c.id, bucket: 'M2', enteredAt: new Date('2026-11-20T00:00:00Z') } });
  // South held the case early in the month; a payment recorded by the bank is dated into that placement.
  await t.prisma.placement.create({
    data: { caseId: c.id, kind: 'AGENCY', agencyId: s.south.id, collectorId: s.users.southAgent.id, startsAt: new Date('2026-11-01T00:00:00Z'), endedAt: new Date('2026-11-10T00:00:00Z') },
  });
  await t.prisma.payment.create({
    data: { caseId: c.id, agencyId: null, amount: 42_00n, currency: 'CNY', receivedAt: new Date('2026-11-05T00:00:00Z'), channel: 'CASH', idempotencyKey: 'dated-back', requestHash: 'h' },
  });
  const complaint = (status: 'OPEN' | 'UPHELD', decidedAt: Date | null) =>
    t.prisma.complaint.create({
      data: {
        caseId: c.id, agencyId: s.north.id, channel: 'PHONE', category: 'HARASSMENT', against: 'AGENCY', againstAgencyId: s.north.id, description: 'calls at night',
        status, receivedAt: new Date('2026-11-12T00:00:00Z'), responseDueAt: now, resolutionDueAt: now, decidedAt, createdAt: now,
      },
    });
  await complaint('UPHELD', new Date('2026-11-20T00:00:00Z'));
  await complaint('OPEN', null);
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  north = createArrearsClient({ url: `${server.url}/graphql`, token: await t.token(s.users.northManager) });
  admin = createArrearsClient({ url: `${server.url}/graphql`, token: await t.token(s.users.admin) });
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

// Twice: from the tables, then from the analytics rollup made at the same instant (same answers).
describe.each(['LIVE', 'ROLLUP'] as const)('reports through the SDK (%s)', (source) => {
  beforeAll(async () => {
    if (source === 'ROLLUP') await buildRollup(t.prisma, t.clock.now());
  });

  it('promiseStats: kept rates by count and by money, of the viewer’s era only', async () => {
    const { promiseStats } = await north.promiseStats({ period, groupBy: ['AGENCY'] });
    expect(promiseStats.rows.map((r) => [r.agency?.name, r.made, r.kept, r.broken, r.keptRateByCount, r.keptRateByAmount, r.amountPaid.minorUnits])).toEqual([
      ['North Recovery', 2, 1, 1, 0.5, 0.625, 125_00],
    ]);
    const all = await admin.promiseStats({ period, groupBy: [] });
    expect(all.promiseStats.rows.map((r) => [r.made, r.broken])).toEqual([[3, 2]]);
  });

  it('contactCompliance and collectorProductivity leave out another agency’s era', async () => {
    const { contactCompliance } = await north.contactCompliance({ period, groupBy: ['RULE'] });
    expect(contactCompliance.rows.map((r) => [r.rule, r.attempts, r.refusals, r.violations])).toEqual([
      ['CONTACT_HOURS', 1, 1, 0],
      [null, 1, 0, 0],
    ]);
    const bank = await admin.contactCompliance({ period, groupBy: ['RULE'] });
    expect(bank.contactCompliance.rows.map((r) => r.rule)).toContain('DAILY_CONNECTED_CALLS');
    const { collectorProductivity } = await north.collectorProductivity({ period, interval: 'MONTH' });
    expect(collectorProductivity.rows.map((r) => [r.collector?.fullName, r.start, r.attempts, r.rightPartyContacts, r.promises])).toEqual([
      ['North Agent', '2026-11-01', 1, 1, 2],
    ]);
  });

  it('rollRates: the matrix from the bucket history, with cure and roll rates', async () => {
    const { rollRates } = await admin.rollRates({ from: '2026-11-01', to: '2026-11-30' });
    expect(rollRates.cells.map((c) => [c.month, c.fromBucket, c.toState, c.caseCount])).toEqual([['2026-11', 'M1', 'M2', 1]]);
    expect(rollRates.cureRates.map((r) => [r.fromBucket, r.caseCount, r.cureRate, r.rollRate])).toEqual([['M1', 1, 0, 1]]);
    const bad = await t.gql(await t.token(s.users.admin), '{ rollRates(from: "2020-01-01", to: "2026-11-30") { fromMonth } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('agencyScorecards: each agency for the bank, its own for an agency', async () => {
    const bank = await admin.agencyScorecards({ period });
    expect(bank.agencyScorecards.source).toBe(source);
    expect(bank.agencyScorecards.scorecards.map((c) => [c.agency.name, c.placed[0]?.caseCount, c.complaints, c.complaintsUpheld])).toEqual([
      ['North Recovery', 1, 2, 1],
      ['South Recovery', 1, 0, 0],
    ]);
    const own = await north.agencyScorecards({ period });
    expect(own.agencyScorecards.scorecards.map((c) => [c.agency.name, c.promisesMade, c.promiseKeptRate, c.refusals, c.violations])).toEqual([
      ['North Recovery', 2, 0.5, 1, 0],
    ]);
  });

  it('answers the README’s worked example, and its export', async () => {
    const token = await t.token(s.users.northManager);
    const r = await t.gql(token, `{
  portfolio(groupBy: [BUCKET], period: { from: "2026-11-01", to: "2026-11-30" }) {
    asOf
    groups { bucket currency caseCount overdue { formatted } collected { formatted } promisedOpen { formatted } }
  }
  promiseStats(groupBy: [COLLECTOR]) { rows { collector { fullName } made kept broken keptRateByCount keptRateByAmount } }
}`);
    expect(r.errors).toBeUndefined();
    expect(r.data.portfolio.groups.map((g: any) => [g.bucket, g.caseCount])).toEqual([['M2', 1]]);
    const e = await t.gql(token, `mutation { requestExport(input: { kind: PAYMENTS, format: CSV, bom: true, period: { from: "2026-11-01", to: "2026-11-30" } }) {
  export { id status } userErrors { code field message } } }`);
    expect(e.data.requestExport.export.status).toBe('PENDING');
    const q = await t.gql(token, `query($id: ID!) { node(id: $id) { ... on Export { status progress rowsWritten downloadUrl } } }`, { id: e.data.requestExport.export.id });
    expect(q.data.node).toEqual({ status: 'PENDING', progress: 0, rowsWritten: 0, downloadUrl: null });
  });

  it('collections: a payment dated into another agency’s placement names its collector to the bank only', async () => {
    const { collections } = await north.collections({ period, interval: 'MONTH', groupBy: ['COLLECTOR'] });
    expect(collections.source).toBe(source);
    expect(collections.points.map((p) => [p.collector?.fullName ?? null, p.amount.minorUnits])).toEqual([[null, 42_00]]);
    const bank = await admin.collections({ period, interval: 'MONTH', groupBy: ['COLLECTOR'] });
    expect(bank.collections.points.map((p) => [p.collector?.fullName ?? null, p.amount.minorUnits])).toEqual([['South Agent', 42_00]]);
  });
});
