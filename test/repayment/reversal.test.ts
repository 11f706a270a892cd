/**
 * A wrong payment is reversed, never changed (issue 11, point 8). Over HTTP; every figure worked
 * out by hand from the case: principal 1 000 000, interest 12 345, fees 5 000 (overdue 1 017 345).
 * A payment takes fees, then interest, then principal; its reversal puts back exactly that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

const CASE = `id version stage status closedAt principal { minorUnits } interest { minorUnits } fees { minorUnits } overdue { minorUnits } credit { minorUnits }`;
const ERR = `userErrors { code field message }`;
const LINES = `target amount { minorUnits } promise { id } instalment { id }`;
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id allocations { ${LINES} } } case { ${CASE} } ${ERR} } }`;
const REVERSE = `mutation($input: ReversePaymentInput!) { reversePayment(input: $input) {
  payment { id amount { minorUnits } allocations { ${LINES} } reversal { id reason } }
  reversal { id reason amount { minorUnits } lines { ${LINES} } }
  case { ${CASE} } ${ERR} } }`;
const PROMISE = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { id } case { version } ${ERR} } }`;
const PROPOSE = `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { plan { id instalments { id amount { minorUnits } } } ${ERR} } }`;
const APPROVE = `mutation($input: ApproveRepaymentPlanInput!) { approveRepaymentPlan(input: $input) { plan { id status } case { version } ${ERR} } }`;

type Who = keyof Scenario['users'];
let seq = 0;
const newCase = async () => {
  const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), principal: 1_000_000n, collectorId: s.users.collector.id });
  return { id: c.id, gid: encodeGlobalID('Case', c.id) };
};
const pay = async (who: Who, caseGid: string, amount: number) => {
  const r = await t.gql(tok[who]!, PAY, {
    input: { caseId: caseGid, amount, currency: 'CNY', channel: 'BANK_TRANSFER', receivedAt: t.clock.now().toISOString(), idempotencyKey: `rev-pay-${++seq}-${process.pid}` },
  });
  expect(r.data.recordPayment.userErrors).toEqual([]);
  return r.data.recordPayment;
};
const reverse = (who: Who, paymentId: string, expectedVersion: number, reason = 'The transfer bounced') => t.gql(tok[who]!, REVERSE, { input: { paymentId, reason, expectedVersion } });
const figures = (c: any) => ({
  principal: c.principal.minorUnits,
  interest: c.interest.minorUnits,
  fees: c.fees.minorUnits,
  overdue: c.overdue.minorUnits,
  credit: c.credit.minorUnits,
  stage: c.stage,
  status: c.status,
});
const ORIGINAL = { principal: 1_000_000, interest: 12_345, fees: 5_000, overdue: 1_017_345, credit: 0 };
/** The payment rows as the database holds them: a reversal must leave them exactly as they were. */
const paymentRows = async (caseId: string) =>
  JSON.stringify(await t.prisma.payment.findMany({ where: { caseId }, include: { allocations: { where: { reversalId: null }, orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }), (_k, v) => (typeof v === 'bigint' ? `${v}` : v));

describe('reversePayment', () => {
  it('re-opens the promise it kept and puts back fees, interest and principal; the payment row is untouched; twice is refused', async () => {
    const c = await newCase();
    const p = await t.gql(tok.collector!, PROMISE, { input: { caseId: c.gid, amount: 25_000, currency: 'CNY', promisedFor: '2026-12-05' } });
    expect(p.data.recordPromiseToPay.userErrors).toEqual([]);
    const paid = await pay('collector', c.gid, 40_000);
    // 40 000: promise 25 000 + balance 15 000; fees 5 000, interest 12 345, principal 22 655.
    expect(figures(paid.case)).toEqual({ principal: 977_345, interest: 0, fees: 0, overdue: 977_345, credit: 0, stage: 'EARLY_REMINDER', status: 'OPEN' });
    const rowsBefore = await paymentRows(c.id);

    // A stale version changes nothing.
    const stale = await reverse('supervisor', paid.payment.id, paid.case.version - 1);
    expect(stale.data.reversePayment.userErrors).toMatchObject([{ code: 'STALE_VERSION', field: ['expectedVersion'] }]);

    const r = await reverse('supervisor', paid.payment.id, paid.case.version);
    expect(r.errors).toBeUndefined();
    const out = r.data.reversePayment;
    expect(out.userErrors).toEqual([]);
    expect(figures(out.case)).toEqual({ ...ORIGINAL, stage: 'EARLY_REMINDER', status: 'PROMISED' });
    expect(out.case.version).toBe(paid.case.version + 1);
    expect(out.reversal).toMatchObject({ reason: 'The transfer bounced', amount: { minorUnits: 40_000 } });
    expect(out.reversal.lines.map((l: any) => [l.target, l.amount.minorUnits, l.promise?.id ?? null])).toEqual([
      ['PROMISE', -25_000, p.data.recordPromiseToPay.promise.id],
      ['BALANCE', -15_000, null],
    ]);
    // The payment's own lines are as recorded.
    expect(out.payment.allocations.map((l: any) => [l.target, l.amount.minorUnits])).toEqual([
      ['PROMISE', 25_000],
      ['BALANCE', 15_000],
    ]);
    expect(out.payment.reversal.id).toBe(out.reversal.id);
    expect(await paymentRows(c.id)).toBe(rowsBefore);
    const promise = await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: c.id } });
    expect([promise.status, promise.paidAmount, promise.settledAt]).toEqual(['OPEN', 0n, null]);
    // Money is conserved: the payment's lines and the reversal's cancel out.
    const sum = await t.prisma.paymentAllocation.aggregate({ where: { paymentId: (await t.prisma.payment.findFirstOrThrow({ where: { caseId: c.id } })).id }, _sum: { amount: true } });
    expect(sum._sum.amount).toBe(0n);
    expect(await t.prisma.caseEvent.count({ where: { caseId: c.id, type: 'PAYMENT_REVERSED' } })).toBe(1);
    expect(await t.prisma.auditEvent.count({ where: { caseId: c.id, action: 'payment.reverse', reason: 'The transfer bounced' } })).toBe(1);

    const again = await reverse('supervisor', paid.payment.id, out.case.version);
    expect(again.data.reversePayment.userErrors).toMatchObject([{ code: 'INVALID_TRANSITION', field: ['paymentId'] }]);
    expect(figures((await t.gql(tok.supervisor!, `query($id: ID!) { node(id: $id) { ... on Case { ${CASE} } } }`, { id: c.gid })).data.node)).toEqual({ ...ORIGINAL, stage: 'EARLY_REMINDER', status: 'PROMISED' });
    expect(await t.prisma.paymentReversal.count({ where: { caseId: c.id } })).toBe(1);
  });

  it('re-opens a case the payment resolved, in its former stage, and takes back the credit', async () => {
    const c = await newCase();
    await t.prisma.case.update({ where: { id: c.id }, data: { stage: 'FIELD_VISIT' } });
    const paid = await pay('supervisor', c.gid, 1_017_845); // 500 over: kept as credit
    expect(figures(paid.case)).toEqual({ principal: 0, interest: 0, fees: 0, overdue: 0, credit: 500, stage: 'RESOLVED', status: 'PAID' });
    expect(paid.case.closedAt).not.toBeNull();
    const r = (await reverse('admin', paid.payment.id, paid.case.version)).data.reversePayment;
    expect(r.userErrors).toEqual([]);
    expect(figures(r.case)).toEqual({ ...ORIGINAL, stage: 'FIELD_VISIT', status: 'OPEN' });
    expect(r.case.closedAt).toBeNull();
    expect(r.reversal.lines.map((l: any) => [l.target, l.amount.minorUnits])).toEqual([
      ['BALANCE', -1_017_345],
      ['CREDIT', -500],
    ]);
    // Open again: a new payment is taken.
    const again = await pay('supervisor', c.gid, 1_000);
    expect(again.case.overdue.minorUnits).toBe(1_016_345);
  });

  it('re-opens the instalment it paid, and a completed settlement with what it forgave', async () => {
    // Instalments: the first one paid, then reversed.
    const c = await newCase();
    const plan = (await t.gql(tok.collector!, PROPOSE, { input: { caseId: c.gid, kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-10' } })).data.proposeRepaymentPlan;
    expect(plan.userErrors).toEqual([]);
    expect((await t.gql(tok.supervisor!, APPROVE, { input: { planId: plan.plan.id } })).data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
    const first = plan.plan.instalments[0];
    const paid = await pay('supervisor', c.gid, first.amount.minorUnits);
    expect(paid.payment.allocations.map((l: any) => [l.target, l.instalment?.id])).toEqual([['INSTALMENT', first.id]]);
    const r = (await reverse('supervisor', paid.payment.id, paid.case.version)).data.reversePayment;
    expect(r.userErrors).toEqual([]);
    expect(figures(r.case)).toEqual({ ...ORIGINAL, stage: 'EARLY_REMINDER', status: 'PROMISED' });
    const inst = await t.prisma.instalment.findFirstOrThrow({ where: { plan: { caseId: c.id }, seq: 1 } });
    expect([inst.status, inst.paidAmount, inst.paidAt]).toEqual(['DUE', 0n, null]);
    expect((await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: c.id } })).paidAmount).toBe(0n);

    // A settlement of 900 000 (117 345 forgiven), paid: the case is resolved; reversed: the plan runs again, nothing is forgiven.
    const d = await newCase();
    const settle = (await t.gql(tok.collector!, PROPOSE, { input: { caseId: d.gid, kind: 'SETTLEMENT', currency: 'CNY', totalAmount: 900_000, firstDueDate: '2026-12-10' } })).data.proposeRepaymentPlan;
    expect(settle.userErrors).toEqual([]);
    await t.gql(tok.supervisor!, APPROVE, { input: { planId: settle.plan.id } });
    const settled = await pay('supervisor', d.gid, 900_000);
    expect(figures(settled.case)).toEqual({ principal: 0, interest: 0, fees: 0, overdue: 0, credit: 0, stage: 'RESOLVED', status: 'PAID' });
    const back = (await reverse('supervisor', settled.payment.id, settled.case.version)).data.reversePayment;
    expect(back.userErrors).toEqual([]);
    expect(figures(back.case)).toEqual({ ...ORIGINAL, stage: 'EARLY_REMINDER', status: 'PROMISED' });
    const p = await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: d.id } });
    expect([p.status, p.paidAmount, p.completedAt]).toEqual(['ACTIVE', 0n, null]);
  });

  it('a collector reverses within the settlement threshold (20% of what is owed); above it a supervisor must', async () => {
    const c = await newCase();
    const small = await pay('collector', c.gid, 40_000);
    const big = await pay('collector', c.gid, 300_000);
    const before = await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    // 300 000 of the 717 345 owed after reversing it ... 29%: refused, nothing written.
    const refused = (await reverse('collector', big.payment.id, before.version)).data.reversePayment;
    expect(refused.userErrors).toMatchObject([{ code: 'APPROVAL_REQUIRED', field: ['paymentId'] }]);
    expect(await t.prisma.paymentReversal.count({ where: { caseId: c.id } })).toBe(0);
    expect((await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version).toBe(before.version);
    // 40 000 of 717 345: 5.6%.
    const ok = (await reverse('collector', small.payment.id, before.version)).data.reversePayment;
    expect(ok.userErrors).toEqual([]);
    expect(ok.case.overdue.minorUnits).toBe(1_017_345 - 300_000);
    // An agency (which records no payments) cannot reverse one; an auditor neither.
    for (const who of ['northManager', 'auditor'] as const) {
      const r = await reverse(who, big.payment.id, ok.case.version);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});
