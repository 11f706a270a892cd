/**
 * Promises to pay, repayment plans and payments over HTTP (issue 6; DOMAIN.md "Promises to pay and
 * repayment plans"). Every amount below is worked out by hand from the case's figures, never from
 * the code under test: principal P, interest 12 345 and fees 5 000 (test/support/scenario.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { checkPromisesAndInstalments } from '../../src/modules/repayment/service.ts';
import { DENIAL_KINDS } from '../../src/modules/audit/denials.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);

/** Tokens live 12 h of the test clock: sign fresh ones whenever the clock moves. */
async function signTokens() {
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
}
async function setClock(at: string) {
  t.clock.set(at);
  await signTokens();
}
const runChecks = () => checkPromisesAndInstalments({ prisma: t.prisma, clock: t.clock });

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  await signTokens();
});
afterAll(async () => t?.close());

// ---------------------------------------------------------------- documents

const CASE = `id number version stage status closedAt
  principal { minorUnits currency } interest { minorUnits } fees { minorUnits } overdue { minorUnits currency } credit { minorUnits }`;
const ERR = `userErrors { code field message }`;
const INSTALMENTS = `instalments { id seq dueDate amount { minorUnits } paid { minorUnits } status }`;
const PLAN = `id kind status total { minorUnits currency } discount { minorUnits } paid { minorUnits } instalmentCount frequency firstDueDate decisionNote cancelReason ${INSTALMENTS}`;
const PROMISE_FIELDS = `id status amount { minorUnits currency } paid { minorUnits } promisedFor contactAttempt { id } visit { id }`;

const RECORD_PROMISE = `mutation($input: RecordPromiseToPayInput!) { recordPromiseToPay(input: $input) { promise { ${PROMISE_FIELDS} } case { ${CASE} } ${ERR} } }`;
const PROPOSE = `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { plan { ${PLAN} } case { ${CASE} } ${ERR} } }`;
const APPROVE = `mutation($input: ApproveRepaymentPlanInput!) { approveRepaymentPlan(input: $input) { plan { ${PLAN} } case { ${CASE} } ${ERR} } }`;
const REJECT = `mutation($input: RejectRepaymentPlanInput!) { rejectRepaymentPlan(input: $input) { plan { ${PLAN} } case { ${CASE} } ${ERR} } }`;
const CANCEL = `mutation($input: CancelRepaymentPlanInput!) { cancelRepaymentPlan(input: $input) { plan { ${PLAN} } case { ${CASE} } ${ERR} } }`;
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id amount { minorUnits currency } credit { minorUnits } receivedAt channel externalReference idempotencyKey
            allocations { target amount { minorUnits } promise { id } instalment { id seq } } }
  case { ${CASE} } replayed ${ERR} } }`;
const CASE_READ = `query($id: ID!) { node(id: $id) { ... on Case { ${CASE}
  promises(first: 20) { nodes { ${PROMISE_FIELDS} } }
  repaymentPlans(first: 20) { nodes { ${PLAN} } }
  payments(first: 20) { totalCount nodes { id amount { minorUnits } } }
  timeline(first: 50) { nodes { type summary actorLabel } } } } }`;
const QUEUE = `{ viewer { workQueue(first: 20) { nodes { id status } } } }`;

// ---------------------------------------------------------------- helpers

type Who = keyof Scenario['users'];

const promise = (who: Who, input: Record<string, unknown>) => t.gql(tok[who]!, RECORD_PROMISE, { input: { currency: 'CNY', ...input } });
const propose = (who: Who, input: Record<string, unknown>) => t.gql(tok[who]!, PROPOSE, { input: { currency: 'CNY', ...input } });
const approve = (who: Who, planId: string, extra: Record<string, unknown> = {}) => t.gql(tok[who]!, APPROVE, { input: { planId, ...extra } });
const reject = (who: Who, planId: string, reason: string) => t.gql(tok[who]!, REJECT, { input: { planId, reason } });
const cancel = (who: Who, planId: string, reason: string) => t.gql(tok[who]!, CANCEL, { input: { planId, reason } });
let keySeq = 0;
const pay = (who: Who, input: Record<string, unknown>) =>
  t.gql(tok[who]!, PAY, {
    input: { currency: 'CNY', channel: 'BANK_TRANSFER', receivedAt: t.clock.now().toISOString(), idempotencyKey: `pay-key-${++keySeq}-${process.pid}`, ...input },
  });

/** One case's money and state, as the database holds it, in plain numbers. */
async function ledger(caseId: string) {
  const c = await t.prisma.case.findUniqueOrThrow({ where: { id: caseId } });
  return {
    principal: Number(c.principal),
    interest: Number(c.interest),
    fees: Number(c.fees),
    overdue: Number(c.overdueTotal),
    credit: Number(c.credit),
    status: c.status,
    stage: c.stage,
  };
}

/** The same figures from a payload's `case`, to check the API says what the database holds. */
function fromPayload(c: any) {
  return {
    principal: c.principal.minorUnits,
    interest: c.interest.minorUnits,
    fees: c.fees.minorUnits,
    overdue: c.overdue.minorUnits,
    credit: c.credit.minorUnits,
    status: c.status,
    stage: c.stage,
  };
}

async function version(caseId: string) {
  return (await t.prisma.case.findUniqueOrThrow({ where: { id: caseId }, select: { version: true } })).version;
}

/** Everything a refused write must leave alone. */
async function snapshot(caseId: string) {
  return {
    version: await version(caseId),
    ledger: await ledger(caseId),
    payments: await t.prisma.payment.count(),
    allocations: await t.prisma.paymentAllocation.count(),
    promises: await t.prisma.promiseToPay.count(),
    plans: await t.prisma.repaymentPlan.count(),
    planStates: (await t.prisma.repaymentPlan.findMany({ select: { id: true, status: true, paidAmount: true }, orderBy: { id: 'asc' } })).map((p) => `${p.id}:${p.status}:${p.paidAmount}`),
    instalments: await t.prisma.instalment.count(),
    events: await t.prisma.caseEvent.count(),
    // A refusal writes only its denial (test/audit/denials.test.ts), counted apart.
    audits: await t.prisma.auditEvent.count({ where: { action: { notIn: [...DENIAL_KINDS] } } }),
  };
}

function refused(payload: any, code: string, field?: string[]) {
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0].code).toBe(code);
  if (field) expect(payload.userErrors[0].field).toEqual(field);
  for (const k of ['promise', 'plan', 'payment']) if (k in payload) expect(payload[k]).toBeNull();
  expect(payload.case ?? null).toBeNull();
}

function forbidden(r: { errors?: { extensions?: Record<string, unknown> }[]; data: any }) {
  expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
}

async function newCase(spec: { collector?: Who; agency?: 'north' | 'south'; principal?: bigint; daysPastDue?: number; stage?: 'RESOLVED' | 'CLOSED' } = {}) {
  const c = await createCase(t.prisma, t.pii, {
    now: t.clock.now(),
    principal: spec.principal ?? 1_000_000n,
    daysPastDue: spec.daysPastDue ?? 40,
    collectorId: s.users[spec.collector ?? 'collector'].id,
    agencyId: spec.agency ? s[spec.agency].id : null,
    ...(spec.stage ? { stage: spec.stage } : {}),
  });
  return { id: c.id, gid: gid('Case', c.id), row: c };
}

async function sumAllocations(paymentId: string) {
  const rows = await t.prisma.paymentAllocation.findMany({ where: { paymentId } });
  return rows.reduce((a, r) => a + r.amount, 0n);
}

const dates = (plan: any) => plan.instalments.map((i: any) => i.dueDate);
const amounts = (plan: any) => plan.instalments.map((i: any) => i.amount.minorUnits);
const repeat = <T>(x: T, n: number) => Array.from({ length: n }, () => x);

// ---------------------------------------------------------------- the "Done when" scenario

describe('from a broken promise through an approved 12-instalment plan to resolution', () => {
  // Principal 1 000 000, interest 12 345, fees 5 000: overdue 1 017 345 fen.
  let A: Awaited<ReturnType<typeof newCase>>;
  let B: Awaited<ReturnType<typeof newCase>>;
  let attemptId: string;
  let promiseId: string;
  let planId: string;
  let plan: any;
  const payments: { id: string; amount: number }[] = [];

  beforeAll(async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    A = await newCase({ principal: 1_000_000n, daysPastDue: 40 });
    // Another case of the same collector, older: before A in the queue until A's promise breaks.
    B = await newCase({ principal: 2_000_000n, daysPastDue: 60 });
    const cp = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: A.row.debtorId } });
    const attempt = await t.prisma.contactAttempt.create({
      data: { caseId: A.id, debtorId: A.row.debtorId, contactPointId: cp.id, channel: 'CALL', attemptedAt: t.clock.now(), outcome: 'PROMISE_TO_PAY', connected: true, actorId: s.users.collector.id },
    });
    attemptId = attempt.id;
  });

  it('starts exact: 1 000 000 + 12 345 + 5 000', async () => {
    expect(await ledger(A.id)).toEqual({ principal: 1_000_000, interest: 12_345, fees: 5_000, overdue: 1_017_345, credit: 0, status: 'OPEN', stage: 'EARLY_REMINDER' });
    const q = await t.gql(tok.collector!, QUEUE);
    expect(q.data.viewer.workQueue.nodes.map((n: any) => n.id)).toEqual([B.gid, A.gid]);
  });

  it('1. records a promise of 200 000 by 2026-12-05 from a call: the case is PROMISED, the balance unchanged', async () => {
    const v = await version(A.id);
    const r = await promise('collector', { caseId: A.gid, amount: 200_000, promisedFor: '2026-12-05', contactAttemptId: gid('ContactAttempt', attemptId), expectedVersion: v });
    const p = r.data.recordPromiseToPay;
    expect(p.userErrors).toEqual([]);
    expect(p.promise).toMatchObject({ status: 'OPEN', amount: { minorUnits: 200_000, currency: 'CNY' }, paid: { minorUnits: 0 }, promisedFor: '2026-12-05', contactAttempt: { id: gid('ContactAttempt', attemptId) }, visit: null });
    promiseId = p.promise.id;
    expect(fromPayload(p.case)).toEqual({ principal: 1_000_000, interest: 12_345, fees: 5_000, overdue: 1_017_345, credit: 0, status: 'PROMISED', stage: 'EARLY_REMINDER' });
    expect(p.case.version).toBe(v + 1);
    const row = await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: A.id } });
    expect(row.capturedById).toBe(s.users.collector.id);
    expect(row.contactAttemptId).toBe(attemptId);
    expect(await t.prisma.auditEvent.count({ where: { caseId: A.id, action: 'promise.record' } })).toBe(1);
  });

  it('2. a partial payment of 50 000 makes the promise PARTIAL and pays fees, then interest, then principal', async () => {
    await setClock('2026-12-01T02:00:00.000Z');
    const r = await pay('collector', { caseId: A.gid, amount: 50_000, receivedAt: '2026-12-01T01:30:00.000Z', externalReference: 'BT-0001', idempotencyKey: 'scenario-A-payment-1' });
    const p = r.data.recordPayment;
    expect(p.userErrors).toEqual([]);
    expect(p.replayed).toBe(false);
    expect(p.payment).toMatchObject({ amount: { minorUnits: 50_000, currency: 'CNY' }, credit: { minorUnits: 0 }, channel: 'BANK_TRANSFER', externalReference: 'BT-0001', idempotencyKey: 'scenario-A-payment-1' });
    expect(p.payment.allocations).toEqual([{ target: 'PROMISE', amount: { minorUnits: 50_000 }, promise: { id: promiseId }, instalment: null }]);
    // fees 5 000 → 0, interest 12 345 → 0, principal 1 000 000 − 32 655 = 967 345.
    const expected = { principal: 967_345, interest: 0, fees: 0, overdue: 967_345, credit: 0, status: 'PROMISED', stage: 'EARLY_REMINDER' };
    expect(fromPayload(p.case)).toEqual(expected);
    expect(await ledger(A.id)).toEqual(expected);
    const pr = await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: A.id } });
    expect([pr.status, pr.paidAmount]).toEqual(['PARTIAL', 50_000n]);
    payments.push({ id: p.payment.id, amount: 50_000 });
  });

  it('3. the promise breaks only once its date plus 3 grace days has passed; the case goes BROKEN_PROMISE, top of the queue; re-running changes nothing', async () => {
    await setClock('2026-12-08T02:00:00.000Z'); // 2026-12-05 + 3 days: still within grace
    const v0 = await version(A.id);
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    expect(await version(A.id)).toBe(v0);

    await setClock('2026-12-09T02:00:00.000Z');
    expect(await runChecks()).toEqual({ promisesBroken: 1, plansBroken: 0, failed: 0 });
    const after = await ledger(A.id);
    expect(after).toEqual({ principal: 967_345, interest: 0, fees: 0, overdue: 967_345, credit: 0, status: 'BROKEN_PROMISE', stage: 'EARLY_REMINDER' });
    const v1 = await version(A.id);
    expect(v1).toBe(v0 + 1);
    // Idempotent: a second run the same day finds nothing.
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    expect(await version(A.id)).toBe(v1);

    const read = await t.gql(tok.collector!, CASE_READ, { id: A.gid });
    expect(read.data.node.promises.nodes).toEqual([expect.objectContaining({ id: promiseId, status: 'BROKEN', paid: { minorUnits: 50_000 } })]);
    expect(read.data.node.timeline.nodes[0]).toMatchObject({ type: 'PROMISE_BROKEN', actorLabel: 'system' });
    // Back to the top of the collector's queue, before the older case B.
    const q = await t.gql(tok.collector!, QUEUE);
    expect(q.data.viewer.workQueue.nodes.map((n: any) => n.id)).toEqual([A.gid, B.gid]);
  });

  it('4. a 12-instalment monthly plan of the whole 967 345, month ends handled, split exactly', async () => {
    const r = await propose('collector', { caseId: A.gid, kind: 'INSTALMENTS', instalmentCount: 12, frequency: 'MONTHLY', firstDueDate: '2026-12-31', note: 'Lost his job in October; new job from December.' });
    const p = r.data.proposeRepaymentPlan;
    expect(p.userErrors).toEqual([]);
    plan = p.plan;
    planId = plan.id;
    expect(plan).toMatchObject({ kind: 'INSTALMENTS', status: 'PROPOSED', total: { minorUnits: 967_345, currency: 'CNY' }, discount: { minorUnits: 0 }, paid: { minorUnits: 0 }, instalmentCount: 12, frequency: 'MONTHLY', firstDueDate: '2026-12-31' });
    // 967 345 = 12 × 80 612 + 1: the odd fen goes to the first instalment.
    expect(amounts(plan)).toEqual([80_613, ...repeat(80_612, 11)]);
    expect(amounts(plan).reduce((a: number, b: number) => a + b, 0)).toBe(967_345);
    expect(dates(plan)).toEqual([
      '2026-12-31', '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31',
      '2027-06-30', '2027-07-31', '2027-08-31', '2027-09-30', '2027-10-31', '2027-11-30',
    ]);
    expect(plan.instalments.map((i: any) => i.status)).toEqual(repeat('DUE', 12));
    // Proposing does not change the case's status or money.
    expect(fromPayload(p.case)).toEqual({ principal: 967_345, interest: 0, fees: 0, overdue: 967_345, credit: 0, status: 'BROKEN_PROMISE', stage: 'EARLY_REMINDER' });
  });

  it('5. maker-checker: the collector cannot approve, a stale version is refused, the supervisor approves: ACTIVE, case PROMISED', async () => {
    forbidden(await approve('collector', planId));
    const v = await version(A.id);
    const before = await snapshot(A.id);
    refused((await approve('supervisor', planId, { expectedVersion: v - 1 })).data.approveRepaymentPlan, 'STALE_VERSION', ['expectedVersion']);
    expect(await snapshot(A.id)).toEqual(before);

    const r = await approve('supervisor', planId, { expectedVersion: v, note: 'Affordable on the new salary.' });
    const p = r.data.approveRepaymentPlan;
    expect(p.userErrors).toEqual([]);
    expect(p.plan).toMatchObject({ status: 'ACTIVE', decisionNote: 'Affordable on the new salary.' });
    expect(fromPayload(p.case)).toEqual({ principal: 967_345, interest: 0, fees: 0, overdue: 967_345, credit: 0, status: 'PROMISED', stage: 'EARLY_REMINDER' });
    expect(p.case.version).toBe(v + 1);
    const row = await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: A.id } });
    expect([row.proposedById, row.decidedById]).toEqual([s.users.collector.id, s.users.supervisor.id]);
  });

  it('6. a partial payment of 50 000 goes to the first instalment', async () => {
    await setClock('2026-12-20T02:00:00.000Z');
    const r = await pay('collector', { caseId: A.gid, amount: 50_000, idempotencyKey: 'scenario-A-payment-2', channel: 'ONLINE' });
    const p = r.data.recordPayment;
    expect(p.userErrors).toEqual([]);
    expect(p.payment.allocations).toEqual([{ target: 'INSTALMENT', amount: { minorUnits: 50_000 }, promise: null, instalment: { id: plan.instalments[0].id, seq: 1 } }]);
    expect(fromPayload(p.case)).toEqual({ principal: 917_345, interest: 0, fees: 0, overdue: 917_345, credit: 0, status: 'PROMISED', stage: 'EARLY_REMINDER' });
    const read = await t.gql(tok.collector!, CASE_READ, { id: A.gid });
    const pl = read.data.node.repaymentPlans.nodes[0];
    expect(pl.paid.minorUnits).toBe(50_000);
    expect(pl.instalments.slice(0, 2).map((i: any) => [i.status, i.paid.minorUnits])).toEqual([['PARTIAL', 50_000], ['DUE', 0]]);
    payments.push({ id: p.payment.id, amount: 50_000 });
  });

  it('7. within the 5 grace days nothing breaks; 110 000 finishes instalment 1 and pays part of instalment 2', async () => {
    await setClock('2027-01-05T02:00:00.000Z'); // instalment 1 was due 2026-12-31: day 5 of grace
    const v = await version(A.id);
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    expect(await version(A.id)).toBe(v);

    const r = await pay('supervisor', { caseId: A.gid, amount: 110_000, idempotencyKey: 'scenario-A-payment-3', channel: 'CARD' });
    const p = r.data.recordPayment;
    expect(p.userErrors).toEqual([]);
    // 80 613 − 50 000 = 30 613 to instalment 1; 110 000 − 30 613 = 79 387 to instalment 2.
    expect(p.payment.allocations.map((a: any) => [a.target, a.instalment?.seq, a.amount.minorUnits])).toEqual([
      ['INSTALMENT', 1, 30_613],
      ['INSTALMENT', 2, 79_387],
    ]);
    expect(fromPayload(p.case)).toEqual({ principal: 807_345, interest: 0, fees: 0, overdue: 807_345, credit: 0, status: 'PROMISED', stage: 'EARLY_REMINDER' });
    const rows = await t.prisma.instalment.findMany({ where: { planId: (await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: A.id } })).id }, orderBy: { seq: 'asc' } });
    expect(rows.slice(0, 3).map((i) => [i.status, Number(i.paidAmount)])).toEqual([['PAID', 80_613], ['PARTIAL', 79_387], ['DUE', 0]]);
    expect(rows[0]!.paidAt).not.toBeNull();
    payments.push({ id: p.payment.id, amount: 110_000 });
  });

  it('8. an overpaying 900 000 pays every instalment, keeps 92 655 as credit, resolves the case and cancels its scheduled reminders', async () => {
    const cpA = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: A.row.debtorId } });
    const cpB = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: B.row.debtorId } });
    const reminder = (caseId: string, contactPointId: string, key: string) =>
      t.prisma.reminder.create({
        data: { caseId, contactPointId, channel: 'SMS', language: 'ZH_CN', scheduledAt: new Date('2027-01-10T02:00:00Z'), nextAttemptAt: new Date('2027-01-10T02:00:00Z'), idempotencyKey: key, requestHash: 'h' },
      });
    const rA = await reminder(A.id, cpA.id, 'scenario-reminder-A');
    const rB = await reminder(B.id, cpB.id, 'scenario-reminder-B');

    const r = await pay('collector', { caseId: A.gid, amount: 900_000, idempotencyKey: 'scenario-A-payment-4', channel: 'BANK_TRANSFER', externalReference: 'BT-0004' });
    const p = r.data.recordPayment;
    expect(p.userErrors).toEqual([]);
    // 80 612 − 79 387 = 1 225 to instalment 2, 80 612 to each of 3..12 (806 120): 807 345; the rest, 92 655, is credit.
    expect(p.payment.allocations.map((a: any) => [a.target, a.instalment?.seq ?? null, a.amount.minorUnits])).toEqual([
      ['INSTALMENT', 2, 1_225],
      ...[3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((seq) => ['INSTALMENT', seq, 80_612]),
      ['CREDIT', null, 92_655],
    ]);
    expect(p.payment.credit.minorUnits).toBe(92_655);
    const expected = { principal: 0, interest: 0, fees: 0, overdue: 0, credit: 92_655, status: 'PAID', stage: 'RESOLVED' };
    expect(fromPayload(p.case)).toEqual(expected);
    expect(await ledger(A.id)).toEqual(expected);
    expect(p.case.closedAt).toBe('2027-01-05T02:00:00.000Z');
    payments.push({ id: p.payment.id, amount: 900_000 });

    const read = await t.gql(tok.supervisor!, CASE_READ, { id: A.gid });
    const pl = read.data.node.repaymentPlans.nodes[0];
    expect(pl).toMatchObject({ status: 'COMPLETED', paid: { minorUnits: 967_345 } });
    expect(pl.instalments.map((i: any) => i.status)).toEqual(repeat('PAID', 12));
    expect(pl.instalments.map((i: any) => i.paid.minorUnits)).toEqual(amounts(plan));
    expect(read.data.node.timeline.nodes.slice(0, 2).map((e: any) => e.type).sort()).toEqual(['CASE_RESOLVED', 'PAYMENT_RECORDED']);

    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: rA.id } })).status).toBe('CANCELLED');
    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: rA.id } })).cancelledAt).toEqual(t.clock.now());
    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: rB.id } })).status).toBe('SCHEDULED');

    // Out of the collector's queue.
    const q = await t.gql(tok.collector!, QUEUE);
    expect(q.data.viewer.workQueue.nodes.map((n: any) => n.id)).toEqual([B.gid]);
  });

  it('money is conserved: payments in = overdue reduction + credit; every payment\'s allocations add up to it', async () => {
    const rows = await t.prisma.payment.findMany({ where: { caseId: A.id }, include: { allocations: true } });
    expect(rows.map((p) => p.id).sort()).toEqual(payments.map((p) => decodeGlobalID(p.id).id).sort());
    let totalIn = 0n;
    let credit = 0n;
    let applied = 0n;
    for (const p of rows) {
      expect(await sumAllocations(p.id)).toBe(p.amount);
      totalIn += p.amount;
      credit += p.creditAmount;
      for (const a of p.allocations) if (a.target !== 'CREDIT') applied += a.amount;
      expect(p.allocations.filter((a) => a.target === 'CREDIT').reduce((x, a) => x + a.amount, 0n)).toBe(p.creditAmount);
    }
    expect(totalIn).toBe(1_110_000n);
    const c = await t.prisma.case.findUniqueOrThrow({ where: { id: A.id } });
    expect(totalIn).toBe(1_017_345n - c.overdueTotal + c.credit);
    expect(applied).toBe(1_017_345n);
    expect(credit).toBe(c.credit);
    // The case's payment connection shows the four.
    const read = await t.gql(tok.collector!, CASE_READ, { id: A.gid });
    expect(read.data.node.payments.totalCount).toBe(4);
  });

  it('after resolution: a retry of the last payment replays it; a new payment is CASE_ENDED; the daily checks find nothing', async () => {
    const before = await snapshot(A.id);
    const retry = await pay('collector', { caseId: A.gid, amount: 900_000, receivedAt: '2027-01-05T02:00:00.000Z', idempotencyKey: 'scenario-A-payment-4', channel: 'BANK_TRANSFER', externalReference: 'BT-0004' });
    expect(retry.data.recordPayment.userErrors).toEqual([]);
    expect(retry.data.recordPayment.replayed).toBe(true);
    expect(retry.data.recordPayment.payment.id).toBe(payments[3]!.id);
    expect(await snapshot(A.id)).toEqual(before);

    refused((await pay('collector', { caseId: A.gid, amount: 1_000 })).data.recordPayment, 'CASE_ENDED', ['caseId']);
    refused((await promise('collector', { caseId: A.gid, amount: 1_000, promisedFor: '2027-01-10' })).data.recordPromiseToPay, 'CASE_ENDED', ['caseId']);
    expect(await snapshot(A.id)).toEqual(before);

    await setClock('2027-12-31T02:00:00.000Z');
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    expect(await snapshot(A.id)).toEqual(before);
  });
});

// ---------------------------------------------------------------- bad input: typed user errors, nothing written

describe('bad input is refused with a typed user error and writes nothing', () => {
  let C: Awaited<ReturnType<typeof newCase>>;
  beforeAll(async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    C = await newCase({ principal: 1_000_000n }); // overdue 1 017 345
  });

  it('reads the CN policy figures the rules use', async () => {
    const r = await t.gql(tok.collector!, `{ contactPolicy(jurisdiction: CN) { maxPromiseDays promiseGraceDays instalmentGraceDays maxDeferralDays settlementDiscountThresholdBps } }`);
    expect(r.data.contactPolicy).toEqual({ maxPromiseDays: 30, promiseGraceDays: 3, instalmentGraceDays: 5, maxDeferralDays: 90, settlementDiscountThresholdBps: 2000 });
  });

  it('promises: zero, negative, above the balance, another currency, a past date, beyond 30 days, a foreign contact attempt', async () => {
    const other = await newCase();
    const cp = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: other.row.debtorId } });
    const foreignAttempt = await t.prisma.contactAttempt.create({ data: { caseId: other.id, debtorId: other.row.debtorId, contactPointId: cp.id, channel: 'CALL', attemptedAt: t.clock.now() } });
    const before = await snapshot(C.id);
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ amount: 0 }, 'VALIDATION', ['amount']],
      [{ amount: -100 }, 'VALIDATION', ['amount']],
      [{ amount: 1_017_346 }, 'VALIDATION', ['amount']],
      [{ currency: 'USD' }, 'VALIDATION', ['currency']],
      [{ promisedFor: '2026-11-27' }, 'VALIDATION', ['promisedFor']],
      [{ promisedFor: '2026-12-29' }, 'VALIDATION', ['promisedFor']], // 31 days ahead
      [{ contactAttemptId: gid('ContactAttempt', foreignAttempt.id) }, 'NOT_FOUND', ['contactAttemptId']],
    ];
    for (const [over, code, field] of cases) {
      const r = await promise('collector', { caseId: C.gid, amount: 100_000, promisedFor: '2026-12-10', ...over });
      refused(r.data.recordPromiseToPay, code, field);
    }
    expect(await snapshot(C.id)).toEqual(before);
  });

  it('promises: today and exactly 30 days ahead, and the whole balance, are accepted; a visit can be the source', async () => {
    const D = await newCase();
    const today = await promise('collector', { caseId: D.gid, amount: 1_017_345, promisedFor: '2026-11-28' });
    expect(today.data.recordPromiseToPay.userErrors).toEqual([]);
    const address = await t.prisma.address.findFirstOrThrow({ where: { debtorId: D.row.debtorId } });
    const visit = await t.prisma.visit.create({ data: { caseId: D.id, addressId: address.id, purpose: 'Discuss repayment', dossier: {} } });
    const last = await promise('collector', { caseId: D.gid, amount: 1, promisedFor: '2026-12-28', visitId: gid('Visit', visit.id) });
    expect(last.data.recordPromiseToPay.userErrors).toEqual([]);
    expect(last.data.recordPromiseToPay.promise.visit).toEqual({ id: gid('Visit', visit.id) });
  });

  it('plans: zero, negative, above the balance, another currency, a first due date in the past, 61 months, 261 weekly, one instalment, no frequency, a partial instalment plan', async () => {
    const before = await snapshot(C.id);
    const base = { caseId: C.gid, kind: 'INSTALMENTS', instalmentCount: 12, frequency: 'MONTHLY', firstDueDate: '2026-12-15' };
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ totalAmount: 0 }, 'VALIDATION', ['totalAmount']],
      [{ totalAmount: -1 }, 'VALIDATION', ['totalAmount']],
      [{ totalAmount: 1_017_346 }, 'VALIDATION', ['totalAmount']],
      [{ totalAmount: 500_000 }, 'VALIDATION', ['totalAmount']], // an instalment plan collects the whole overdue amount
      [{ currency: 'USD' }, 'VALIDATION', ['currency']],
      [{ firstDueDate: '2026-11-27' }, 'VALIDATION', ['firstDueDate']],
      [{ instalmentCount: 61 }, 'VALIDATION', ['instalmentCount']],
      [{ instalmentCount: 261, frequency: 'WEEKLY' }, 'VALIDATION', ['instalmentCount']],
      [{ instalmentCount: 1 }, 'VALIDATION', ['instalmentCount']],
      [{ instalmentCount: null }, 'VALIDATION', ['instalmentCount']],
      [{ frequency: null }, 'VALIDATION', ['frequency']],
      [{ kind: 'DEFERRAL', instalmentCount: null, frequency: null, firstDueDate: '2027-02-27' }, 'VALIDATION', ['firstDueDate']], // 91 days
      [{ kind: 'DEFERRAL', instalmentCount: 2, frequency: null, firstDueDate: '2027-01-15' }, 'VALIDATION', ['instalmentCount']],
      [{ kind: 'DEFERRAL', totalAmount: 900_000, instalmentCount: null, frequency: null, firstDueDate: '2027-01-15' }, 'VALIDATION', ['totalAmount']],
      [{ kind: 'SETTLEMENT', instalmentCount: null, frequency: null }, 'VALIDATION', ['totalAmount']], // no reduced sum
      [{ kind: 'SETTLEMENT', totalAmount: 1_017_345, instalmentCount: null, frequency: null }, 'VALIDATION', ['totalAmount']],
    ];
    for (const [over, code, field] of cases) {
      const r = await propose('collector', { ...base, ...over });
      refused(r.data.proposeRepaymentPlan, code, field);
    }
    expect(await snapshot(C.id)).toEqual(before);
  });

  it('a settlement discount above 20% proposed by a collector needs a supervisor (APPROVAL_REQUIRED); 20% exactly does not', async () => {
    const agency = await newCase({ agency: 'north', collector: 'northAgent' });
    const before = await snapshot(C.id);
    // 20% of 1 017 345 is 203 469 exactly. One fen more is above the threshold.
    for (const total of [1_017_345 - 203_470, 1_017_345 - 300_000, 1]) {
      const r = await propose('collector', { caseId: C.gid, kind: 'SETTLEMENT', totalAmount: total, firstDueDate: '2026-12-15' });
      refused(r.data.proposeRepaymentPlan, 'APPROVAL_REQUIRED', ['totalAmount']);
    }
    const before2 = await snapshot(agency.id);
    refused((await propose('northAgent', { caseId: agency.gid, kind: 'SETTLEMENT', totalAmount: 700_000, firstDueDate: '2026-12-15' })).data.proposeRepaymentPlan, 'APPROVAL_REQUIRED', ['totalAmount']);
    expect(await snapshot(agency.id)).toEqual(before2);
    expect(await snapshot(C.id)).toEqual(before);

    const ok = await propose('collector', { caseId: C.gid, kind: 'SETTLEMENT', totalAmount: 1_017_345 - 203_469, firstDueDate: '2026-12-15' });
    expect(ok.data.proposeRepaymentPlan.userErrors).toEqual([]);
    expect(ok.data.proposeRepaymentPlan.plan).toMatchObject({ kind: 'SETTLEMENT', status: 'PROPOSED', total: { minorUnits: 813_876 }, discount: { minorUnits: 203_469 }, instalmentCount: 1, frequency: null });
    expect(amounts(ok.data.proposeRepaymentPlan.plan)).toEqual([813_876]);
    // A supervisor may propose the deeper discount (another supervisor then approves it).
    const deep = await propose('supervisor', { caseId: C.gid, kind: 'SETTLEMENT', totalAmount: 700_000, firstDueDate: '2026-12-15' });
    expect(deep.data.proposeRepaymentPlan.userErrors).toEqual([]);
    expect(deep.data.proposeRepaymentPlan.plan.discount.minorUnits).toBe(317_345);
    // ...but never approves it themselves.
    const b3 = await snapshot(C.id);
    refused((await approve('supervisor', deep.data.proposeRepaymentPlan.plan.id)).data.approveRepaymentPlan, 'APPROVAL_REQUIRED', ['planId']);
    refused((await reject('supervisor', deep.data.proposeRepaymentPlan.plan.id, 'Changed my mind')).data.rejectRepaymentPlan, 'APPROVAL_REQUIRED', ['planId']);
    expect(await snapshot(C.id)).toEqual(b3);
    const byAdmin = await approve('admin', deep.data.proposeRepaymentPlan.plan.id);
    expect(byAdmin.data.approveRepaymentPlan.userErrors).toEqual([]);
    expect(byAdmin.data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
  });

  it('a second active plan is INVALID_TRANSITION and writes nothing', async () => {
    const E = await newCase();
    const first = (await propose('collector', { caseId: E.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.plan.id;
    const second = (await propose('collector', { caseId: E.gid, kind: 'INSTALMENTS', instalmentCount: 6, frequency: 'MONTHLY', firstDueDate: '2026-12-15' })).data.proposeRepaymentPlan.plan.id;
    expect((await approve('supervisor', first)).data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
    const before = await snapshot(E.id);
    refused((await approve('admin', second)).data.approveRepaymentPlan, 'INVALID_TRANSITION', ['planId']);
    // An active plan is not approved twice either.
    refused((await approve('admin', first)).data.approveRepaymentPlan, 'INVALID_TRANSITION', ['planId']);
    expect(await snapshot(E.id)).toEqual(before);
  });

  it('payments: zero, negative, another currency, a short key, a future receivedAt, an invisible case', async () => {
    const before = await snapshot(C.id);
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ amount: 0 }, 'VALIDATION', ['amount']],
      [{ amount: -5 }, 'VALIDATION', ['amount']],
      [{ currency: 'USD' }, 'VALIDATION', ['currency']],
      [{ idempotencyKey: 'short' }, 'VALIDATION', ['idempotencyKey']],
      [{ receivedAt: '2026-11-28T03:00:00.000Z' }, 'VALIDATION', ['receivedAt']],
    ];
    for (const [over, code, field] of cases) refused((await pay('collector', { caseId: C.gid, amount: 10_000, ...over })).data.recordPayment, code, field);
    // collector2 is not assigned the case: it does not exist for them.
    refused((await pay('collector2', { caseId: C.gid, amount: 10_000 })).data.recordPayment, 'NOT_FOUND', ['caseId']);
    expect(await snapshot(C.id)).toEqual(before);
  });

  it('a payment, promise or plan on a RESOLVED or CLOSED case is CASE_ENDED and writes nothing', async () => {
    for (const stage of ['RESOLVED', 'CLOSED'] as const) {
      const X = await newCase({ stage });
      const before = await snapshot(X.id);
      refused((await pay('admin', { caseId: X.gid, amount: 10_000 })).data.recordPayment, 'CASE_ENDED', ['caseId']);
      refused((await promise('collector', { caseId: X.gid, amount: 10_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay, 'CASE_ENDED', ['caseId']);
      refused((await propose('collector', { caseId: X.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan, 'CASE_ENDED', ['caseId']);
      expect(await snapshot(X.id)).toEqual(before);
    }
    // Closed through the API, too.
    const Y = await newCase();
    const closed = await t.gql(tok.supervisor!, `mutation($input: CloseCaseInput!) { closeCase(input: $input) { case { stage } ${ERR} } }`, { input: { caseId: Y.gid, reason: 'RETURNED_TO_BANK' } });
    expect(closed.data.closeCase).toMatchObject({ case: { stage: 'CLOSED' }, userErrors: [] });
    const before = await snapshot(Y.id);
    refused((await pay('supervisor', { caseId: Y.gid, amount: 10_000 })).data.recordPayment, 'CASE_ENDED', ['caseId']);
    expect(await snapshot(Y.id)).toEqual(before);
  });
});

// ---------------------------------------------------------------- schedules through the API

describe('schedules', () => {
  let F: Awaited<ReturnType<typeof newCase>>;
  beforeAll(async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    F = await newCase({ principal: 1_000_000n }); // 1 017 345
  });
  const plan = async (input: Record<string, unknown>) => {
    const r = await propose('collector', { caseId: F.gid, kind: 'INSTALMENTS', ...input });
    expect(r.data.proposeRepaymentPlan.userErrors).toEqual([]);
    return r.data.proposeRepaymentPlan.plan;
  };

  it('monthly from 2027-01-31 keeps to the month end, 29 February in 2028 included', async () => {
    const p = await plan({ instalmentCount: 14, frequency: 'MONTHLY', firstDueDate: '2027-01-31' });
    expect(dates(p)).toEqual([
      '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30', '2027-07-31',
      '2027-08-31', '2027-09-30', '2027-10-31', '2027-11-30', '2027-12-31', '2028-01-31', '2028-02-29',
    ]);
    // 1 017 345 = 14 × 72 667 + 7.
    expect(amounts(p)).toEqual([...repeat(72_668, 7), ...repeat(72_667, 7)]);
  });

  it('60 monthly instalments are accepted (5 years); 61 are refused', async () => {
    const p = await plan({ instalmentCount: 60, frequency: 'MONTHLY', firstDueDate: '2026-12-15' });
    expect(p.instalments).toHaveLength(60);
    expect(p.instalments[59].dueDate).toBe('2031-11-15');
    // 1 017 345 = 60 × 16 955 + 45.
    expect(amounts(p)).toEqual([...repeat(16_956, 45), ...repeat(16_955, 15)]);
    const before = await snapshot(F.id);
    const r = await propose('collector', { caseId: F.gid, kind: 'INSTALMENTS', instalmentCount: 61, frequency: 'MONTHLY', firstDueDate: '2026-12-15' });
    refused(r.data.proposeRepaymentPlan, 'VALIDATION', ['instalmentCount']);
    expect(await snapshot(F.id)).toEqual(before);
  });

  it('weekly and fortnightly', async () => {
    const w = await plan({ instalmentCount: 4, frequency: 'WEEKLY', firstDueDate: '2026-12-01' });
    expect(dates(w)).toEqual(['2026-12-01', '2026-12-08', '2026-12-15', '2026-12-22']);
    expect(amounts(w)).toEqual([254_337, 254_336, 254_336, 254_336]);
    const f = await plan({ instalmentCount: 3, frequency: 'FORTNIGHTLY', firstDueDate: '2026-12-30' });
    expect(dates(f)).toEqual(['2026-12-30', '2027-01-13', '2027-01-27']);
    expect(amounts(f)).toEqual([339_115, 339_115, 339_115]);
    // Five years of weeks: 260 fit, the 261st is refused.
    const long = await plan({ instalmentCount: 260, frequency: 'WEEKLY', firstDueDate: '2026-12-01' });
    expect(long.instalments[259].dueDate).toBe('2031-11-18'); // 2026-12-01 + 259 weeks
  });

  it('a deferral of exactly 90 days is accepted, 91 refused; it is one payment of the whole amount', async () => {
    const d = await propose('collector', { caseId: F.gid, kind: 'DEFERRAL', firstDueDate: '2027-02-26' });
    expect(d.data.proposeRepaymentPlan.userErrors).toEqual([]);
    expect(d.data.proposeRepaymentPlan.plan).toMatchObject({ kind: 'DEFERRAL', instalmentCount: 1, frequency: null, total: { minorUnits: 1_017_345 } });
    expect(dates(d.data.proposeRepaymentPlan.plan)).toEqual(['2027-02-26']);
    const before = await snapshot(F.id);
    refused((await propose('collector', { caseId: F.gid, kind: 'DEFERRAL', firstDueDate: '2027-02-27' })).data.proposeRepaymentPlan, 'VALIDATION', ['firstDueDate']);
    expect(await snapshot(F.id)).toEqual(before);
  });
});

// ---------------------------------------------------------------- reject, cancel, break

describe('reject, cancel and break', () => {
  beforeAll(async () => setClock('2026-11-28T02:00:00.000Z'));

  it('reject: needs a reason, records it, and the plan cannot be approved or cancelled after', async () => {
    const G = await newCase();
    const planId = (await propose('collector', { caseId: G.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.plan.id;
    const before = await snapshot(G.id);
    refused((await reject('supervisor', planId, '   ')).data.rejectRepaymentPlan, 'VALIDATION', ['reason']);
    expect(await snapshot(G.id)).toEqual(before);
    const r = await reject('supervisor', planId, 'Income not verified');
    expect(r.data.rejectRepaymentPlan.userErrors).toEqual([]);
    expect(r.data.rejectRepaymentPlan.plan).toMatchObject({ status: 'REJECTED', decisionNote: 'Income not verified' });
    expect(r.data.rejectRepaymentPlan.case.status).toBe('OPEN');
    const after = await snapshot(G.id);
    refused((await approve('admin', planId)).data.approveRepaymentPlan, 'INVALID_TRANSITION', ['planId']);
    refused((await reject('admin', planId, 'again')).data.rejectRepaymentPlan, 'INVALID_TRANSITION', ['planId']);
    refused((await cancel('supervisor', planId, 'tidy up')).data.cancelRepaymentPlan, 'INVALID_TRANSITION', ['planId']);
    expect(await snapshot(G.id)).toEqual(after);
  });

  it('cancel: the proposer withdraws a proposal; another collector may not; an active plan is the bank\'s to cancel, and the case goes back to OPEN', async () => {
    const H = await newCase({ agency: 'north', collector: 'northAgent' });
    const proposal = (await propose('northAgent', { caseId: H.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.plan.id;
    // Another agent of the same agency does not see the case (not assigned): NOT_FOUND; the manager sees it but did not propose.
    const before = await snapshot(H.id);
    refused((await cancel('northAgent2', proposal, 'no')).data.cancelRepaymentPlan, 'NOT_FOUND', ['planId']);
    refused((await cancel('northManager', proposal, 'no')).data.cancelRepaymentPlan, 'FORBIDDEN_ACTION', ['planId']);
    refused((await cancel('southManager', proposal, 'no')).data.cancelRepaymentPlan, 'NOT_FOUND', ['planId']);
    forbidden(await cancel('auditor', proposal, 'no'));
    expect(await snapshot(H.id)).toEqual(before);
    const withdrawn = await cancel('northAgent', proposal, 'Debtor prefers instalments');
    expect(withdrawn.data.cancelRepaymentPlan.userErrors).toEqual([]);
    expect(withdrawn.data.cancelRepaymentPlan.plan).toMatchObject({ status: 'CANCELLED', cancelReason: 'Debtor prefers instalments' });

    const active = (await propose('northAgent', { caseId: H.gid, kind: 'INSTALMENTS', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-15' })).data.proposeRepaymentPlan.plan.id;
    expect((await approve('supervisor', active)).data.approveRepaymentPlan.case.status).toBe('PROMISED');
    const b2 = await snapshot(H.id);
    refused((await cancel('northAgent', active, 'no longer')).data.cancelRepaymentPlan, 'FORBIDDEN_ACTION', ['planId']);
    expect(await snapshot(H.id)).toEqual(b2);
    const c = await cancel('supervisor', active, 'Debtor asked for a settlement instead');
    expect(c.data.cancelRepaymentPlan.userErrors).toEqual([]);
    expect(c.data.cancelRepaymentPlan.plan.status).toBe('CANCELLED');
    expect(c.data.cancelRepaymentPlan.case.status).toBe('OPEN');
    // With the active plan gone a new one can be approved.
    const next = (await propose('northAgent', { caseId: H.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.plan.id;
    expect((await approve('admin', next)).data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
  });

  it('approving a plan supersedes the open promise; cancelling the plan later leaves it SUPERSEDED and the case OPEN', async () => {
    const I = await newCase();
    await promise('collector', { caseId: I.gid, amount: 10_000, promisedFor: '2026-12-10' });
    const planId = (await propose('collector', { caseId: I.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', planId);
    expect((await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: I.id } })).status).toBe('SUPERSEDED');
    const c = await cancel('supervisor', planId, 'Replaced');
    expect(c.data.cancelRepaymentPlan.case.status).toBe('OPEN');
    // A promise recorded after the cancellation makes the case PROMISED again.
    await promise('collector', { caseId: I.gid, amount: 10_000, promisedFor: '2026-12-10' });
    expect((await ledger(I.id)).status).toBe('PROMISED');
  });

  it('an instalment missed beyond its 5 grace days breaks the plan: MISSED, BROKEN, case BROKEN_PROMISE; re-running changes nothing', async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    const J = await newCase();
    const planId = (await propose('collector', { caseId: J.gid, kind: 'INSTALMENTS', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-10' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', planId);
    // 1 017 345 = 3 × 339 115: pay part of the first.
    await pay('collector', { caseId: J.gid, amount: 100_000 });
    await setClock('2026-12-15T02:00:00.000Z'); // due 12-10 + 5 days: still in grace
    // (Other tests' promises may break on these runs: only plans are counted here.)
    expect((await runChecks()).plansBroken).toBe(0);
    expect((await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: J.id } })).status).toBe('ACTIVE');
    await setClock('2026-12-16T02:00:00.000Z');
    expect((await runChecks()).plansBroken).toBe(1);
    const v = await version(J.id);
    expect(await runChecks()).toEqual({ promisesBroken: 0, plansBroken: 0, failed: 0 });
    expect(await version(J.id)).toBe(v);
    const read = await t.gql(tok.collector!, CASE_READ, { id: J.gid });
    const pl = read.data.node.repaymentPlans.nodes[0];
    expect(pl.status).toBe('BROKEN');
    expect(pl.instalments.map((i: any) => [i.status, i.paid.minorUnits])).toEqual([['MISSED', 100_000], ['DUE', 0], ['DUE', 0]]);
    expect(read.data.node.status).toBe('BROKEN_PROMISE');
    expect(read.data.node.overdue.minorUnits).toBe(917_345);
    expect(read.data.node.timeline.nodes[0].type).toBe('PLAN_BROKEN');
    // A later payment goes to the balance only: no open obligation is left.
    const later = await pay('collector', { caseId: J.gid, amount: 10_000 });
    expect(later.data.recordPayment.payment.allocations.map((a: any) => a.target)).toEqual(['BALANCE']);
    expect(later.data.recordPayment.case.status).toBe('BROKEN_PROMISE');
  });

  it('a promise paid in full before its date is KEPT and the case leaves PROMISED', async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    const K = await newCase();
    const p = (await promise('collector', { caseId: K.gid, amount: 30_000, promisedFor: '2026-12-05' })).data.recordPromiseToPay.promise.id;
    const r = await pay('collector', { caseId: K.gid, amount: 35_000 });
    expect(r.data.recordPayment.payment.allocations.map((a: any) => [a.target, a.amount.minorUnits])).toEqual([['PROMISE', 30_000], ['BALANCE', 5_000]]);
    // 35 000: fees 5 000, interest 12 345, principal 17 655.
    expect(fromPayload(r.data.recordPayment.case)).toEqual({ principal: 982_345, interest: 0, fees: 0, overdue: 982_345, credit: 0, status: 'OPEN', stage: 'EARLY_REMINDER' });
    const row = await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: K.id } });
    expect([row.status, row.paidAmount]).toEqual(['KEPT', 30_000n]);
    expect(p).toBe(gid('PromiseToPay', row.id));
    await setClock('2026-12-20T02:00:00.000Z');
    await runChecks();
    expect((await t.prisma.promiseToPay.findFirstOrThrow({ where: { caseId: K.id } })).status).toBe('KEPT');
    expect((await ledger(K.id)).status).toBe('OPEN');
  });
});

// ---------------------------------------------------------------- who may do what

describe('roles', () => {
  let N: Awaited<ReturnType<typeof newCase>>; // North's, assigned to northAgent
  let M: Awaited<ReturnType<typeof newCase>>; // the bank's, assigned to collector
  beforeAll(async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    N = await newCase({ agency: 'north', collector: 'northAgent' });
    M = await newCase();
  });

  it('payments: bank admin, supervisor and the assigned collector; agencies and the auditor are FORBIDDEN', async () => {
    const before = await snapshot(N.id);
    for (const who of ['northManager', 'northAgent', 'southAgent', 'auditor'] as const) forbidden(await pay(who, { caseId: N.gid, amount: 1_000 }));
    expect(await snapshot(N.id)).toEqual(before);
    for (const who of ['admin', 'supervisor', 'collector'] as const) {
      const r = await pay(who, { caseId: M.gid, amount: 1_000 });
      expect(r.data.recordPayment.userErrors).toEqual([]);
    }
    expect(await ledger(M.id)).toMatchObject({ fees: 2_000, overdue: 1_014_345 });
    // The bank records a payment on an agency's case too.
    expect((await pay('supervisor', { caseId: N.gid, amount: 1_000 })).data.recordPayment.userErrors).toEqual([]);
  });

  it('promises and proposals: every role but the auditor, on cases they see; another agency gets NOT_FOUND', async () => {
    forbidden(await promise('auditor', { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' }));
    forbidden(await propose('auditor', { caseId: N.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' }));
    const before = await snapshot(N.id);
    refused((await promise('southAgent', { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay, 'NOT_FOUND', ['caseId']);
    refused((await promise('southManager', { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay, 'NOT_FOUND', ['caseId']);
    refused((await propose('southManager', { caseId: N.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan, 'NOT_FOUND', ['caseId']);
    refused((await promise('northAgent2', { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay, 'NOT_FOUND', ['caseId']);
    refused((await promise('collector', { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay, 'NOT_FOUND', ['caseId']);
    expect(await snapshot(N.id)).toEqual(before);
    for (const who of ['northAgent', 'northManager', 'supervisor', 'admin'] as const) {
      expect((await promise(who, { caseId: N.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay.userErrors).toEqual([]);
      expect((await propose(who, { caseId: N.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-15' })).data.proposeRepaymentPlan.userErrors).toEqual([]);
    }
    expect((await promise('collector', { caseId: M.gid, amount: 1_000, promisedFor: '2026-12-10' })).data.recordPromiseToPay.userErrors).toEqual([]);
  });

  it('approving and rejecting: supervisors and admins only, never the proposer', async () => {
    const planId = (await propose('northAgent', { caseId: N.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-20' })).data.proposeRepaymentPlan.plan.id;
    const before = await snapshot(N.id);
    for (const who of ['collector', 'northManager', 'northAgent', 'southManager', 'auditor'] as const) {
      forbidden(await approve(who, planId));
      forbidden(await reject(who, planId, 'no'));
    }
    expect(await snapshot(N.id)).toEqual(before);
    const ownPlan = (await propose('admin', { caseId: N.gid, kind: 'DEFERRAL', firstDueDate: '2027-01-20' })).data.proposeRepaymentPlan.plan.id;
    const b2 = await snapshot(N.id);
    refused((await approve('admin', ownPlan)).data.approveRepaymentPlan, 'APPROVAL_REQUIRED', ['planId']);
    refused((await reject('admin', ownPlan, 'mine')).data.rejectRepaymentPlan, 'APPROVAL_REQUIRED', ['planId']);
    expect(await snapshot(N.id)).toEqual(b2);
    expect((await reject('supervisor', ownPlan, 'Duplicate of the agent\'s proposal')).data.rejectRepaymentPlan.plan.status).toBe('REJECTED');
    expect((await approve('admin', planId)).data.approveRepaymentPlan.plan.status).toBe('ACTIVE');
  });

  it('the auditor reads plans and payments but writes nothing', async () => {
    const r = await t.gql(tok.auditor!, CASE_READ, { id: N.gid });
    expect(r.errors).toBeUndefined();
    expect(r.data.node.repaymentPlans.nodes.length).toBeGreaterThan(0);
    expect(r.data.node.payments.totalCount).toBe(1);
    // South sees nothing of North's case, not even its plans.
    const south = await t.gql(tok.southManager!, CASE_READ, { id: N.gid });
    expect(south.data.node).toBeNull();
  });
});

// ---------------------------------------------------------------- idempotency

describe('idempotent payments', () => {
  beforeAll(async () => setClock('2026-11-28T02:00:00.000Z'));

  it('the same key with the same content returns the first payment (replayed); with other content it is DUPLICATE; nothing new is written', async () => {
    const L = await newCase();
    const input = { caseId: L.gid, amount: 12_345, receivedAt: '2026-11-28T01:00:00.000Z', channel: 'CASH', externalReference: 'R-77', idempotencyKey: 'idem-L-0001' };
    const other = await newCase();
    const hidden = await newCase({ collector: 'collector2' });
    const first = await pay('collector', input);
    expect(first.data.recordPayment).toMatchObject({ replayed: false, userErrors: [] });
    const before = await snapshot(L.id);
    expect(before.ledger.overdue).toBe(1_005_000);

    // Same content, receivedAt written in another offset: the same instant.
    const again = await pay('supervisor', { ...input, receivedAt: '2026-11-28T09:00:00.000+08:00' });
    expect(again.data.recordPayment.userErrors).toEqual([]);
    expect(again.data.recordPayment.replayed).toBe(true);
    expect(again.data.recordPayment.payment.id).toBe(first.data.recordPayment.payment.id);
    expect(fromPayload(again.data.recordPayment.case)).toEqual(before.ledger);
    expect(await snapshot(L.id)).toEqual(before);

    for (const over of [{ amount: 12_346 }, { channel: 'CARD' }, { externalReference: 'R-78' }, { receivedAt: '2026-11-28T01:00:01.000Z' }]) {
      refused((await pay('collector', { ...input, ...over })).data.recordPayment, 'DUPLICATE', ['idempotencyKey']);
    }
    // The same key on another case is another payment: DUPLICATE, even for a case the viewer cannot see.
    refused((await pay('collector', { ...input, caseId: other.gid })).data.recordPayment, 'DUPLICATE', ['idempotencyKey']);
    refused((await pay('collector2', { ...input, caseId: hidden.gid })).data.recordPayment, 'DUPLICATE', ['idempotencyKey']);
    // A viewer who cannot see the case the key was used on gets DUPLICATE too, never the payment.
    refused((await pay('collector2', input)).data.recordPayment, 'DUPLICATE', ['idempotencyKey']);
    expect(await snapshot(L.id)).toEqual(before);
  });
});

// ---------------------------------------------------------------- defects found while testing (now fixed)

describe('defects found while testing issue 6', () => {
  beforeAll(async () => setClock('2026-11-28T02:00:00.000Z'));

  // A settlement collects a reduced lump sum in full settlement of the debt. Paid, the plan is
  // COMPLETED, but the discount stays owed: overdue = discount, the case neither RESOLVED nor PAID.
  it('a paid settlement resolves the case: the discount is forgiven, on the record', async () => {
    const S = await newCase(); // 1 017 345
    const planId = (await propose('collector', { caseId: S.gid, kind: 'SETTLEMENT', totalAmount: 900_000, firstDueDate: '2026-12-15' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', planId);
    const r = await pay('collector', { caseId: S.gid, amount: 900_000 });
    expect(r.data.recordPayment.userErrors).toEqual([]);
    expect((await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: S.id } })).status).toBe('COMPLETED');
    expect(await ledger(S.id)).toMatchObject({ overdue: 0, stage: 'RESOLVED' });
  });

  // The promise takes the money first, so the instalments of the active plan are never paid in
  // the allocation; paid in full, the case is RESOLVED but its plan stays ACTIVE with DUE instalments.
  it('a case paid in full has no ACTIVE plan left', async () => {
    const R = await newCase();
    const planId = (await propose('collector', { caseId: R.gid, kind: 'INSTALMENTS', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-10' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', planId);
    await promise('collector', { caseId: R.gid, amount: 500_000, promisedFor: '2026-12-05' });
    await pay('collector', { caseId: R.gid, amount: 500_000 });
    const last = await pay('collector', { caseId: R.gid, amount: 517_345 });
    expect(last.data.recordPayment.case.stage).toBe('RESOLVED');
    expect((await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: R.id } })).status).not.toBe('ACTIVE');
  });

  it('the daily checks skip ended cases instead of failing on them (a RESOLVED case with a stale ACTIVE plan)', async () => {
    await setClock('2026-11-28T02:00:00.000Z');
    const Q = await newCase();
    const planId = (await propose('collector', { caseId: Q.gid, kind: 'INSTALMENTS', instalmentCount: 3, frequency: 'MONTHLY', firstDueDate: '2026-12-10' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', planId);
    await promise('collector', { caseId: Q.gid, amount: 500_000, promisedFor: '2026-12-05' });
    await pay('collector', { caseId: Q.gid, amount: 500_000 });
    expect((await pay('collector', { caseId: Q.gid, amount: 517_345 })).data.recordPayment.case.stage).toBe('RESOLVED');
    // Another case whose plan is genuinely missed must still be broken by the same run.
    const P = await newCase();
    const other = (await propose('collector', { caseId: P.gid, kind: 'DEFERRAL', firstDueDate: '2026-12-10' })).data.proposeRepaymentPlan.plan.id;
    await approve('supervisor', other);
    const before = await snapshot(Q.id);
    await setClock('2027-03-01T02:00:00.000Z');
    const result = await runChecks();
    expect(result.plansBroken).toBeGreaterThanOrEqual(1);
    expect((await t.prisma.repaymentPlan.findFirstOrThrow({ where: { caseId: P.id } })).status).toBe('BROKEN');
    expect((await snapshot(Q.id)).version).toBe(before.version);
    expect((await ledger(Q.id)).stage).toBe('RESOLVED');
  });
});
