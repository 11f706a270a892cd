/**
 * Role rules (DOMAIN.md, "The people"; API.md, "Conventions"): administration is the bank admin's
 * alone; revealing a full national ID number is a supervisor's or admin's, with a reason, audited
 * in the same call. Authorization failures are GraphQL errors with extensions.code FORBIDDEN and
 * write nothing; expected refusals are user errors and write nothing; malformed input is
 * BAD_USER_INPUT or GRAPHQL_VALIDATION_FAILED, never a 500.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { hashApiKey } from '../../src/auth/tokens.ts';
import { DENIAL_KINDS } from '../../src/modules/audit/denials.ts';

let t: TestApp;
let s: Scenario;
let tok: Record<keyof Scenario['users'], string>;
let northCase: Awaited<ReturnType<typeof createCase>>;
let bankCase: Awaited<ReturnType<typeof createCase>>;
let existingKeyId: string; // an unrevoked key, for revokeApiKey attempts

const NATIONAL_ID = '110101199003071234';
const gid = encodeGlobalID;
const NON_ADMINS = ['supervisor', 'collector', 'auditor', 'northManager', 'northAgent', 'southManager'] as const;

const CREATE_AGENCY = /* GraphQL */ `
  mutation($input: CreateAgencyInput!) { createAgency(input: $input) { agency { id code name status } userErrors { code field message } } }
`;
const CREATE_USER = /* GraphQL */ `
  mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email role agency { id } } userErrors { code field message } } }
`;
const ISSUE_KEY = /* GraphQL */ `
  mutation($input: IssueApiKeyInput!) { issueApiKey(input: $input) { secret apiKey { id prefix } userErrors { code field message } } }
`;
const REVOKE_KEY = /* GraphQL */ `
  mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id revokedAt } userErrors { code field message } } }
`;
const REVEAL = /* GraphQL */ `
  mutation($input: RevealDebtorIdentityInput!) {
    revealDebtorIdentity(input: $input) { nationalId debtor { id nationalIdMasked } userErrors { code field message } }
  }
`;

/**
 * Row counts of everything an admin mutation or a reveal could write. A refusal writes only its
 * denial (test/audit/denials.test.ts), counted apart.
 */
async function counts() {
  const p = t.prisma;
  const [agencies, users, apiKeys, revokedKeys, auditEvents] = await Promise.all([
    p.agency.count(),
    p.user.count(),
    p.apiKey.count(),
    p.apiKey.count({ where: { revokedAt: { not: null } } }),
    p.auditEvent.count({ where: { action: { notIn: [...DENIAL_KINDS] } } }),
  ]);
  return { agencies, users, apiKeys, revokedKeys, auditEvents };
}

function expectForbidden(r: { data: any; errors?: { extensions?: Record<string, unknown>; path?: string[] }[] }, field: string) {
  expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  expect(r.errors?.[0]?.path).toEqual([field]);
  expect(r.data).toBeNull();
}

let seq = 0;
const agencyInput = () => ({ code: `AG${++seq}`, name: `Agency ${seq}`, licenseNumber: `LIC-${seq}`, dataProcessingContractRef: `DPA-${seq}` });
const userInput = () => ({ email: `new${++seq}@north.example`, fullName: `New ${seq}`, role: 'AGENCY_COLLECTOR', agencyId: gid('Agency', s.north.id) });
const keyInput = () => ({ userId: gid('User', s.users.northAgent.id), name: `key ${++seq}` });

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  northCase = await createCase(t.prisma, t.pii, { now, agencyId: s.north.id, collectorId: s.users.northAgent.id, nationalId: NATIONAL_ID, debtorName: '王伟' });
  bankCase = await createCase(t.prisma, t.pii, { now, collectorId: s.users.collector.id, nationalId: '110101199003075678' });
  const key = await t.prisma.apiKey.create({ data: { name: 'existing', prefix: 'ak_existing', hash: 'e'.repeat(64), userId: s.users.northManager.id } });
  existingKeyId = key.id;
  tok = Object.fromEntries(await Promise.all(Object.entries(s.users).map(async ([k, v]) => [k, await t.token(v)] as const))) as typeof tok;
});

afterAll(async () => t?.close());

// ---------------------------------------------------------------- administration

describe('administration is the bank admin’s alone', () => {
  for (const who of NON_ADMINS) {
    it(`${who}: createAgency, createUser, issueApiKey, revokeApiKey are FORBIDDEN and write nothing`, async () => {
      const before = await counts();
      expectForbidden(await t.gql(tok[who], CREATE_AGENCY, { input: agencyInput() }), 'createAgency');
      expectForbidden(await t.gql(tok[who], CREATE_USER, { input: userInput() }), 'createUser');
      const issued = await t.gql(tok[who], ISSUE_KEY, { input: keyInput() });
      expectForbidden(issued, 'issueApiKey');
      expect(JSON.stringify(issued)).not.toContain('ak_');
      expectForbidden(await t.gql(tok[who], REVOKE_KEY, { input: { apiKeyId: gid('ApiKey', existingKeyId) } }), 'revokeApiKey');
      expect(await counts()).toEqual(before);
      expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id: existingKeyId } })).revokedAt).toBeNull();
    });
  }

  it('an agency principal’s API key cannot issue itself more keys', async () => {
    const secret = 'ak_north-manager-roles-test-key-00000000000000';
    await t.prisma.apiKey.create({ data: { name: 'north', prefix: secret.slice(0, 11), hash: hashApiKey(secret), userId: s.users.northManager.id, persistedOnly: false } });
    const before = await counts();
    expectForbidden(await t.gql(secret, ISSUE_KEY, { input: { userId: gid('User', s.users.northManager.id), name: 'more' } }), 'issueApiKey');
    expect(await counts()).toEqual(before);
  });

  it('the admin creates an agency, a user, issues and revokes a key; each audited', async () => {
    const admin = tok.admin;
    const before = await counts();
    const agency = await t.gql(admin, CREATE_AGENCY, { input: { code: 'east', name: 'East Recovery', licenseNumber: 'LIC-E-001', dataProcessingContractRef: 'DPA-2026-E' } });
    expect(agency.errors).toBeUndefined();
    expect(agency.data.createAgency.userErrors).toEqual([]);
    expect(agency.data.createAgency.agency).toMatchObject({ code: 'EAST', name: 'East Recovery', status: 'ACTIVE' });
    const eastId = agency.data.createAgency.agency.id;

    const user = await t.gql(admin, CREATE_USER, {
      input: { email: 'Agent@East.example', fullName: 'East Agent', role: 'AGENCY_COLLECTOR', agencyId: eastId, credentialNumber: 'WC-E-1', credentialExpiresOn: '2027-06-30' },
    });
    expect(user.data.createUser.userErrors).toEqual([]);
    expect(user.data.createUser.user).toMatchObject({ email: 'agent@east.example', role: 'AGENCY_COLLECTOR', agency: { id: eastId } });

    const key = await t.gql(admin, ISSUE_KEY, { input: { userId: user.data.createUser.user.id, name: 'east system' } });
    expect(key.data.issueApiKey.userErrors).toEqual([]);
    expect(key.data.issueApiKey.secret).toMatch(/^ak_/);

    const revoked = await t.gql(admin, REVOKE_KEY, { input: { apiKeyId: key.data.issueApiKey.apiKey.id } });
    expect(revoked.data.revokeApiKey.userErrors).toEqual([]);
    expect(revoked.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();

    expect(await counts()).toEqual({
      agencies: before.agencies + 1,
      users: before.users + 1,
      apiKeys: before.apiKeys + 1,
      revokedKeys: before.revokedKeys + 1,
      auditEvents: before.auditEvents + 4,
    });
    const audit = await t.prisma.auditEvent.findMany({ where: { action: { in: ['agency.create', 'user.create', 'apiKey.issue', 'apiKey.revoke'] } } });
    expect(audit.map((e) => [e.action, e.actorId, e.actorRole]).sort()).toEqual([
      ['agency.create', s.users.admin.id, 'BANK_ADMIN'],
      ['apiKey.issue', s.users.admin.id, 'BANK_ADMIN'],
      ['apiKey.revoke', s.users.admin.id, 'BANK_ADMIN'],
      ['user.create', s.users.admin.id, 'BANK_ADMIN'],
    ]);
  });

  describe('bad input is a user error and writes nothing', () => {
    async function refused(query: string, input: Record<string, unknown>, field: string, code: string, path: string[]) {
      const before = await counts();
      const r = await t.gql(tok.admin, query, { input });
      expect(r.errors, JSON.stringify(input)).toBeUndefined();
      const payload = r.data[field];
      expect(payload.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field]), JSON.stringify(input)).toEqual([[code, path]]);
      for (const [k, v] of Object.entries(payload)) if (k !== 'userErrors') expect(v, `${field}.${k}`).toBeNull();
      expect(await counts(), JSON.stringify(input)).toEqual(before);
    }

    it('createAgency: VALIDATION and DUPLICATE', async () => {
      const ok = agencyInput();
      await refused(CREATE_AGENCY, { ...ok, code: 'x' }, 'createAgency', 'VALIDATION', ['code']);
      await refused(CREATE_AGENCY, { ...ok, code: 'bad code!' }, 'createAgency', 'VALIDATION', ['code']);
      await refused(CREATE_AGENCY, { ...ok, name: '   ' }, 'createAgency', 'VALIDATION', ['name']);
      await refused(CREATE_AGENCY, { ...ok, dataProcessingContractRef: '' }, 'createAgency', 'VALIDATION', ['dataProcessingContractRef']);
      await refused(CREATE_AGENCY, { ...ok, code: 'north' }, 'createAgency', 'DUPLICATE', ['code']); // codes are upper-cased
    });

    it('createUser: VALIDATION, DUPLICATE and NOT_FOUND', async () => {
      await refused(CREATE_USER, { ...userInput(), email: 'not-an-email' }, 'createUser', 'VALIDATION', ['email']);
      await refused(CREATE_USER, { ...userInput(), fullName: ' ' }, 'createUser', 'VALIDATION', ['fullName']);
      const { agencyId: _drop, ...noAgency } = userInput();
      await refused(CREATE_USER, noAgency, 'createUser', 'VALIDATION', ['agencyId']); // an agency role needs an agency
      await refused(CREATE_USER, { ...userInput(), role: 'BANK_COLLECTOR' }, 'createUser', 'VALIDATION', ['agencyId']); // bank staff have none
      await refused(CREATE_USER, { ...userInput(), credentialNumber: 'WC-1' }, 'createUser', 'VALIDATION', ['credentialExpiresOn']);
      await refused(CREATE_USER, { ...userInput(), email: 'AGENT@north.example' }, 'createUser', 'DUPLICATE', ['email']); // case-insensitive
      await refused(CREATE_USER, { ...userInput(), agencyId: gid('Agency', randomUUID()) }, 'createUser', 'NOT_FOUND', ['agencyId']);
      const suspended = await t.prisma.agency.create({ data: { code: 'SUSP', name: 'Suspended', licenseNumber: 'L', dataProcessingContractRef: 'D', status: 'SUSPENDED' } });
      await refused(CREATE_USER, { ...userInput(), agencyId: gid('Agency', suspended.id) }, 'createUser', 'VALIDATION', ['agencyId']);
    });

    it('issueApiKey: NOT_FOUND and VALIDATION', async () => {
      await refused(ISSUE_KEY, { ...keyInput(), userId: gid('User', randomUUID()) }, 'issueApiKey', 'NOT_FOUND', ['userId']);
      await refused(ISSUE_KEY, { ...keyInput(), name: '  ' }, 'issueApiKey', 'VALIDATION', ['name']);
      await refused(ISSUE_KEY, { ...keyInput(), expiresAt: new Date(t.clock.now().getTime() - 1000).toISOString() }, 'issueApiKey', 'VALIDATION', ['expiresAt']);
      const inactive = await t.prisma.user.create({ data: { email: 'gone@north.example', fullName: 'Gone', role: 'AGENCY_COLLECTOR', agencyId: s.north.id, active: false } });
      await refused(ISSUE_KEY, { ...keyInput(), userId: gid('User', inactive.id) }, 'issueApiKey', 'VALIDATION', ['userId']);
    });

    it('revokeApiKey: NOT_FOUND, and an already revoked key', async () => {
      await refused(REVOKE_KEY, { apiKeyId: gid('ApiKey', randomUUID()) }, 'revokeApiKey', 'NOT_FOUND', ['apiKeyId']);
      const gone = await t.prisma.apiKey.create({ data: { name: 'old', prefix: 'ak_old', hash: 'd'.repeat(64), userId: s.users.northAgent.id, revokedAt: t.clock.now() } });
      await refused(REVOKE_KEY, { apiKeyId: gid('ApiKey', gone.id) }, 'revokeApiKey', 'INVALID_TRANSITION', ['apiKeyId']);
    });
  });
});

// ---------------------------------------------------------------- reveal identity

describe('revealDebtorIdentity', () => {
  const REASON = 'Court order 2026-118 requires the full ID';

  it('is FORBIDDEN to collectors, agency roles and the auditor, who write no audit event and see no number', async () => {
    // Each asks about a debtor they can see: the refusal is for the role, not for visibility.
    const cases: [keyof typeof tok, string][] = [
      ['collector', bankCase.debtorId],
      ['northManager', northCase.debtorId],
      ['northAgent', northCase.debtorId],
      ['auditor', northCase.debtorId],
    ];
    for (const [who, debtorId] of cases) {
      const sees = await t.gql(tok[who], `query($id: ID!) { node(id: $id) { ... on Debtor { nationalIdMasked } } }`, { id: gid('Debtor', debtorId) });
      expect(sees.data.node, `${who} sees the debtor`).not.toBeNull();
      const before = await counts();
      const r = await t.gql(tok[who], REVEAL, { input: { debtorId: gid('Debtor', debtorId), reason: REASON } });
      expectForbidden(r, 'revealDebtorIdentity');
      expect(JSON.stringify(r)).not.toContain(NATIONAL_ID);
      expect(JSON.stringify(r)).not.toContain('110101199003075678');
      expect(await counts(), who).toEqual(before);
    }
  });

  it('gives a supervisor the full number and writes exactly one audit event in the same call', async () => {
    const before = await counts();
    const r = await t.gql(tok.supervisor, REVEAL, { input: { debtorId: gid('Debtor', northCase.debtorId), reason: `  ${REASON}  ` } });
    expect(r.errors).toBeUndefined();
    expect(r.data.revealDebtorIdentity).toEqual({
      nationalId: NATIONAL_ID,
      debtor: { id: gid('Debtor', northCase.debtorId), nationalIdMasked: '1101**********1234' },
      userErrors: [],
    });
    expect(await counts()).toEqual({ ...before, auditEvents: before.auditEvents + 1 });
    const events = await t.prisma.auditEvent.findMany({ where: { action: 'debtor.revealIdentity' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorId: s.users.supervisor.id,
      actorRole: 'BANK_SUPERVISOR',
      agencyId: null,
      entityType: 'Debtor',
      entityId: northCase.debtorId,
      reason: REASON,
      requestId: r.headers.get('x-request-id'), // the audit row belongs to this very request
      at: t.clock.now(),
    });
    expect(JSON.stringify(events[0]!.data)).not.toContain(NATIONAL_ID); // the log records the reveal, not the number
  });

  it('the admin may reveal too', async () => {
    const r = await t.gql(tok.admin, REVEAL, { input: { debtorId: gid('Debtor', bankCase.debtorId), reason: REASON } });
    expect(r.data.revealDebtorIdentity.nationalId).toBe('110101199003075678');
    expect(await t.prisma.auditEvent.count({ where: { action: 'debtor.revealIdentity', actorId: s.users.admin.id } })).toBe(1);
  });

  it('a reason under 10 characters is a VALIDATION user error: no number, no audit event', async () => {
    for (const reason of ['', 'because', '  too short  ', '123456789']) {
      const before = await counts();
      const r = await t.gql(tok.supervisor, REVEAL, { input: { debtorId: gid('Debtor', northCase.debtorId), reason } });
      expect(r.errors).toBeUndefined();
      expect(r.data.revealDebtorIdentity).toEqual({
        nationalId: null,
        debtor: null,
        userErrors: [{ code: 'VALIDATION', field: ['reason'], message: expect.any(String) }],
      });
      expect(await counts(), reason).toEqual(before);
    }
    // Ten characters is enough (the boundary).
    const ok = await t.gql(tok.supervisor, REVEAL, { input: { debtorId: gid('Debtor', northCase.debtorId), reason: '1234567890' } });
    expect(ok.data.revealDebtorIdentity.nationalId).toBe(NATIONAL_ID);
  });

  it('an unknown debtor is NOT_FOUND and writes no audit event', async () => {
    const before = await counts();
    const r = await t.gql(tok.supervisor, REVEAL, { input: { debtorId: gid('Debtor', randomUUID()), reason: REASON } });
    expect(r.errors).toBeUndefined();
    expect(r.data.revealDebtorIdentity.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).toEqual([['NOT_FOUND', ['debtorId']]]);
    expect(r.data.revealDebtorIdentity.nationalId).toBeNull();
    expect(await counts()).toEqual(before);
  });
});

// ---------------------------------------------------------------- malformed input

describe('malformed input: BAD_USER_INPUT or GRAPHQL_VALIDATION_FAILED, never a 500', () => {
  const BAD_IDS = ['xyz', Buffer.from('Case:not-a-uuid').toString('base64'), '', Buffer.from(`Case:${'1'.repeat(36)}`).toString('base64')];

  function expectBadInput(r: { status: number; errors?: { extensions?: Record<string, unknown> }[] }, label: string) {
    expect(r.status, label).toBe(200);
    expect(r.errors?.map((e) => e.extensions?.code), label).toEqual(['BAD_USER_INPUT']);
  }

  it('an invalid global ID in node(id) and nodes(ids)', async () => {
    for (const id of BAD_IDS) {
      expectBadInput(await t.gql(tok.admin, `query($id: ID!) { node(id: $id) { id } }`, { id }), `node ${id}`);
      expectBadInput(await t.gql(tok.admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [gid('Case', northCase.id), id] }), `nodes ${id}`);
    }
    // Control: a well-formed id of the same shape answers.
    const ok = await t.gql(tok.admin, `query($id: ID!) { node(id: $id) { id } }`, { id: gid('Case', northCase.id) });
    expect(ok.data.node).toEqual({ id: gid('Case', northCase.id) });
  });

  it('an invalid global ID in a filter or a mutation input', async () => {
    const q = `query($f: CaseFilter) { cases(first: 10, filter: $f) { totalCount } }`;
    for (const id of BAD_IDS.slice(0, 2)) {
      expectBadInput(await t.gql(tok.admin, q, { f: { agencyId: id } }), `agencyId ${id}`);
      expectBadInput(await t.gql(tok.admin, q, { f: { collectorId: id } }), `collectorId ${id}`);
      const before = await counts();
      expectBadInput(await t.gql(tok.supervisor, REVEAL, { input: { debtorId: id, reason: 'A long enough reason' } }), `reveal ${id}`);
      expectBadInput(await t.gql(tok.admin, CREATE_USER, { input: { ...userInput(), agencyId: id } }), `createUser ${id}`);
      expect(await counts()).toEqual(before);
    }
    // Inline in the document, too.
    expectBadInput(await t.gql(tok.admin, `{ cases(filter: { agencyId: "xyz" }) { totalCount } }`), 'inline');
  });

  it('first or last above 100 on any connection', async () => {
    const queries = [
      `query($n: Int) { cases(first: $n) { totalCount } }`,
      `query($n: Int) { cases(last: $n) { totalCount } }`,
      `query($n: Int) { agencies(first: $n) { totalCount } }`,
      `query($n: Int) { auditEvents(first: $n) { totalCount } }`,
      `query($n: Int) { viewer { workQueue(first: $n) { totalCount } } }`,
      `query($n: Int) { agencies(first: 1) { nodes { users(first: $n) { totalCount } } } }`,
    ];
    for (const q of queries) {
      const ok = await t.gql(tok.admin, q, { n: 100 });
      expect(ok.errors, q).toBeUndefined();
      expectBadInput(await t.gql(tok.admin, q, { n: 101 }), q);
    }
  });

  it('an unknown enum value in a filter is GRAPHQL_VALIDATION_FAILED', async () => {
    for (const filter of ['{ stage: [NOPE] }', '{ status: [CLOSED] }', '{ bucket: [M7] }']) {
      const r = await t.gql(tok.admin, `{ cases(first: 1, filter: ${filter}) { totalCount } }`);
      expect(r.status, filter).toBe(400);
      expect(r.errors?.map((e) => e.extensions?.code), filter).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(r.data ?? null).toBeNull();
    }
    const ok = await t.gql(tok.admin, `{ cases(first: 1, filter: { stage: [EARLY_REMINDER] }) { totalCount } }`);
    expect(ok.data.cases.totalCount).toBe(2);
  });

  it('an unknown enum value passed as a variable is refused with a code', async () => {
    const r = await t.gql(tok.admin, `query($s: [CaseStage!]) { cases(first: 1, filter: { stage: $s }) { totalCount } }`, { s: ['NOPE'] });
    expect(r.status).toBe(400);
    expect(r.errors?.length).toBe(1);
    expect(typeof r.errors?.[0]?.extensions?.code, JSON.stringify(r.errors)).toBe('string');
  });

  it('a well-formed global ID of the wrong or an unknown type is BAD_USER_INPUT', async () => {
    // A User id where an Agency id is expected, an Agency id where a User id is, and a type that does not exist.
    expectBadInput(await t.gql(tok.admin, `query($f: CaseFilter) { cases(first: 1, filter: $f) { totalCount } }`, { f: { agencyId: gid('User', s.users.admin.id) } }), 'filter');
    expectBadInput(await t.gql(tok.admin, ISSUE_KEY, { input: { userId: gid('Agency', s.north.id), name: 'x' } }), 'issueApiKey');
    expectBadInput(await t.gql(tok.admin, `query($id: ID!) { node(id: $id) { id } }`, { id: gid('Nope', randomUUID()) }), 'node');
  });
});
