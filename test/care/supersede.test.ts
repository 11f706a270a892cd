/**
 * Issue 13, point 4 (a defect) and point 9. DOMAIN.md: "When a plan is approved, the case's open
 * promises end as SUPERSEDED: from then on payments go to the plan's instalments." The reported
 * scenario: a promise, then an approved plan, then a payment of exactly instalment 1. Before the
 * fix the payment went wholly to the promise, instalment 1 stayed due and the plan broke.
 * Amounts: principal 1 000 000, interest 12 345, fees 5 000: overdue 1 017 345 fen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPromisesAndInstalments } from '../../src/modules/repayment/service.ts';
import { createCareWorld, gid, type CareWorld } from './support.ts';

let w: CareWorld;
beforeAll(async () => {
  w = await createCareWorld();
});
afterAll(async () => w?.close());

const ERR = 'userErrors { code field message }';
const PROMISE = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { id status } ${ERR} } }`;
const PROPOSE = `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { plan { id instalments { id seq amount { minorUnits } } } ${ERR} } }`;
const APPROVE = `mutation($input: ApproveRepaymentPlanInput!) { approveRepaymentPlan(input: $input) { plan { id status } case { status } ${ERR} } }`;
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id allocations { target amount { minorUnits } instalment { seq } promise { id } } } case { status version } ${ERR} } }`;
const REVERSE = `mutation($input: ReversePaymentInput!) { reversePayment(input: $input) { ${ERR} } }`;
const READ = `query($id: ID!) { case(id: $id) { id status version
  promises(first: 10) { nodes { id status paid { minorUnits } } }
  repaymentPlans(first: 5) { nodes { id status instalments { seq status paid { minorUnits } } } }
  timeline(first: 30) { nodes { type summary } } } }`;

let key = 0;
const payInput = (caseGid: string, amount: number, at: string) => ({ caseId: caseGid, amount, currency: 'CNY', receivedAt: at, channel: 'BANK_TRANSFER', idempotencyKey: `care-pay-${++key}-${process.pid}` });
const runChecks = () => checkPromisesAndInstalments({ prisma: w.t.prisma, clock: w.t.clock });

describe('approving a plan supersedes the open promises (over HTTP)', () => {
  it('the reported scenario: promise, plan, payment of exactly instalment 1 → instalment 1 paid, the plan on track', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const c = await w.newCase();
    const p = await w.gql('collector', PROMISE, { input: { caseId: c.gid, amount: 200_000, currency: 'CNY', promisedFor: '2026-12-05' } });
    expect(p.data.recordPromiseToPay.userErrors).toEqual([]);
    const promiseId = p.data.recordPromiseToPay.promise.id;

    const proposed = await w.gql('collector', PROPOSE, { input: { caseId: c.gid, kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-10' } });
    expect(proposed.data.proposeRepaymentPlan.userErrors).toEqual([]);
    const plan = proposed.data.proposeRepaymentPlan.plan;
    const first = plan.instalments.find((i: any) => i.seq === 1).amount.minorUnits;
    expect(plan.instalments.reduce((a: number, i: any) => a + i.amount.minorUnits, 0)).toBe(1_017_345);

    const approved = await w.gql('supervisor', APPROVE, { input: { planId: plan.id } });
    expect(approved.data.approveRepaymentPlan.userErrors).toEqual([]);
    expect(approved.data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
    expect(approved.data.approveRepaymentPlan.case.status).toBe('PROMISED');

    let read = (await w.gql('collector', READ, { id: c.gid })).data.case;
    expect(read.promises.nodes).toEqual([{ id: promiseId, status: 'SUPERSEDED', paid: { minorUnits: 0 } }]);
    expect(read.timeline.nodes.map((e: any) => e.type)).toContain('PROMISES_SUPERSEDED');

    await w.setClock('2026-12-08T02:00:00.000Z');
    const paid = await w.gql('collector', PAY, { input: payInput(c.gid, first, '2026-12-08T01:00:00.000Z') });
    expect(paid.data.recordPayment.userErrors).toEqual([]);
    expect(paid.data.recordPayment.payment.allocations).toEqual([{ target: 'INSTALMENT', amount: { minorUnits: first }, instalment: { seq: 1 }, promise: null }]);

    read = (await w.gql('collector', READ, { id: c.gid })).data.case;
    const inst = read.repaymentPlans.nodes[0].instalments;
    expect(inst.map((i: any) => [i.seq, i.status])).toEqual([[1, 'PAID'], [2, 'DUE'], [3, 'DUE']]);
    expect(inst[0].paid.minorUnits).toBe(first);
    expect(read.promises.nodes[0]).toMatchObject({ status: 'SUPERSEDED', paid: { minorUnits: 0 } });

    // Past the promise's date + 3 grace days and instalment 1's due date + 5: nothing breaks.
    await w.setClock('2026-12-20T02:00:00.000Z');
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    read = (await w.gql('collector', READ, { id: c.gid })).data.case;
    expect(read.repaymentPlans.nodes[0].status).toBe('ACTIVE');
    expect(read.status).toBe('PROMISED');
  });

  it('a partly paid promise keeps what it was paid; a broken one stays BROKEN; the audit names the promises superseded', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const c = await w.newCase();
    const old = (await w.gql('collector', PROMISE, { input: { caseId: c.gid, amount: 10_000, currency: 'CNY', promisedFor: '2026-11-29' } })).data.recordPromiseToPay.promise.id;
    await w.setClock('2026-12-05T02:00:00.000Z');
    expect((await runChecks()).promisesBroken).toBe(1);
    const open = (await w.gql('collector', PROMISE, { input: { caseId: c.gid, amount: 100_000, currency: 'CNY', promisedFor: '2026-12-20' } })).data.recordPromiseToPay.promise.id;
    const part = await w.gql('collector', PAY, { input: payInput(c.gid, 30_000, '2026-12-05T01:00:00.000Z') });
    expect(part.data.recordPayment.payment.allocations).toEqual([{ target: 'PROMISE', amount: { minorUnits: 30_000 }, instalment: null, promise: { id: open } }]);
    const paymentId = part.data.recordPayment.payment.id;

    const planId = (await w.gql('collector', PROPOSE, { input: { caseId: c.gid, kind: 'DEFERRAL', currency: 'CNY', firstDueDate: '2027-01-15' } })).data.proposeRepaymentPlan.plan.id;
    expect((await w.gql('supervisor', APPROVE, { input: { planId } })).data.approveRepaymentPlan.userErrors).toEqual([]);
    const rows = await w.t.prisma.promiseToPay.findMany({ where: { caseId: c.id }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => [r.id, r.status, Number(r.paidAmount)])).toEqual([
      [gidId(old), 'BROKEN', 0],
      [gidId(open), 'SUPERSEDED', 30_000],
    ]);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { caseId: c.id, action: 'plan.approve' } });
    expect((audit.data as any).promisesSuperseded).toEqual([gidId(open)]);

    // Reversing the payment that went to the promise: it owes again, but stays SUPERSEDED.
    const version = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    const rev = await w.gql('supervisor', REVERSE, { input: { paymentId, reason: 'bounced', expectedVersion: version } });
    expect(rev.data.reversePayment.userErrors).toEqual([]);
    const after = await w.t.prisma.promiseToPay.findUniqueOrThrow({ where: { id: gidId(open) } });
    expect([after.status, Number(after.paidAmount)]).toEqual(['SUPERSEDED', 0]);
    // Later payments go to the plan only.
    const next = await w.gql('collector', PAY, { input: payInput(c.gid, 5_000, '2026-12-05T01:30:00.000Z') });
    expect(next.data.recordPayment.payment.allocations.map((l: any) => l.target)).toEqual(['INSTALMENT']);
  });

  it('a promise kept by a payment reversed after a plan was approved owes again as SUPERSEDED: payments keep going to the plan', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const c = await w.newCase();
    const promiseId = (await w.gql('collector', PROMISE, { input: { caseId: c.gid, amount: 20_000, currency: 'CNY', promisedFor: '2026-12-10' } })).data.recordPromiseToPay.promise.id;
    const kept = await w.gql('collector', PAY, { input: payInput(c.gid, 20_000, '2026-11-28T01:00:00.000Z') });
    const paymentId = kept.data.recordPayment.payment.id;
    expect((await w.t.prisma.promiseToPay.findUniqueOrThrow({ where: { id: gidId(promiseId) } })).status).toBe('KEPT');
    await w.setClock('2026-11-29T02:00:00.000Z');
    const planId = (await w.gql('collector', PROPOSE, { input: { caseId: c.gid, kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 2, frequency: 'MONTHLY', firstDueDate: '2027-02-15' } })).data.proposeRepaymentPlan.plan.id;
    await w.gql('supervisor', APPROVE, { input: { planId } });
    const version = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: c.id } })).version;
    expect((await w.gql('supervisor', REVERSE, { input: { paymentId, reason: 'bounced', expectedVersion: version } })).data.reversePayment.userErrors).toEqual([]);
    const after = await w.t.prisma.promiseToPay.findUniqueOrThrow({ where: { id: gidId(promiseId) } });
    expect([after.status, Number(after.paidAmount)]).toEqual(['SUPERSEDED', 0]);
    const next = await w.gql('collector', PAY, { input: payInput(c.gid, 20_000, '2026-11-29T01:00:00.000Z') });
    expect(next.data.recordPayment.payment.allocations.map((l: any) => l.target)).toEqual(['INSTALMENT']);
  });

  it('a rejected plan supersedes nothing', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const c = await w.newCase();
    await w.gql('collector', PROMISE, { input: { caseId: c.gid, amount: 10_000, currency: 'CNY', promisedFor: '2026-12-10' } });
    const planId = (await w.gql('collector', PROPOSE, { input: { caseId: c.gid, kind: 'DEFERRAL', currency: 'CNY', firstDueDate: '2027-01-15' } })).data.proposeRepaymentPlan.plan.id;
    await w.gql('supervisor', `mutation($input: RejectRepaymentPlanInput!) { rejectRepaymentPlan(input: $input) { ${ERR} } }`, { input: { planId, reason: 'not affordable' } });
    expect((await w.t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: c.id } })).status).toBe('OPEN');
  });
});

describe('the same through the SDK', () => {
  it('promise, plan, payment of instalment 1: the instalment is paid and the promise superseded', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const c = await w.newCase();
    const collector = w.sdk('collector');
    const supervisor = w.sdk('supervisor');
    const promised = await collector.recordPromiseToPay({ input: { caseId: c.gid, amount: 300_000, currency: 'CNY', promisedFor: '2026-12-01' } }, { throwOnUserErrors: true });
    const proposed = await collector.proposeRepaymentPlan({ input: { caseId: c.gid, kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 4, frequency: 'MONTHLY', firstDueDate: '2026-12-15' } }, { throwOnUserErrors: true });
    const plan = proposed.proposeRepaymentPlan.plan!;
    await supervisor.approveRepaymentPlan({ input: { planId: plan.id } }, { throwOnUserErrors: true });
    const first = plan.instalments.find((i) => i.seq === 1)!.amount.minorUnits;
    await w.setClock('2026-12-14T02:00:00.000Z');
    await collector.recordPayment({ input: payInput(c.gid, first, '2026-12-14T01:00:00.000Z') as never }, { throwOnUserErrors: true });
    const { case: read } = await collector.caseById({ id: c.gid });
    expect(read?.status).toBe('PROMISED');
    const detail = await collector.caseDetail({ id: c.gid });
    const node = detail.node as any;
    expect(node.promises.nodes.find((p: any) => p.id === promised.recordPromiseToPay.promise!.id).status).toBe('SUPERSEDED');
    expect(node.repaymentPlans.nodes.find((p: any) => p.id === plan.id).status).toBe('ACTIVE');
    const inst = await w.t.prisma.instalment.findFirstOrThrow({ where: { planId: gidId(plan.id), seq: 1 } });
    expect([inst.status, Number(inst.paidAmount)]).toEqual(['PAID', first]);
    await w.setClock('2026-12-25T02:00:00.000Z');
    expect((await runChecks()).failed).toBe(0);
    expect((await w.t.prisma.repaymentPlan.findUniqueOrThrow({ where: { id: gidId(plan.id) } })).status).toBe('ACTIVE');
  });
});

describe('case(id:) at the root (point 9)', () => {
  const ONE = `query($id: ID!) { case(id: $id) { id number assignedAgency { name } } }`;
  it('answers a case the viewer sees, and null for any other (another agency, a recalled case, another type, none)', async () => {
    await w.setClock('2026-11-28T02:00:00.000Z');
    const north = await w.newCase({ agency: 'north', collector: 'northAgent' });
    const south = await w.newCase({ agency: 'south', collector: 'southAgent' });
    expect((await w.gql('admin', ONE, { id: north.gid })).data.case.id).toBe(north.gid);
    expect((await w.gql('auditor', ONE, { id: south.gid })).data.case.id).toBe(south.gid);
    expect((await w.gql('northManager', ONE, { id: north.gid })).data.case.assignedAgency.name).toBe('North Recovery');
    expect((await w.gql('northAgent', ONE, { id: north.gid })).data.case.id).toBe(north.gid);
    // Another agency's case, another agent's case, another bank collector's case: null, no error.
    for (const [who, id] of [['northManager', south.gid], ['southAgent', north.gid], ['northAgent2', north.gid], ['collector', north.gid]] as const) {
      const r = await w.gql(who, ONE, { id });
      expect(r.errors, who).toBeUndefined();
      expect(r.data.case, who).toBeNull();
    }
    // An id of another type, even of a visible record, is not a case.
    expect((await w.gql('admin', ONE, { id: north.debtorGid })).data.case).toBeNull();
    expect((await w.gql('admin', ONE, { id: gid('Case', '00000000-0000-4000-8000-000000000000') })).data.case).toBeNull();
    // A malformed id is BAD_USER_INPUT, no token is 401.
    expect((await w.gql('admin', ONE, { id: 'not-an-id' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await w.gql(null, ONE, { id: north.gid })).status).toBe(401);
    // Recalled: gone for the agency at once.
    const version = (await w.t.prisma.case.findUniqueOrThrow({ where: { id: north.id } })).version;
    await w.gql('supervisor', `mutation($input: RecallCaseInput!) { recallCase(input: $input) { ${ERR} } }`, { input: { caseId: north.gid, reason: 'OTHER', expectedVersion: version } });
    expect((await w.gql('northManager', ONE, { id: north.gid })).data.case).toBeNull();
    expect((await w.gql('supervisor', ONE, { id: north.gid })).data.case.assignedAgency).toBeNull();
  });

  it('through the SDK: caseById', async () => {
    const south = await w.newCase({ agency: 'south', collector: 'southAgent' });
    expect((await w.sdk('southManager').caseById({ id: south.gid })).case?.id).toBe(south.gid);
    expect((await w.sdk('northManager').caseById({ id: south.gid })).case).toBeNull();
  });
});

function gidId(g: string): string {
  return JSON.parse(JSON.stringify(Buffer.from(g, 'base64').toString('utf8'))).split(':').slice(1).join(':');
}
