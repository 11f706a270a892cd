/**
 * Issue 18, point 2: the typed dossier. Compiled at planning from the case (card usage, promises,
 * plans, contact history, holds, complaints), frozen with the visit, the agency form and era for an
 * agency principal (another agency's records never show), and old stored shapes still readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOSSIER_FIELDS, M, createVisitWorld, gid, rawId, steps, type VisitWorld } from '../visits/support.ts';
import { normalizeDossier, readDossier } from '../../src/modules/visitpack/dossier.ts';

let w: VisitWorld;
beforeAll(async () => {
  w = await createVisitWorld();
});
afterAll(async () => w?.close());

const VISIT = `query($id: ID!) { node(id: $id) { id ... on Visit { ${DOSSIER_FIELDS} } } }`;

async function withHistory(caseId: string, accountId: string) {
  const p = w.e.t.prisma;
  const north = w.s.north.id;
  const south = w.s.south.id;
  const at = (d: string) => new Date(`${d}T02:00:00.000Z`);
  for (let m = 7; m <= 10; m++) {
    await p.cardStatement.create({ data: { accountId, periodStart: at(`2026-0${m}-01`.replace('-010-', '-10-')), periodEnd: at(`2026-${String(m).padStart(2, '0')}-28`), statementBalance: 900_000n + BigInt(m), minimumDue: 90_000n, amountPaid: m < 9 ? 90_000n : 0n, dueDate: at(`2026-${String(m + 1).padStart(2, '0')}-15`), currency: 'CNY', receivedAt: at('2026-11-01') } });
  }
  for (let i = 0; i < 25; i++) {
    await p.cardTransaction.create({ data: { accountId, postedOn: at(`2026-09-${String(i + 1).padStart(2, '0')}`), merchantCategory: 'Electronics', merchantName: `Store ${i}`, amount: BigInt(10_000 + i), currency: 'CNY', receivedAt: at('2026-11-01') } });
  }
  // Records of three eras: the bank's, North's (the case's agency), South's (it held the case before).
  await p.promiseToPay.create({ data: { caseId, agencyId: null, amount: 100_000n, currency: 'CNY', promisedFor: at('2026-10-20'), status: 'BROKEN', createdAt: at('2026-10-10') } });
  await p.promiseToPay.create({ data: { caseId, agencyId: south, amount: 222_222n, currency: 'CNY', promisedFor: at('2026-11-01'), status: 'BROKEN', createdAt: at('2026-10-25') } });
  await p.repaymentPlan.create({ data: { caseId, agencyId: north, kind: 'INSTALMENTS', status: 'PROPOSED', currency: 'CNY', totalAmount: 600_000n, instalmentCount: 6, frequency: 'MONTHLY', firstDueDate: at('2026-12-15'), proposedAt: at('2026-11-20') } });
  await p.repaymentPlan.create({ data: { caseId, agencyId: south, kind: 'SETTLEMENT', status: 'REJECTED', currency: 'CNY', totalAmount: 333_333n, instalmentCount: 1, firstDueDate: at('2026-11-15'), proposedAt: at('2026-11-02') } });
  await p.hold.create({ data: { caseId, agencyId: null, reason: 'HARDSHIP', startsAt: at('2026-10-01'), endsAt: at('2026-10-15'), releasedAt: at('2026-10-15') } });
  await p.hold.create({ data: { caseId, agencyId: south, reason: 'DISPUTE', startsAt: at('2026-10-26'), releasedAt: at('2026-10-30') } });
  await p.complaint.create({ data: { caseId, agencyId: south, channel: 'PHONE', category: 'HARASSMENT', against: 'AGENCY', againstAgencyId: south, description: 'calls at night', receivedAt: at('2026-10-28'), responseDueAt: at('2026-11-12'), resolutionDueAt: at('2026-11-27'), createdAt: at('2026-10-28') } });
  await p.complaint.create({ data: { caseId, agencyId: null, channel: 'PHONE', category: 'AMOUNT', against: 'BANK', description: 'the fee', receivedAt: at('2026-10-05'), responseDueAt: at('2026-10-20'), resolutionDueAt: at('2026-11-04'), status: 'NOT_UPHELD', createdAt: at('2026-10-05') } });
  const debtorId = (await p.case.findUniqueOrThrow({ where: { id: caseId } })).debtorId;
  await p.contactAttempt.create({ data: { caseId, agencyId: south, debtorId, channel: 'SMS', attemptedAt: at('2026-10-27'), outcome: 'DELIVERED' } });
  await p.contactAttempt.create({ data: { caseId, agencyId: south, debtorId, channel: 'CALL', attemptedAt: at('2026-10-27'), outcome: 'REFUSED', connected: true } });
  await p.contactAttempt.create({ data: { caseId, agencyId: null, debtorId, channel: 'SMS', attemptedAt: at('2026-10-02'), outcome: 'DELIVERED' } });
}

describe('the typed dossier', () => {
  it('the bank form holds card usage, promises, plans, contact history, holds and complaints of every era', async () => {
    const c = await w.northCase({ agencyId: null, collectorId: w.s.users.collector.id });
    await withHistory(c.row.id, c.row.accountId);
    const v = (await w.mutate('collector', M.plan, { caseId: c.id, addressId: c.homeId, purpose: 'Bank visit' })).visit;
    const d = v.dossier;
    expect(d.form).toBe('BANK');
    expect(d.statements.map((s: any) => s.periodEnd)).toEqual(['2026-10-28', '2026-09-28', '2026-08-28', '2026-07-28']);
    expect(d.statements[0]).toMatchObject({ statementBalance: { minorUnits: 900_010, currency: 'CNY' }, minimumDue: { minorUnits: 90_000 }, amountPaid: { minorUnits: 0 }, dueDate: '2026-11-15' });
    expect(d.recentTransactions).toHaveLength(20);
    expect(d.recentTransactions[0]).toEqual({ postedOn: '2026-09-25', merchantCategory: 'Electronics', merchantName: 'Store 24', amount: { minorUnits: 10_024, currency: 'CNY' } });
    expect(d.promises.map((p: any) => p.amount.minorUnits).sort()).toEqual([100_000, 222_222]);
    expect(d.plans.map((p: any) => p.kind).sort()).toEqual(['INSTALMENTS', 'SETTLEMENT']);
    expect(d.holds.map((h: any) => h.reason).sort()).toEqual(['DISPUTE', 'HARDSHIP']);
    expect(d.complaints.map((k: any) => k.category).sort()).toEqual(['AMOUNT', 'HARASSMENT']);
    expect(d.contactHistory).toMatchObject({ totalAttempts: 3, connected: 1, lastAttemptAt: '2026-10-27T02:00:00.000Z' });
    expect(d.contactHistory.byChannel).toEqual(expect.arrayContaining([{ channel: 'SMS', attempts: 2 }, { channel: 'CALL', attempts: 1 }]));

    // Frozen: what happens after planning does not change it.
    await w.e.t.prisma.cardStatement.deleteMany({ where: { accountId: c.row.accountId } });
    await w.e.t.prisma.case.update({ where: { id: c.row.id }, data: { principal: 1n, overdueTotal: 1n } });
    const again = await w.as('collector', VISIT, { id: v.id });
    expect(again.data.node.dossier).toEqual(d);

    // Placed with North later: North reads the agency form in its era, nothing of South's.
    await w.e.t.prisma.case.update({ where: { id: c.row.id }, data: { assignedAgencyId: w.s.north.id, assignedCollectorId: w.s.users.northAgent.id } });
    const north = (await w.as('northAgent', VISIT, { id: v.id })).data.node.dossier;
    expect(north.form).toBe('AGENCY');
    expect(north.card.creditLimit).toBeNull();
    expect(north.amounts.principal).toBeNull();
    expect(north.promises.map((p: any) => p.amount.minorUnits)).toEqual([100_000]);
    expect(north.plans.map((p: any) => p.kind)).toEqual(['INSTALMENTS']);
    expect(north.holds.map((h: any) => h.reason)).toEqual(['HARDSHIP']);
    expect(north.complaints.map((k: any) => k.category)).toEqual(['AMOUNT']);
    expect(north.contactHistory).toMatchObject({ totalAttempts: 1, connected: 0, byChannel: [{ channel: 'SMS', attempts: 1 }] });
    const text = JSON.stringify(north);
    for (const leak of ['222222', '333333', 'HARASSMENT', 'DISPUTE', 'REFUSED']) expect(text).not.toContain(leak);
    // Card usage is the account's (the bank's data): North needs it at the door.
    expect(north.statements).toHaveLength(4);
    // South sees no visit at all.
    expect((await w.as('southManager', VISIT, { id: v.id })).data.node).toBeNull();
  });

  it('a visit an agency plans holds the agency form of its own era only', async () => {
    const c = await w.northCase();
    await withHistory(c.row.id, c.row.accountId);
    const st = steps(w);
    const attempt = await st.consentCall(c);
    void attempt;
    const v = await st.plan(c);
    const stored = (await w.e.t.prisma.visit.findUniqueOrThrow({ where: { id: rawId(v.id) } })).dossier as any;
    expect(stored.form).toBe('AGENCY');
    expect(stored.card.creditLimit).toBeUndefined();
    expect(JSON.stringify(stored)).not.toContain(w.s.south.id);
    expect(v.dossier.plans.map((p: any) => p.kind)).toEqual(['INSTALMENTS']);
    // The bank reads what was stored for the agency: the agency form.
    const bank = (await w.as('supervisor', VISIT, { id: v.id })).data.node.dossier;
    expect(bank.form).toBe('AGENCY');
    expect(bank.amounts.principal).toBeNull();
  });

  it('dossiers stored before issue 18 (version 1, or empty) stay readable, and nothing is invented', async () => {
    const v1 = {
      compiledAt: '2026-11-01T02:00:00.000Z',
      caseNumber: 'C-000042',
      debtor: { fullName: '张三', nationalIdMasked: '1101**********1234', language: 'ZH_CN', timeZone: 'Asia/Shanghai' },
      card: { last4: '4321', product: 'Gold', creditLimit: '5000000', currency: 'CNY' },
      overdue: { total: '825000', formatted: '¥8,250.00', principal: '800000', interest: '20000', fees: '5000', currency: 'CNY', firstMissedDueDate: '2026-10-15', daysPastDue: 17 },
      contactPoints: [{ kind: 'MOBILE', value: '13800001111' }, { kind: 'EMAIL', value: 'a@b.cn' }],
      address: { kind: 'HOME', line1: '1 长安街', line2: null, city: '北京', region: '北京', postalCode: null, country: 'CN' },
    };
    const bank = readDossier(v1, { agency: false, agencyId: null });
    expect(bank).toMatchObject({ form: 'BANK', caseNumber: 'C-000042', overdue: { total: '825000', principal: '800000' }, statements: [], transactions: [], promises: [], holds: [], complaints: [] });
    expect(bank.contactHistory).toEqual({ totalAttempts: 0, connected: 0, lastAttemptAt: null, lastOutcome: null, byChannel: [] });
    const agency = readDossier(v1, { agency: true, agencyId: w.s.north.id });
    expect(agency.form).toBe('AGENCY');
    expect(agency.card.creditLimit).toBeUndefined();
    expect(agency.overdue.principal).toBeUndefined();
    expect(agency.contactPoints).toEqual([{ kind: 'MOBILE', value: '13800001111' }]);
    // The agency form of version 1 (no breakdown) is read as such; garbage is read as empty, never thrown.
    expect(normalizeDossier({ ...v1, overdue: { total: '825000', currency: 'CNY' } }).form).toBe('AGENCY');
    expect(normalizeDossier({}).statements).toEqual([]);
    // The demo's version 1 kept money as { minorUnits, currency, formatted } and the due date as dueDate.
    expect(normalizeDossier({ overdue: { total: { minorUnits: 825000, currency: 'CNY', formatted: '¥8,250.00' }, principal: { minorUnits: 800000 }, dueDate: '2026-10-15' } }).overdue).toMatchObject({ total: '825000', principal: '800000', firstMissedDueDate: '2026-10-15' });
    expect(normalizeDossier({ contactPoints: [{ kind: 'PIGEON', value: 'x' }], promises: 'x', overdue: { total: 1.5 } })).toMatchObject({ contactPoints: [{ kind: 'MOBILE' }], promises: [], overdue: { total: '0' } });

    // Over GraphQL: a visit row holding a version 1 dossier reads.
    const c = await w.northCase({ agencyId: null, collectorId: w.s.users.collector.id });
    const addressId = rawId(c.homeId);
    const row = await w.e.t.prisma.visit.create({ data: { caseId: c.row.id, addressId, purpose: 'old visit', dossier: v1 } });
    const r = await w.as('collector', VISIT, { id: gid('Visit', row.id) });
    expect(r.errors).toBeUndefined();
    expect(r.data.node.dossier).toMatchObject({ form: 'BANK', caseNumber: 'C-000042', amounts: { total: { minorUnits: 825000 }, principal: { minorUnits: 800000 } }, statements: [] });
    const empty = await w.e.t.prisma.visit.create({ data: { caseId: c.row.id, addressId, purpose: 'older visit', dossier: {} } });
    const r2 = await w.as('collector', VISIT, { id: gid('Visit', empty.id) });
    expect(r2.errors).toBeUndefined();
    expect(r2.data.node.dossier.amounts.total.minorUnits).toBe(0);
  });
});
