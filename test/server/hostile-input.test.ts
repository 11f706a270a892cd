/**
 * Hostile arguments (issue 10, point 7; API.md "Limits, throttling and failures"): out-of-range
 * integers, hand-made cursors, NUL bytes, impossible dates, sent to every root field of Query (and
 * a few mutations) as literals and as variables. Each is answered BAD_USER_INPUT naming the
 * argument, or handled; never INTERNAL_SERVER_ERROR. Runs on PGlite and, with
 * TEST_DATABASE_URL, on PostgreSQL (the two refuse different things: both must be covered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp, type GqlResult } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { formatCaseNumber } from '../../src/lib/ids.ts';
import { isIssuedCursor } from '../../src/lib/hostile-input.ts';

let t: TestApp;
let s: Scenario;
let admin: string;
let caseId: string;
let contactPointId: string;
let caseNumber: string;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const NUL = 'a\u0000b';

/** Cursors no connection issued: garbage, the wrong prefix, the wrong tag, a non-UUID id, an injection. */
const HAND_MADE_CURSORS = [
  'garbage!!',
  '',
  b64('hello'),
  b64('GPC:S:not-a-uuid'),
  b64('GPC:N:1'),
  b64('GPC:D:99999999999999999'),
  b64('GPC:J:[1,2]'),
  b64("GPC:S:' OR 1=1 --"),
  b64('GPC:S:00000000-0000-0000-0000-00000000000g'),
  b64(`GPC:S:${'0'.repeat(5000)}`),
];

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
  const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 40 });
  caseId = encodeGlobalID('Case', c.id);
  caseNumber = formatCaseNumber(c.caseNo);
  const cp = await t.prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId } });
  contactPointId = encodeGlobalID('ContactPoint', cp.id);
});
afterAll(async () => t?.close());

function codes(r: GqlResult): unknown[] {
  return (r.errors ?? []).map((e) => e.extensions?.['code']);
}

/** Refused as the client's input, naming the argument; never an internal error. */
function expectBadInput(r: GqlResult, argument: string | RegExp) {
  expect(codes(r), JSON.stringify(r.errors)).not.toContain('INTERNAL_SERVER_ERROR');
  expect(codes(r), JSON.stringify(r.errors)).toContain('BAD_USER_INPUT');
  const text = JSON.stringify(r.errors);
  if (typeof argument === 'string') expect(text).toContain(argument);
  else expect(text).toMatch(argument);
}

function expectNoInternalError(r: GqlResult) {
  expect(codes(r), JSON.stringify(r.errors)).not.toContain('INTERNAL_SERVER_ERROR');
  expect(r.status).toBeLessThan(500);
}

describe('integers out of range', () => {
  it('days past due outside 0..36500, as literals and as variables', async () => {
    for (const [field, value] of [['minDaysPastDue', 2147483647], ['maxDaysPastDue', 2147483647], ['minDaysPastDue', -1], ['maxDaysPastDue', -2147483648], ['minDaysPastDue', 36501]] as const) {
      const literal = await t.gql(admin, `{ cases(filter: { ${field}: ${value} }) { totalCount nodes { id } } }`);
      expectBadInput(literal, `filter.${field}`);
      expect(literal.data?.cases ?? null).toBeNull();
      const variable = await t.gql(admin, `query($f: CaseFilter) { cases(filter: $f) { nodes { id } } }`, { f: { [field]: value } });
      expectBadInput(variable, `filter.${field}`);
    }
    // The bounds themselves are fine.
    const ok = await t.gql(admin, `{ cases(filter: { minDaysPastDue: 0, maxDaysPastDue: 36500 }) { totalCount } }`);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.cases.totalCount).toBe(1);
  });

  it('beyond 32 bits: refused by GraphQL itself as BAD_USER_INPUT', async () => {
    const r = await t.gql(admin, `query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { minDaysPastDue: 2 ** 40 } });
    expectBadInput(r, 'minDaysPastDue');
  });

  it('page sizes outside 0..100 refused by name, on every connection', async () => {
    for (const q of [
      `{ cases(first: -1) { totalCount } }`,
      `{ cases(last: -5) { totalCount } }`,
      `{ agencies(first: -1) { totalCount } }`,
      `{ auditEvents(first: -1) { totalCount } }`,
      `{ viewer { workQueue(first: -1) { totalCount } } }`,
    ]) {
      const r = await t.gql(admin, q);
      expectNoInternalError(r);
      expect(codes(r), q).toContain('BAD_USER_INPUT');
    }
    for (const q of [`{ cases(first: 2147483647) { totalCount } }`, `{ agencies(last: 101) { totalCount } }`]) {
      const huge = await t.gql(admin, q);
      expectBadInput(huge, /Argument \\"(first|last)\\" must be between 0 and 100/);
    }
    const max = await t.gql(admin, `{ cases(first: 100) { edges { cursor } } }`);
    expect(max.errors).toBeUndefined();
    expect(max.data.cases.edges).toHaveLength(1);
    const nested = await t.gql(admin, `query($id: ID!) { node(id: $id) { ... on Case { timeline(first: 2147483647) { totalCount } payments(first: -3) { totalCount } } } }`, { id: caseId });
    expectNoInternalError(nested);
    expect(codes(nested)).toContain('BAD_USER_INPUT');
  });
});

describe('hand-made cursors', () => {
  it('tells issued cursors from the rest', async () => {
    const r = await t.gql(admin, `{ cases(first: 1) { edges { cursor } } }`);
    const issued = r.data.cases.edges[0].cursor as string;
    expect(isIssuedCursor(issued)).toBe(true);
    for (const c of HAND_MADE_CURSORS) expect(isIssuedCursor(c), c).toBe(false);
  });

  it('every root connection, and connections inside objects, refuse them by name', async () => {
    const connections: [string, string][] = [
      ['cases.after', `query($c: String) { cases(after: $c) { totalCount nodes { id } } }`],
      ['cases.before', `query($c: String) { cases(last: 2, before: $c) { nodes { id } } }`],
      ['agencies.after', `query($c: String) { agencies(after: $c) { nodes { id } } }`],
      ['auditEvents.after', `query($c: String) { auditEvents(after: $c) { nodes { id } } }`],
      ['workQueue.after', `query($c: String) { viewer { workQueue(after: $c) { nodes { id } } } }`],
      ['timeline.after', `query($c: String, $id: ID!) { node(id: $id) { ... on Case { timeline(after: $c) { nodes { id } } } } }`],
      ['payments.before', `query($c: String, $id: ID!) { node(id: $id) { ... on Case { payments(last: 1, before: $c) { nodes { id } } } } }`],
      ['users.after', `query($c: String) { agencies(first: 1) { nodes { users(after: $c) { nodes { id } } } } }`],
    ];
    for (const [argument, query] of connections) {
      for (const cursor of HAND_MADE_CURSORS) {
        const r = await t.gql(admin, query, { c: cursor, id: caseId });
        expectBadInput(r, argument);
      }
    }
    // Through a fragment, as a literal.
    const viaFragment = await t.gql(admin, `query { ...Q } fragment Q on Query { cases(after: "${b64('GPC:N:1')}") { totalCount } }`);
    expectBadInput(viaFragment, 'cases.after');
  });

  it('a well-formed cursor of a record that does not exist is an empty page, not an error', async () => {
    const r = await t.gql(admin, `query($c: String) { cases(after: $c) { nodes { id } } }`, { c: b64('GPC:S:00000000-0000-4000-8000-000000000000') });
    expectNoInternalError(r);
    expect(r.errors).toBeUndefined();
  });
});

describe('NUL bytes in strings', () => {
  it('in any string argument of Query, literal or variable, nested or not', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['cases.filter.search', `query($v: String) { cases(filter: { search: $v }) { totalCount } }`, { v: NUL }],
      ['cases.filter.search', `{ cases(filter: { search: "a\\u0000b" }) { totalCount } }`, {}],
      ['caseByNumber.number', `query($v: String!) { caseByNumber(number: $v) { id } }`, { v: `${caseNumber}\u0000` }],
      ['auditEvents.filter.action', `query($v: String) { auditEvents(filter: { action: $v }) { totalCount } }`, { v: NUL }],
      ['node.id', `query($v: ID!) { node(id: $v) { id } }`, { v: NUL }],
      ['nodes.ids[1]', `query($v: [ID!]!) { nodes(ids: $v) { id } }`, { v: [caseId, NUL] }],
      ['contactPermission.contactPointId', `query($v: ID!, $c: ID!) { contactPermission(caseId: $c, channel: CALL, contactPointId: $v) { allowed } }`, { v: NUL, c: caseId }],
      ['cases.after', `query($v: String) { cases(after: $v) { totalCount } }`, { v: NUL }],
    ];
    for (const [argument, query, variables] of cases) {
      const r = await t.gql(admin, query, variables);
      expectBadInput(r, argument);
      expect(r.data ?? null, argument).toBeNull();
    }
  });

  it('in a mutation input: refused before the service runs, nothing written', async () => {
    const before = await t.prisma.user.count();
    const r = await t.gql(
      admin,
      `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }`,
      { input: { email: 'nul@bank.example', fullName: `Mr ${NUL}`, role: 'BANK_COLLECTOR' } },
    );
    expectBadInput(r, 'createUser.input.fullName');
    expect(await t.prisma.user.count()).toBe(before);
  });
});

describe('impossible and out-of-range dates', () => {
  it('a date that does not exist is refused by its scalar, naming the variable', async () => {
    for (const v of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', '2026-11-28T25:00:00Z']) {
      const r = await t.gql(admin, `query($v: DateTime) { auditEvents(filter: { from: $v }) { totalCount } }`, { v });
      expectBadInput(r, '$v');
    }
    const literal = await t.gql(admin, `{ auditEvents(filter: { to: "2026-02-30T00:00:00Z" }) { totalCount } }`);
    expectNoInternalError(literal);
    expect(codes(literal)).toEqual(expect.arrayContaining([expect.stringMatching(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/)]));
  });

  it('years the store and the time-zone arithmetic cannot take are refused by name', async () => {
    for (const v of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1899-12-31T23:59:59Z']) {
      const audit = await t.gql(admin, `query($v: DateTime) { auditEvents(filter: { from: $v }) { totalCount } }`, { v });
      expectBadInput(audit, 'auditEvents.filter.from');
      const permission = await t.gql(admin, `query($at: DateTime, $c: ID!, $p: ID!) { contactPermission(at: $at, caseId: $c, channel: CALL, contactPointId: $p) { allowed } }`, { at: v, c: caseId, p: contactPointId });
      expectBadInput(permission, 'contactPermission.at');
    }
    // The far end of the range and an ordinary date are answered.
    const far = await t.gql(admin, `query($v: DateTime) { auditEvents(filter: { to: $v }) { totalCount } }`, { v: '9999-12-31T23:59:59Z' });
    expect(far.errors).toBeUndefined();
    const now = await t.gql(admin, `query($at: DateTime, $c: ID!, $p: ID!) { contactPermission(at: $at, caseId: $c, channel: CALL, contactPointId: $p) { allowed } }`, { at: '2026-11-28T02:00:00Z', c: caseId, p: contactPointId });
    expect(now.errors).toBeUndefined();
  });
});

describe('the remaining root fields with hostile arguments', () => {
  it('node/nodes/caseByNumber/contactPolicy answer typed errors or null, never an internal error', async () => {
    const probes: [string, Record<string, unknown>][] = [
      [`query($v: ID!) { node(id: $v) { id } }`, { v: b64('Case:not-a-uuid') }],
      [`query($v: ID!) { node(id: $v) { id } }`, { v: b64(`Case:${'9'.repeat(10000)}`) }],
      [`query($v: ID!) { node(id: $v) { id } }`, { v: b64('Nope:00000000-0000-4000-8000-000000000000') }],
      [`query($v: [ID!]!) { nodes(ids: $v) { id } }`, { v: ['x', b64('Case:1')] }],
      [`query($v: String!) { caseByNumber(number: $v) { id } }`, { v: 'C-99999999999999999999999' }],
      [`query($v: String!) { caseByNumber(number: $v) { id } }`, { v: "'; DROP TABLE \"Case\"; --" }],
      [`query($v: String!) { caseByNumber(number: $v) { id } }`, { v: 'x'.repeat(100_000) }],
      [`query($v: Jurisdiction!) { contactPolicy(jurisdiction: $v) { jurisdiction } }`, { v: 'XX' }],
      [`query($v: String) { cases(filter: { search: $v }) { totalCount } }`, { v: '%_\\%' }],
      [`query($v: String) { cases(filter: { search: $v }) { totalCount } }`, { v: '\uD800' }],
      [`query($v: String) { cases(filter: { search: $v }) { totalCount } }`, { v: 'x'.repeat(100_000) }],
      [`query($v: String) { auditEvents(filter: { action: $v }) { totalCount } }`, { v: '\uFFFF\u202E' }],
      [`query($c: ID!) { contactPermission(caseId: $c, channel: CALL, contactPointId: $c) { allowed } }`, { c: caseId }],
    ];
    for (const [query, variables] of probes) {
      const r = await t.gql(admin, query, variables);
      expectNoInternalError(r);
    }
  });
});
