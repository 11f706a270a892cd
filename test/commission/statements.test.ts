/**
 * Issue 16 point 5, end to end over GraphQL: a fee schedule, payments and reversals in and out of
 * the agency's era, the statement of March issued and frozen, a reversal in April taken back in
 * April's statement, a payment booked just after midnight on 1 April (bank's zone) counted in
 * April, a payment after the recall not the agency's; scope (an agency reads its own statements
 * only); a disputed line resolved by the bank with an adjustment; the monthly job.
 *
 * North's schedule: 15% for cases placed in M2, 10% otherwise, at most 100 500 per case a month.
 *   case A (M2 at placement): 12 345 → 1 852 (1 851.75), 30 → 4 (4.5, half-even), 50 000 reversed
 *   in March → 0, 20 000 → 3 000 (reversed in April: −3 000 in April);
 *   case B (M1): 1 000 000 → 100 000, 10 000 → 1 000 capped to 500;
 *   case C (M2): 1 000 → 150; recalled; 2 000 afterwards is the bank's.
 *   March: fee 105 506, collected 1 043 375. April: 7 000 on A booked 1 April 00:30 → 1 050; −3 000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCareWorld, gid, refusedWith, type CareWorld, type Who } from '../care/support.ts';
import { issueDueCommissionStatements } from '../../src/modules/commission/service.ts';
import { findJob } from '../../src/jobs/index.ts';

let w: CareWorld;
const ERR = 'userErrors { code field message }';
const SET = `mutation($input: SetCommissionScheduleInput!) { setCommissionSchedule(input: $input) { schedule { id version effectiveFrom rates { bucket rateBps } defaultRateBps caseMonthlyCap { minorUnits } } ${ERR} } }`;
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } case { version } ${ERR} } }`;
const REVERSE = `mutation($input: ReversePaymentInput!) { reversePayment(input: $input) { ${ERR} } }`;
const RECALL = `mutation($input: RecallCaseInput!) { recallCase(input: $input) { ${ERR} } }`;
const ISSUE = `mutation($input: IssueCommissionStatementInput!) { issueCommissionStatement(input: $input) { statement { id period collected { minorUnits } fee { minorUnits } total { minorUnits } } ${ERR} } }`;
const LINE = 'id seq kind basis { minorUnits } rateBps uncappedFee { minorUnits } fee { minorUnits } note case { id } payment { id }';
const STATEMENT = `query($id: ID!) { node(id: $id) { ... on CommissionStatement { id period currency collected { minorUnits } fee { minorUnits } adjustments { minorUnits } total { minorUnits } issuedByJob lines(first: 50) { totalCount nodes { ${LINE} } } } } }`;
const LIST = `query { commissionStatements(first: 20) { totalCount nodes { id period agency { id } } } }`;
const DISPUTE = `mutation($input: DisputeCommissionLineInput!) { disputeCommissionLine(input: $input) { dispute { id status claimedFee { minorUnits } } ${ERR} } }`;
const RESOLVE = `mutation($input: ResolveCommissionDisputeInput!) { resolveCommissionDispute(input: $input) { dispute { id status adjustmentLine { seq kind fee { minorUnits } adjustsLine { seq } } } ${ERR} } }`;
const PREVIEW = `query($a: ID!, $p: String!) { commissionStatementPreview(agencyId: $a, currency: CNY, period: $p) { collected { minorUnits } fee { minorUnits } lineCount } }`;

let keyNo = 0;
async function pay(who: Who, caseGid: string, amount: number) {
  const r = await w.gql(who, PAY, { input: { caseId: caseGid, amount, currency: 'CNY', receivedAt: w.t.clock.now().toISOString(), channel: 'BANK_TRANSFER', idempotencyKey: `commission-test-${++keyNo}` } });
  expect(r.errors ?? r.data.recordPayment.userErrors).toEqual([]);
  w.t.clock.advance(60_000); // one booking a minute: the order of the caps is the order of booking
  return r.data.recordPayment.payment.id as string;
}
async function reverse(caseId: string, paymentGid: string) {
  const c = await w.t.prisma.case.findUniqueOrThrow({ where: { id: caseId } });
  const r = await w.gql('supervisor', REVERSE, { input: { paymentId: paymentGid, reason: 'bounced transfer', expectedVersion: c.version } });
  expect(r.data.reversePayment.userErrors).toEqual([]);
  w.t.clock.advance(60_000);
}
const minor = (m: { minorUnits: number }) => m.minorUnits;
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

let A: Awaited<ReturnType<CareWorld['newCase']>>;
let B: typeof A;
let C: typeof A;
let lateReversed: string;
let marchId: string;

beforeAll(async () => {
  w = await createCareWorld({ now: '2026-03-10T02:00:00.000Z' });
  A = await w.newCase({ agency: 'north', collector: 'northAgent', daysPastDue: 40 });
  B = await w.newCase({ agency: 'north', collector: 'northAgent', daysPastDue: 10 });
  C = await w.newCase({ agency: 'north', collector: 'northAgent', daysPastDue: 40 });
});
afterAll(async () => w?.close());

describe('fee schedules', () => {
  it('bank admins add versions; checked at the edge; agencies and supervisors may not', async () => {
    const input = { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', effectiveFrom: '2026-03-01', rates: [{ bucket: 'M2', rateBps: 1500 }], defaultRateBps: 1000, caseMonthlyCap: 100_500, visitFee: 0, note: 'contract 2026' };
    refusedWith((await w.gql('admin', SET, { input: { ...input, defaultRateBps: 10_001 } })).data.setCommissionSchedule, 'VALIDATION', ['defaultRateBps']);
    refusedWith((await w.gql('admin', SET, { input: { ...input, caseMonthlyCap: 0 } })).data.setCommissionSchedule, 'VALIDATION', ['caseMonthlyCap']);
    refusedWith((await w.gql('admin', SET, { input: { ...input, rates: [{ placedFrom: '2026-02-01', placedBefore: '2026-01-01', rateBps: 1 }] } })).data.setCommissionSchedule, 'VALIDATION', ['rates', '0', 'placedBefore']);
    expect((await w.gql('northManager', SET, { input })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await w.gql('supervisor', SET, { input })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ok = await w.gql('admin', SET, { input });
    expect(ok.data.setCommissionSchedule).toMatchObject({ userErrors: [], schedule: { version: 1, effectiveFrom: '2026-03-01', defaultRateBps: 1000, caseMonthlyCap: { minorUnits: 100_500 } } });
    refusedWith((await w.gql('admin', SET, { input })).data.setCommissionSchedule, 'VALIDATION', ['effectiveFrom']);
    const south = await w.gql('admin', SET, { input: { ...input, agencyId: gid('Agency', w.s.south.id), defaultRateBps: 500 } });
    expect(south.data.setCommissionSchedule.userErrors).toEqual([]);
    expect(await w.t.prisma.auditEvent.count({ where: { action: 'commission.setSchedule' } })).toBe(2);
  });
});

describe('the statement of March', () => {
  it('March: payments, a same-month reversal, a cap, a recall; the preview shows it so far', async () => {
    await pay('supervisor', A.gid, 12_345);
    await pay('supervisor', A.gid, 30);
    const bounced = await pay('supervisor', A.gid, 50_000);
    await reverse(A.id, bounced);
    lateReversed = await pay('supervisor', A.gid, 20_000);
    await pay('supervisor', B.gid, 1_000_000);
    await pay('supervisor', B.gid, 10_000);
    await pay('supervisor', C.gid, 1_000);
    expect((await w.gql('supervisor', RECALL, { input: { caseId: C.gid, reason: 'PERFORMANCE' } })).data.recallCase.userErrors).toEqual([]);
    await pay('admin', C.gid, 2_000); // after the recall: the bank's era
    const preview = await w.gql('supervisor', PREVIEW, { a: gid('Agency', w.s.north.id), p: '2026-03' });
    expect(preview.data.commissionStatementPreview).toEqual({ collected: { minorUnits: 1_043_375 }, fee: { minorUnits: 105_506 }, lineCount: 7 });
    expect((await w.gql('northManager', PREVIEW, { a: gid('Agency', w.s.north.id), p: '2026-03' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('is not issued before March has ended in the bank’s zone', async () => {
    await w.setClock('2026-03-31T15:59:00.000Z'); // 23:59 in Shanghai
    refusedWith((await w.gql('admin', ISSUE, { input: { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', period: '2026-03' } })).data.issueCommissionStatement, 'INVALID_TRANSITION', ['period']);
  });

  it('a payment booked at 00:30 on 1 April (Shanghai) is April’s; a reversal in April of a March payment too', async () => {
    await w.setClock('2026-03-31T16:30:00.000Z');
    await pay('supervisor', A.gid, 7_000);
    await reverse(A.id, lateReversed);
  });

  it('issued exactly: lines traceable to payments, half-even per line, caps, the recall', async () => {
    await w.setClock('2026-04-02T02:00:00.000Z');
    const r = await w.gql('admin', ISSUE, { input: { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', period: '2026-03' } });
    expect(r.data.issueCommissionStatement.userErrors).toEqual([]);
    expect(r.data.issueCommissionStatement.statement).toMatchObject({ period: '2026-03', collected: { minorUnits: 1_043_375 }, fee: { minorUnits: 105_506 }, total: { minorUnits: 105_506 } });
    marchId = r.data.issueCommissionStatement.statement.id;
    const s = (await w.gql('admin', STATEMENT, { id: marchId })).data.node;
    expect(s.issuedByJob).toBe(false);
    expect(s.lines.nodes.map((l: any) => [l.seq, l.kind, minor(l.basis), l.rateBps, minor(l.uncappedFee), minor(l.fee), l.case.id])).toEqual([
      [1, 'COLLECTION', 12_345, 1500, 1_852, 1_852, A.gid],
      [2, 'COLLECTION', 30, 1500, 4, 4, A.gid],
      [3, 'COLLECTION', 50_000, 1500, 7_500, 0, A.gid],
      [4, 'COLLECTION', 20_000, 1500, 3_000, 3_000, A.gid],
      [5, 'COLLECTION', 1_000_000, 1000, 100_000, 100_000, B.gid],
      [6, 'COLLECTION', 10_000, 1000, 1_000, 500, B.gid],
      [7, 'COLLECTION', 1_000, 1500, 150, 150, C.gid],
    ]);
    expect(s.lines.nodes[2].note).toContain('reversed in the same month');
    expect(s.lines.nodes[5].note).toContain('case cap 100500');
    // Every line names its payment; the sum of the lines is the statement.
    const payments = await w.t.prisma.payment.findMany({ where: { agencyId: w.s.north.id, createdAt: { lt: new Date('2026-03-31T16:00:00Z') } } });
    expect(new Set(s.lines.nodes.map((l: any) => l.payment.id))).toEqual(new Set(payments.map((p) => gid('Payment', p.id))));
    expect(s.lines.nodes.reduce((a: number, l: any) => a + minor(l.fee), 0)).toBe(105_506);
    expect(await w.t.prisma.auditEvent.count({ where: { action: 'commission.issueStatement', entityId: rawId(marchId) } })).toBe(1);
  });

  it('frozen: issued once (DUPLICATE); the database refuses a change to a line; a later version cannot reach back', async () => {
    refusedWith((await w.gql('supervisor', ISSUE, { input: { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', period: '2026-03' } })).data.issueCommissionStatement, 'DUPLICATE', ['period']);
    const line = await w.t.prisma.commissionLine.findFirstOrThrow({ where: { statementId: rawId(marchId), kind: 'COLLECTION' } });
    await expect(w.t.prisma.commissionLine.update({ where: { id: line.id }, data: { fee: 1n } })).rejects.toThrow();
    await expect(w.t.prisma.commissionLine.delete({ where: { id: line.id } })).rejects.toThrow();
    const set = await w.gql('admin', SET, { input: { agencyId: gid('Agency', w.s.north.id), currency: 'CNY', effectiveFrom: '2026-03-20', rates: [], defaultRateBps: 5000 } });
    refusedWith(set.data.setCommissionSchedule, 'VALIDATION', ['effectiveFrom']);
  });
});

describe('scope: an agency reads its own statements only', () => {
  it('north’s manager sees north’s; south’s sees none of them, by any path; collectors none at all', async () => {
    const north = await w.gql('northManager', LIST);
    expect(north.data.commissionStatements.nodes.map((n: any) => n.id)).toEqual([marchId]);
    const south = await w.gql('southManager', LIST);
    expect(south.data.commissionStatements).toEqual({ totalCount: 0, nodes: [] });
    expect((await w.gql('southManager', STATEMENT, { id: marchId })).data.node).toBeNull();
    const lineId = gid('CommissionLine', (await w.t.prisma.commissionLine.findFirstOrThrow({ where: { statementId: rawId(marchId), seq: 1 } })).id);
    expect((await w.gql('southManager', `query($id: ID!) { node(id: $id) { id } }`, { id: lineId })).data.node).toBeNull();
    expect((await w.gql('northAgent', LIST)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await w.gql('collector', LIST)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await w.gql('auditor', LIST)).data.commissionStatements.totalCount).toBe(1);
  });

  it('a line of a case since recalled: the agency sees the line and its fee, not the case', async () => {
    const lines = (await w.gql('northManager', STATEMENT, { id: marchId })).data.node.lines.nodes;
    expect(lines[6]).toMatchObject({ seq: 7, fee: { minorUnits: 150 }, case: null, payment: null });
    expect(lines[0].case).toEqual({ id: A.gid });
  });
});

describe('disputes', () => {
  let lineGid: string;
  let disputeId: string;
  it('the agency disputes a line of its own statement; another agency cannot; one open dispute a line', async () => {
    lineGid = gid('CommissionLine', (await w.t.prisma.commissionLine.findFirstOrThrow({ where: { statementId: rawId(marchId), seq: 6 } })).id);
    refusedWith((await w.gql('southManager', DISPUTE, { input: { lineId: lineGid, reason: 'ours' } })).data.disputeCommissionLine, 'NOT_FOUND', ['lineId']);
    refusedWith((await w.gql('northManager', DISPUTE, { input: { lineId: lineGid, reason: '  ' } })).data.disputeCommissionLine, 'VALIDATION', ['reason']);
    expect((await w.gql('admin', DISPUTE, { input: { lineId: lineGid, reason: 'x' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const r = await w.gql('northManager', DISPUTE, { input: { lineId: lineGid, reason: 'The cap was agreed at 101 000', claimedFee: 1_000 } });
    expect(r.data.disputeCommissionLine).toMatchObject({ userErrors: [], dispute: { status: 'OPEN', claimedFee: { minorUnits: 1_000 } } });
    disputeId = r.data.disputeCommissionLine.dispute.id;
    refusedWith((await w.gql('northManager', DISPUTE, { input: { lineId: lineGid, reason: 'again' } })).data.disputeCommissionLine, 'INVALID_TRANSITION', ['lineId']);
  });

  it('the bank upholds it with an adjustment line: the issued fee stays, the total moves; audited; decided once', async () => {
    expect((await w.gql('northManager', RESOLVE, { input: { disputeId, upheld: true, adjustment: 500, note: 'x' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    refusedWith((await w.gql('admin', RESOLVE, { input: { disputeId, upheld: true, note: 'agreed' } })).data.resolveCommissionDispute, 'VALIDATION', ['adjustment']);
    const r = await w.gql('admin', RESOLVE, { input: { disputeId, upheld: true, adjustment: 500, note: 'The addendum of February says 101 000' } });
    expect(r.data.resolveCommissionDispute).toMatchObject({ userErrors: [], dispute: { status: 'UPHELD', adjustmentLine: { seq: 8, kind: 'ADJUSTMENT', fee: { minorUnits: 500 }, adjustsLine: { seq: 6 } } } });
    const s = (await w.gql('northManager', STATEMENT, { id: marchId })).data.node;
    expect(s).toMatchObject({ fee: { minorUnits: 105_506 }, adjustments: { minorUnits: 500 }, total: { minorUnits: 106_006 } });
    expect(s.lines.totalCount).toBe(8);
    const audit = await w.t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'commission.resolveDispute' } });
    expect(audit.data).toMatchObject({ upheld: true, adjustment: 500 });
    refusedWith((await w.gql('supervisor', RESOLVE, { input: { disputeId, upheld: false, note: 'no' } })).data.resolveCommissionDispute, 'INVALID_TRANSITION', ['disputeId']);
  });
});

describe('the monthly job', () => {
  it('on 1 May issues April for every agency with a schedule: the late reversal taken back, the 00:30 payment counted; a re-run skips', async () => {
    expect(findJob('commission-statements')?.everyMs).toBe(3_600_000);
    await w.setClock('2026-05-01T01:00:00.000Z');
    expect(await issueDueCommissionStatements({ prisma: w.t.prisma, clock: w.t.clock })).toEqual({ period: '2026-04', issued: 2, skipped: 0, failed: 0 });
    expect(await issueDueCommissionStatements({ prisma: w.t.prisma, clock: w.t.clock })).toEqual({ period: '2026-04', issued: 0, skipped: 2, failed: 0 });
    const april = await w.t.prisma.commissionStatement.findFirstOrThrow({ where: { agencyId: w.s.north.id, period: '2026-04' }, include: { lines: { orderBy: { seq: 'asc' } } } });
    expect(april.issuedById).toBeNull();
    expect(april.lines.map((l) => [l.kind, l.basisAmount, l.fee])).toEqual([
      ['COLLECTION', 7_000n, 1_050n],
      ['REVERSAL', -20_000n, -3_000n],
    ]);
    expect([april.feeAmount, april.collectedAmount]).toEqual([-1_950n, -13_000n]);
  });
});
