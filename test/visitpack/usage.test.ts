/**
 * Issue 18, point 1: card usage at intake. Statements and transactions are taken with the case
 * (openCase, importCases, the JSONL import), bounded (12, 200: LIMIT_EXCEEDED beyond, nothing of the
 * row kept), validated (dates, exact minor units), kept per account (what an intake sends replaces
 * what was kept) and read as `CardAccount.statements` / `.transactions`, scoped like the case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { jsonRowErrors } from '../../src/cli/import.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

const statement = (month: number, over: Record<string, unknown> = {}) => ({
  periodStart: `2026-${String(month).padStart(2, '0')}-01`,
  periodEnd: `2026-${String(month).padStart(2, '0')}-28`,
  statementBalance: 812_345 + month,
  minimumDue: 81_234,
  amountPaid: month < 9 ? 81_234 : 0,
  dueDate: `2026-${String(month + 1).padStart(2, '0')}-15`,
  ...over,
});
const txn = (i: number, over: Record<string, unknown> = {}) => ({
  postedOn: `2026-09-${String(1 + (i % 28)).padStart(2, '0')}`,
  merchantCategory: i % 2 ? 'Grocery stores' : 'Restaurants',
  merchantName: i % 3 ? `Shop ${i}` : null,
  amount: 1_234 * (i + 1),
  ...over,
});

const row = (n: number, over: Record<string, unknown> = {}) => ({
  account: { externalRef: `USG-${n}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' },
  debtor: {
    externalRef: `USG-CUS-${n}`,
    fullName: `王${n}`,
    nationalId: `11010519850101${String(2000 + n).slice(-4)}`,
    contactPoints: [{ kind: 'MOBILE', value: `1391234${String(n).padStart(4, '0')}` }],
    addresses: [{ kind: 'HOME', line1: `${n} 长安街`, city: '北京', region: '北京' }],
  },
  dueDate: '2026-10-15',
  principal: 800_000,
  interest: 20_000,
  fees: 5_000,
  ...over,
});

const OPEN = `mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id account { id } } userErrors { code field message } } }`;
const IMPORT = `mutation($input: ImportCasesInput!) { importCases(input: $input) { created updated unchanged rejected results { index status caseId errors { code field message } } userErrors { code } } }`;
const USAGE = `query($id: ID!) { node(id: $id) { ... on Case { account {
  statements(first: 20) { totalCount nodes { periodStart periodEnd statementBalance { minorUnits currency formatted } minimumDue { minorUnits } amountPaid { minorUnits } dueDate } }
  transactions(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { postedOn merchantCategory merchantName amount { minorUnits currency } } }
} } } }`;
const ACCOUNT = `query($id: ID!) { node(id: $id) { ... on CardAccount { statements(first: 5) { totalCount } transactions(first: 5) { totalCount } } } }`;

describe('card usage at intake', () => {
  let caseId: string;
  let accountId: string;

  it('openCase keeps statements and transactions, exact in the account currency, newest first', async () => {
    const r = await t.gql(tok.supervisor!, OPEN, { input: row(1, { statements: [statement(8), statement(9), statement(10)], transactions: Array.from({ length: 150 }, (_, i) => txn(i)) }) });
    expect(r.data.openCase.userErrors).toEqual([]);
    caseId = r.data.openCase.case.id;
    accountId = r.data.openCase.case.account.id;
    const u = await t.gql(tok.supervisor!, USAGE, { id: caseId });
    const acc = u.data.node.account;
    expect(acc.statements.totalCount).toBe(3);
    expect(acc.statements.nodes.map((n: any) => n.periodEnd)).toEqual(['2026-10-28', '2026-09-28', '2026-08-28']);
    expect(acc.statements.nodes[0].statementBalance).toEqual({ minorUnits: 812_355, currency: 'CNY', formatted: '¥8,123.55' });
    expect(acc.statements.nodes[2].amountPaid.minorUnits).toBe(81_234);
    expect(acc.transactions.totalCount).toBe(150);
    expect(acc.transactions.pageInfo.hasNextPage).toBe(true);
    expect(acc.transactions.nodes).toHaveLength(100);
    expect(acc.transactions.nodes[0].postedOn).toBe('2026-09-28');
    const sum = (await t.prisma.cardTransaction.findMany({ where: { account: { externalRef: 'USG-1' } } })).reduce((a, x) => a + x.amount, 0n);
    expect(sum).toBe(BigInt(Array.from({ length: 150 }, (_, i) => 1_234 * (i + 1)).reduce((a, b) => a + b, 0)));
  });

  it('more than 12 statements or 200 transactions is LIMIT_EXCEEDED and nothing of the row is kept', async () => {
    const before = await t.prisma.case.count();
    const many = await t.gql(tok.supervisor!, OPEN, { input: row(2, { statements: Array.from({ length: 13 }, (_, i) => statement(1 + (i % 9), { periodEnd: `2026-0${1 + (i % 9)}-${10 + i}` })) }) });
    expect(many.data.openCase.userErrors[0]).toMatchObject({ code: 'LIMIT_EXCEEDED', field: ['statements'] });
    const txns = await t.gql(tok.supervisor!, OPEN, { input: row(2, { transactions: Array.from({ length: 201 }, (_, i) => txn(i)) }) });
    expect(txns.data.openCase.userErrors[0]).toMatchObject({ code: 'LIMIT_EXCEEDED', field: ['transactions'] });
    expect(await t.prisma.case.count()).toBe(before);
    expect(await t.prisma.cardAccount.count({ where: { externalRef: 'USG-2' } })).toBe(0);
    // Exactly at the bounds is taken.
    const ok = await t.gql(tok.supervisor!, OPEN, { input: row(2, { statements: Array.from({ length: 12 }, (_, i) => statement(1, { periodStart: `2025-${String(i + 1).padStart(2, '0')}-01`, periodEnd: `2025-${String(i + 1).padStart(2, '0')}-20`, dueDate: `2025-${String(i + 1).padStart(2, '0')}-27` })), transactions: Array.from({ length: 200 }, (_, i) => txn(i)) }) });
    expect(ok.data.openCase.userErrors).toEqual([]);
    expect(await t.prisma.cardStatement.count({ where: { account: { externalRef: 'USG-2' } } })).toBe(12);
  });

  it('dates are bounded and amounts exact: each fault is named', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ statements: [statement(10, { periodEnd: '2026-12-20', dueDate: '2027-01-10' })] }, 'statements.0.periodEnd', 'future'],
      [{ statements: [statement(10, { periodStart: '2026-10-29' })] }, 'statements.0.periodEnd', 'before it starts'],
      [{ statements: [statement(10, { dueDate: '2026-10-20' })] }, 'statements.0.dueDate', 'not after'],
      [{ statements: [statement(10, { periodStart: '2020-01-01', periodEnd: '2020-01-28', dueDate: '2020-02-15' })] }, 'statements.0.periodStart', 'years ago'],
      [{ statements: [statement(10), statement(10)] }, 'statements.1.periodEnd', 'two statements'],
      [{ statements: [statement(10, { minimumDue: -1 })] }, 'statements.0.minimumDue', 'minor units'],
      [{ statements: [statement(10, { minimumDue: 999_999_999 })] }, 'statements.0.minimumDue', 'above the statement balance'],
      [{ transactions: [txn(1, { postedOn: '2026-11-29' })] }, 'transactions.0.postedOn', 'future'],
      [{ transactions: [txn(1, { amount: 0 })] }, 'transactions.0.amount', 'zero'],
      [{ transactions: [txn(1, { merchantCategory: '  ' })] }, 'transactions.0.merchantCategory', 'required'],
    ];
    for (const [over, field, words] of cases) {
      const r = await t.gql(tok.supervisor!, IMPORT, { input: { rows: [row(3, over)] } });
      expect(r.data.importCases.rejected, field).toBe(1);
      const err = r.data.importCases.results[0].errors.find((e: any) => e.field?.[0] === field);
      expect(err, `${field}: ${JSON.stringify(r.data.importCases.results[0].errors)}`).toBeDefined();
      expect(err.message).toContain(words);
    }
    // GraphQL itself refuses a fraction of a minor unit (SafeInt).
    const frac = await t.gql(tok.supervisor!, IMPORT, { input: { rows: [row(3, { transactions: [txn(1, { amount: 12.5 })] })] } });
    expect(frac.errors?.[0]?.message).toMatch(/SafeInt|integer/i);
    const badDay = await t.gql(tok.supervisor!, IMPORT, { input: { rows: [row(3, { transactions: [txn(1, { postedOn: '2026-02-30' })] })] } });
    expect(badDay.errors?.[0]?.message).toMatch(/date/i);
    expect(await t.prisma.cardAccount.count({ where: { externalRef: 'USG-3' } })).toBe(0);
  });

  it('an import re-sending the account replaces the usage kept (a refund is negative); omitting it keeps it', async () => {
    const r = await t.gql(tok.supervisor!, IMPORT, { input: { rows: [row(1, { statements: [statement(10, { statementBalance: 700_000 })], transactions: [txn(1, { amount: -5_000, merchantName: 'Refund' })] })] } });
    expect(r.data.importCases.unchanged).toBe(1);
    const u = await t.gql(tok.supervisor!, USAGE, { id: caseId });
    expect(u.data.node.account.statements.totalCount).toBe(1);
    expect(u.data.node.account.statements.nodes[0].statementBalance.minorUnits).toBe(700_000);
    expect(u.data.node.account.transactions.nodes).toEqual([{ postedOn: '2026-09-02', merchantCategory: 'Grocery stores', merchantName: 'Refund', amount: { minorUnits: -5_000, currency: 'CNY' } }]);
    await t.gql(tok.supervisor!, IMPORT, { input: { rows: [row(1)] } });
    expect(await t.prisma.cardStatement.count({ where: { accountId: Buffer.from(accountId, 'base64').toString().split(':')[1]! } })).toBe(1);
  });

  it('the JSONL import path checks the shape of usage lists', () => {
    expect(jsonRowErrors({ ...row(9), statements: 'x' }).map((e) => e.field?.[0])).toContain('statements');
    expect(jsonRowErrors({ ...row(9), transactions: [1] }).map((e) => e.field?.[0])).toContain('transactions.0');
    expect(jsonRowErrors({ ...row(9), transactions: [txn(1, { amount: '12.5' })] }).map((e) => e.field?.[0])).toContain('transactions.0.amount');
    expect(jsonRowErrors({ ...row(9), statements: [statement(10)], transactions: [txn(1)] })).toEqual([]);
  });

  it('usage is scoped like the case: the agency holding it and its collector see it, others see nothing', async () => {
    const raw = Buffer.from(caseId, 'base64').toString().split(':')[1]!;
    await t.prisma.case.update({ where: { id: raw }, data: { assignedAgencyId: s.north.id, assignedCollectorId: s.users.northAgent.id } });
    const north = await t.gql(tok.northAgent!, USAGE, { id: caseId });
    expect(north.data.node.account.statements.totalCount).toBe(1);
    for (const who of ['southManager', 'southAgent', 'northAgent2', 'collector']) {
      const viaCase = await t.gql(tok[who]!, USAGE, { id: caseId });
      expect(viaCase.data.node, who).toBeNull();
      const viaAccount = await t.gql(tok[who]!, ACCOUNT, { id: accountId });
      expect(viaAccount.data.node, who).toBeNull();
      expect(JSON.stringify(viaAccount)).not.toContain('totalCount');
    }
    const mgr = await t.gql(tok.northManager!, ACCOUNT, { id: accountId });
    expect(mgr.data.node.transactions.totalCount).toBe(1);
    // Recalled: gone for North at once.
    await t.prisma.case.update({ where: { id: raw }, data: { assignedAgencyId: null, assignedCollectorId: null } });
    expect((await t.gql(tok.northManager!, ACCOUNT, { id: accountId })).data.node).toBeNull();
    void encodeGlobalID;
  });
});
