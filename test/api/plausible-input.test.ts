/**
 * Input that is plausible (issue 11, point 7): dates bounded by the domain and every free text
 * limited. Each refusal is a VALIDATION user error naming the field, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { MAX_TEXT_LENGTH } from '../../src/modules/common/text-limits.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

const ERR = 'userErrors { code field message }';
const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } ${ERR} } }`;
const PROPOSE = `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { plan { id } ${ERR} } }`;
const OPEN = `mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } ${ERR} } }`;

async function everything() {
  const p = t.prisma;
  return {
    cases: await p.case.count(),
    versions: (await p.case.findMany({ select: { version: true }, orderBy: { id: 'asc' } })).map((c) => c.version),
    payments: await p.payment.count(),
    plans: await p.repaymentPlan.count(),
    attempts: await p.contactAttempt.count(),
    audits: await p.auditEvent.count(),
    events: await p.caseEvent.count(),
  };
}

function refused(r: any, name: string, field: string[], message?: RegExp) {
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  expect(r.data[name].userErrors).toHaveLength(1);
  expect(r.data[name].userErrors[0]).toMatchObject({ code: 'VALIDATION', field });
  if (message) expect(r.data[name].userErrors[0].message).toMatch(message);
}

describe('dates bounded by the domain', () => {
  it('a payment received in 1900, or before the account was opened, is refused; on the opening day it is taken', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
    await t.prisma.cardAccount.update({ where: { id: c.accountId }, data: { openedOn: new Date('2019-03-01') } });
    const input = { caseId: encodeGlobalID('Case', c.id), amount: 10_000, currency: 'CNY', channel: 'BANK_TRANSFER' };
    const before = await everything();
    refused(await t.gql(tok.collector!, PAY, { input: { ...input, receivedAt: '1900-01-01T00:00:00.000Z', idempotencyKey: 'plausible-1900' } }), 'recordPayment', ['receivedAt'], /before the account was opened \(2019-03-01\)/);
    refused(await t.gql(tok.collector!, PAY, { input: { ...input, receivedAt: '2019-02-28T12:00:00.000Z', idempotencyKey: 'plausible-2019' } }), 'recordPayment', ['receivedAt']);
    // A day ahead (the bank's next value date) is more than the clock skew allowed: refused too.
    refused(await t.gql(tok.collector!, PAY, { input: { ...input, receivedAt: '2026-11-29T02:00:00.000Z', idempotencyKey: 'plausible-next-day' } }), 'recordPayment', ['receivedAt']);
    expect(await everything()).toEqual(before);
    const ok = await t.gql(tok.collector!, PAY, { input: { ...input, receivedAt: '2019-03-01T00:00:00.000Z', idempotencyKey: 'plausible-opening' } });
    expect(ok.data.recordPayment.userErrors).toEqual([]);
  });

  it('without an opening date, a payment before the first missed due date is refused', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id, daysPastDue: 30 });
    const before = await everything();
    refused(
      await t.gql(tok.collector!, PAY, { input: { caseId: encodeGlobalID('Case', c.id), amount: 10_000, currency: 'CNY', channel: 'CASH', receivedAt: '2025-01-01T00:00:00.000Z', idempotencyKey: 'plausible-before-due' } }),
      'recordPayment',
      ['receivedAt'],
      /first missed due date/,
    );
    expect(await everything()).toEqual(before);
  });

  it('a plan starting in 2100, or more than a year ahead, is refused', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
    const input = { caseId: encodeGlobalID('Case', c.id), kind: 'INSTALMENTS', currency: 'CNY', instalmentCount: 3, frequency: 'MONTHLY' };
    const before = await everything();
    refused(await t.gql(tok.collector!, PROPOSE, { input: { ...input, firstDueDate: '2100-01-01' } }), 'proposeRepaymentPlan', ['firstDueDate']);
    refused(await t.gql(tok.collector!, PROPOSE, { input: { ...input, firstDueDate: '2027-11-30' } }), 'proposeRepaymentPlan', ['firstDueDate'], /within 365 days/);
    expect(await everything()).toEqual(before);
    const ok = await t.gql(tok.collector!, PROPOSE, { input: { ...input, firstDueDate: '2027-11-28' } });
    expect(ok.data.proposeRepaymentPlan.userErrors).toEqual([]);
  });

  it('a due date on or before the account was opened, or an opening in the future, is refused', async () => {
    const row = (over: Record<string, unknown>) => ({
      account: { externalRef: `PLAUS-${Math.random()}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY', openedOn: '2026-10-20' },
      debtor: { externalRef: `PLAUS-CUS-${Math.random()}`, fullName: '王五', nationalId: '110105198501011234', contactPoints: [], addresses: [] },
      dueDate: '2026-10-15',
      principal: 800_000,
      interest: 0,
      fees: 0,
      ...over,
    });
    const before = await everything();
    refused(await t.gql(tok.supervisor!, OPEN, { input: row({}) }), 'openCase', ['dueDate'], /not after the account was opened \(2026-10-20\)/);
    const future = row({});
    future.account.openedOn = '2026-12-01';
    refused(await t.gql(tok.supervisor!, OPEN, { input: future }), 'openCase', ['account.openedOn']);
    expect(await everything()).toEqual(before);
  });
});

describe('every free text has a length limit', () => {
  it('a 1 MiB external reference is refused, naming the field; so is one over its own limit of 100', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
    const input = { caseId: encodeGlobalID('Case', c.id), amount: 10_000, currency: 'CNY', channel: 'BANK_TRANSFER', receivedAt: '2026-11-28T01:00:00.000Z' };
    const before = await everything();
    refused(await t.gql(tok.collector!, PAY, { input: { ...input, externalReference: 'x'.repeat(1 << 20), idempotencyKey: 'plausible-mib' } }), 'recordPayment', ['externalReference'], /at most 100 characters/);
    refused(await t.gql(tok.collector!, PAY, { input: { ...input, externalReference: 'x'.repeat(101), idempotencyKey: 'plausible-101' } }), 'recordPayment', ['externalReference']);
    expect(await everything()).toEqual(before);
  });

  it('the shared limit holds in every module: a note, notes, a reason, a purpose; a query filter is BAD_USER_INPUT', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
    const caseId = encodeGlobalID('Case', c.id);
    const long = 'x'.repeat(MAX_TEXT_LENGTH + 1);
    const before = await everything();
    refused(
      await t.gql(tok.collector!, `mutation($input: ProposeRepaymentPlanInput!) { proposeRepaymentPlan(input: $input) { ${ERR} } }`, { input: { caseId, kind: 'DEFERRAL', currency: 'CNY', firstDueDate: '2026-12-10', note: long } }),
      'proposeRepaymentPlan',
      ['note'],
      new RegExp(`at most ${MAX_TEXT_LENGTH} characters`),
    );
    refused(await t.gql(tok.supervisor!, `mutation($input: CloseCaseInput!) { closeCase(input: $input) { ${ERR} } }`, { input: { caseId, reason: 'RETURNED_TO_BANK', note: long } }), 'closeCase', ['note']);
    const cp = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId } });
    refused(
      await t.gql(tok.collector!, `mutation($input: LogContactAttemptInput!) { logContactAttempt(input: $input) { ${ERR} } }`, {
        input: { caseId, contactPointId: encodeGlobalID('ContactPoint', cp.id), channel: 'CALL', outcome: 'NO_ANSWER', notes: long },
      }),
      'logContactAttempt',
      ['notes'],
    );
    // A nested input: an address line of a new case.
    refused(
      await t.gql(tok.supervisor!, OPEN, {
        input: {
          account: { externalRef: 'PLAUS-LONG', cardLast4: '4321', product: 'Gold', creditLimit: 1, currency: 'CNY' },
          debtor: { externalRef: 'PLAUS-LONG-CUS', fullName: '王五', nationalId: '110105198501011234', addresses: [{ kind: 'HOME', line1: 'x'.repeat(201), city: '北京', region: '北京' }] },
          dueDate: '2026-10-15',
          principal: 1,
          interest: 0,
          fees: 0,
        },
      }),
      'openCase',
      ['debtor', 'addresses', '0', 'line1'],
    );
    expect(await everything()).toEqual(before);
    const q = await t.gql(tok.supervisor!, `query($f: CaseFilter) { cases(first: 5, filter: $f) { totalCount } }`, { f: { search: 'x'.repeat(201) } });
    expect(q.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: ['filter', 'search'] });
  });
});
