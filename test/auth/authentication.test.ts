/**
 * Authentication (API.md, "Authentication" and "Conventions"): `Authorization: Bearer <token>`
 * where the token is a JWT (HS256, `sub` = user id) or an API key (`ak_…`, stored only as its
 * SHA-256, revocable, last use recorded at most once a minute). Anything else is UNAUTHENTICATED,
 * with no data. Errors carry `extensions.code`, never a stack; unknown failures are masked as
 * INTERNAL_SERVER_ERROR with a request id; every response has an `x-request-id` header.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { formatCaseNumber } from '../../src/lib/ids.ts';

let t: TestApp;
let s: Scenario;
let admin: string;

const SECRET = 'test-secret-that-is-at-least-32-characters-long'; // test/support/app.ts signs with it
const VIEWER = `{ viewer { role authMethod user { email } } }`;
const HOUR = 3_600_000;

interface Raw {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A request exactly as a client sends it over HTTP; the body kept as text to look for stacks. */
async function raw(authorization: string | null, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await t.runtime.app.fetch(
    new Request('http://arrears.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(authorization !== null ? { authorization } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

/** No stack anywhere, and every error names its code. */
function expectCleanErrors(r: Raw) {
  expect(r.text).not.toContain('    at ');
  expect(r.text).not.toMatch(/"stack"|originalError|\.ts:\d+/);
  expect(r.body.errors?.length).toBeGreaterThan(0);
  for (const e of r.body.errors ?? []) expect(typeof e.extensions?.code, JSON.stringify(e)).toBe('string');
}

function expectUnauthenticated(r: Raw) {
  expect(r.status).toBe(401);
  expectCleanErrors(r);
  expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  expect('data' in r.body).toBe(false);
  expect(r.headers.get('x-request-id')).toBeTruthy();
}

/** An unsigned JWT ("alg": "none") with the given claims. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

const ISSUE = /* GraphQL */ `
  mutation($input: IssueApiKeyInput!) {
    issueApiKey(input: $input) { secret apiKey { id name prefix lastUsedAt revokedAt expiresAt } userErrors { code field message } }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id revokedAt } userErrors { code field message } } }
`;

async function issueKey(userId: string, extra: Record<string, unknown> = {}) {
  const r = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', userId), name: 'partner system', persistedOnly: false, ...extra } });
  expect(r.errors).toBeUndefined();
  expect(r.data.issueApiKey.userErrors).toEqual([]);
  return r.data.issueApiKey as { secret: string; apiKey: { id: string; prefix: string; lastUsedAt: string | null } };
}

const keyUuid = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
});

afterAll(async () => t?.close());

describe('refused without valid credentials: UNAUTHENTICATED, no data', () => {
  it('no Authorization header', async () => {
    expectUnauthenticated(await raw(null, VIEWER));
    // Also for a query that names no viewer-dependent field.
    expectUnauthenticated(await raw(null, `{ __typename }`));
  });

  it('a malformed Authorization header', async () => {
    for (const header of ['Basic x', 'Bearer', 'Bearer ', 'Token abc', 'Bearer a b', `Basic ${Buffer.from('admin@bank.example:pw').toString('base64')}`]) {
      const r = await raw(header, VIEWER);
      expectUnauthenticated(r);
    }
  });

  it('a valid token under another scheme, without a scheme, or with trailing parts', async () => {
    for (const header of [admin, `Basic ${admin}`, `Token ${admin}`, `Bearer ${admin} ${admin}`, `Bearer: ${admin}`]) {
      expectUnauthenticated(await raw(header, VIEWER));
    }
  });

  it('a valid token works (control for the cases below)', async () => {
    const r = await raw(`Bearer ${admin}`, VIEWER);
    expect(r.status).toBe(200);
    expect(r.body.data.viewer).toEqual({ role: 'BANK_ADMIN', authMethod: 'JWT', user: { email: 'admin@bank.example' } });
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await raw(`bearer ${admin}`, VIEWER)).body.data.viewer.role).toBe('BANK_ADMIN');
  });

  it('a JWT signed with another secret', async () => {
    const forged = await signToken('another-secret-that-is-also-32-characters-long', s.users.admin, { now: t.clock.now() });
    expectUnauthenticated(await raw(`Bearer ${forged}`, VIEWER));
  });

  it('an unsigned JWT (alg: none), and one with a tampered payload', async () => {
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const none = unsignedJwt({ sub: s.users.admin.id, email: s.users.admin.email, iss: 'arrears', iat: now, exp: now + 3600 });
    expectUnauthenticated(await raw(`Bearer ${none}`, VIEWER));
    // A collector's token with the payload swapped for the admin's: the signature no longer matches.
    const collector = await t.token(s.users.collector);
    const [h, , sig] = collector.split('.');
    const body = Buffer.from(JSON.stringify({ sub: s.users.admin.id, email: s.users.admin.email, iss: 'arrears', iat: now, exp: now + 3600 })).toString('base64url');
    expectUnauthenticated(await raw(`Bearer ${h}.${body}.${sig}`, VIEWER));
    expect((await raw(`Bearer ${collector}`, VIEWER)).body.data.viewer.role).toBe('BANK_COLLECTOR');
  });

  it('an expired JWT (12 h lifetime)', async () => {
    const token = await t.token(s.users.admin);
    try {
      t.clock.advance(11 * HOUR);
      expect((await raw(`Bearer ${token}`, VIEWER)).body.data.viewer.role).toBe('BANK_ADMIN'); // still valid
      t.clock.advance(2 * HOUR);
      const r = await raw(`Bearer ${token}`, VIEWER);
      expectUnauthenticated(r);
      expect(r.body.errors?.[0]?.message).toMatch(/expired/i);
    } finally {
      t.clock.set(TEST_NOW);
    }
  });

  it('a token for an unknown user id', async () => {
    const token = await signToken(SECRET, { id: randomUUID(), email: 'nobody@bank.example' }, { now: t.clock.now() });
    expectUnauthenticated(await raw(`Bearer ${token}`, VIEWER));
  });

  it('a token whose e-mail does not match its user', async () => {
    const token = await signToken(SECRET, { id: s.users.admin.id, email: s.users.collector.email }, { now: t.clock.now() });
    expectUnauthenticated(await raw(`Bearer ${token}`, VIEWER));
  });

  it('a token for an inactive user', async () => {
    const u = await t.prisma.user.create({ data: { email: 'leaver@bank.example', fullName: 'Leaver', role: 'BANK_SUPERVISOR' } });
    const token = await t.token(u);
    expect((await raw(`Bearer ${token}`, VIEWER)).body.data.viewer.role).toBe('BANK_SUPERVISOR');
    await t.prisma.user.update({ where: { id: u.id }, data: { active: false } });
    expectUnauthenticated(await raw(`Bearer ${token}`, VIEWER));
  });

  it('a garbage ak_ key', async () => {
    for (const key of ['ak_', 'ak_garbage', `ak_${'A'.repeat(43)}`]) expectUnauthenticated(await raw(`Bearer ${key}`, VIEWER));
  });
});

describe('API keys', () => {
  it('an issued key works as its user, records its last use at most once a minute, and stops at revocation', async () => {
    const { secret, apiKey } = await issueKey(s.users.northManager.id);
    expect(secret).toMatch(/^ak_[A-Za-z0-9_-]{40,}$/);
    expect(apiKey.lastUsedAt).toBeNull();
    const id = keyUuid(apiKey.id);
    expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeNull();

    const r = await raw(`Bearer ${secret}`, VIEWER);
    expect(r.status).toBe(200);
    expect(r.body.data.viewer).toEqual({ role: 'AGENCY_MANAGER', authMethod: 'API_KEY', user: { email: 'manager@north.example' } });
    const firstUse = t.clock.now();
    expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(firstUse);

    try {
      t.clock.advance(30_000); // within the minute: not written again
      expect((await raw(`Bearer ${secret}`, VIEWER)).status).toBe(200);
      expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(firstUse);
      t.clock.advance(31_000); // past the minute: written
      expect((await raw(`Bearer ${secret}`, VIEWER)).status).toBe(200);
      expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(t.clock.now());
      const seen = await t.gql(admin, `query($id: ID!) { node(id: $id) { ... on ApiKey { lastUsedAt } } }`, { id: apiKey.id });
      expect(new Date(seen.data.node.lastUsedAt)).toEqual(t.clock.now());
    } finally {
      t.clock.set(TEST_NOW);
    }

    const revoked = await t.gql(admin, REVOKE, { input: { apiKeyId: apiKey.id } });
    expect(revoked.data.revokeApiKey.userErrors).toEqual([]);
    expect(revoked.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    expectUnauthenticated(await raw(`Bearer ${secret}`, VIEWER));
  });

  it('the secret is returned once; only its SHA-256 is stored, nowhere the secret itself', async () => {
    const { secret, apiKey } = await issueKey(s.users.southAgent.id);
    const row = await t.prisma.apiKey.findUniqueOrThrow({ where: { id: keyUuid(apiKey.id) } });
    expect(row.hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(row.prefix).toBe(secret.slice(0, 11));
    expect(apiKey.prefix).toBe(row.prefix);
    expect(secret.length).toBeGreaterThan(row.prefix.length + 20);
    const secretBody = secret.slice(row.prefix.length);

    // No table of the database holds the secret (nor its unguessable part).
    const sql = t.runtime.store.sql;
    const tables = await sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((x) => x.table_name)).toEqual(expect.arrayContaining(['ApiKey', 'AuditEvent']));
    for (const { table_name } of tables) {
      const rows = await sql.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM "${table_name}" x`);
      for (const { j } of rows) expect(j, table_name).not.toContain(secretBody);
    }
    // The issue was audited (so the scan above did look at it), without the secret.
    expect(await t.prisma.auditEvent.count({ where: { action: 'apiKey.issue', entityId: row.id } })).toBe(1);

    // Never shown again: the key reads back without it, and the type has no field for it.
    const back = await t.gql(admin, `query($id: ID!) { node(id: $id) { ... on ApiKey { id name prefix user { email } } } }`, { id: apiKey.id });
    expect(back.data.node).toEqual({ id: apiKey.id, name: 'partner system', prefix: row.prefix, user: { email: 'agent@south.example' } });
    expect(JSON.stringify(back)).not.toContain(secretBody);
    const asked = await raw(`Bearer ${admin}`, `query($id: ID!) { node(id: $id) { ... on ApiKey { secret } } }`, { id: apiKey.id });
    expect(asked.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // A second key for the same user is a different secret.
    const again = await issueKey(s.users.southAgent.id);
    expect(again.secret).not.toBe(secret);
  });

  it('an expired key is refused', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + HOUR).toISOString();
    const { secret } = await issueKey(s.users.collector.id, { expiresAt });
    expect((await raw(`Bearer ${secret}`, VIEWER)).body.data.viewer.role).toBe('BANK_COLLECTOR');
    try {
      t.clock.advance(HOUR);
      expectUnauthenticated(await raw(`Bearer ${secret}`, VIEWER));
    } finally {
      t.clock.set(TEST_NOW);
    }
  });

  it('a key whose user was deactivated is refused', async () => {
    const u = await t.prisma.user.create({ data: { email: 'bot@north.example', fullName: 'North bot', role: 'AGENCY_COLLECTOR', agencyId: s.north.id } });
    const { secret } = await issueKey(u.id);
    expect((await raw(`Bearer ${secret}`, VIEWER)).body.data.viewer.role).toBe('AGENCY_COLLECTOR');
    await t.prisma.user.update({ where: { id: u.id }, data: { active: false } });
    expectUnauthenticated(await raw(`Bearer ${secret}`, VIEWER));
  });
});

describe('errors and request ids', () => {
  it('an unexpected failure is masked as INTERNAL_SERVER_ERROR with the request id, no detail, no stack', async () => {
    // An amount beyond 2^53 cannot be sent as a SafeInt: the money resolver throws a RangeError.
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), principal: 2n ** 60n, debtorName: 'Huge' });
    const q = `query($n: String!) { caseByNumber(number: $n) { number overdue { minorUnits } } }`;
    const r = await raw(`Bearer ${admin}`, q, { n: formatCaseNumber(c.caseNo) }, { 'x-request-id': 'client-request-0001' });
    expectCleanErrors(r);
    const [e] = r.body.errors!;
    expect(e!.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'client-request-0001' });
    expect(e!.message).not.toMatch(/safe integer|RangeError|amount/i);
    expect(r.text).not.toContain(String(2n ** 60n));
    expect(r.headers.get('x-request-id')).toBe('client-request-0001');
    // Without a client id: a generated one, the same in the header and the error.
    const r2 = await raw(`Bearer ${admin}`, q, { n: formatCaseNumber(c.caseNo) });
    expect(r2.body.errors?.[0]?.extensions?.requestId).toBe(r2.headers.get('x-request-id'));
    expect(r2.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('every response carries x-request-id: success, refusals, validation errors, health', async () => {
    const responses: Response[] = [];
    const post = (headers: Record<string, string>, body: string) =>
      t.runtime.app.fetch(new Request('http://arrears.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers }, body }));
    responses.push(await post({ authorization: `Bearer ${admin}` }, JSON.stringify({ query: VIEWER }))); // 200
    responses.push(await post({}, JSON.stringify({ query: VIEWER }))); // 401
    responses.push(await post({ authorization: `Bearer ${admin}` }, JSON.stringify({ query: '{ nope }' }))); // 400
    responses.push(await post({ authorization: `Bearer ${admin}` }, '{not json')); // 400
    responses.push(await post({ authorization: `Bearer ${await t.token(s.users.northAgent)}` }, JSON.stringify({ query: '{ auditEvents { totalCount } }' }))); // FORBIDDEN
    responses.push(await t.runtime.app.fetch(new Request('http://arrears.test/healthz')));
    expect(responses.map((r) => r.status)).toEqual([200, 401, 400, 400, 200, 200]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);

    // A plain client id is kept; anything else is replaced.
    const kept = await post({ authorization: `Bearer ${admin}`, 'x-request-id': 'trace-abc.123:XYZ' }, JSON.stringify({ query: VIEWER }));
    expect(kept.headers.get('x-request-id')).toBe('trace-abc.123:XYZ');
    const replaced = await post({ authorization: `Bearer ${admin}`, 'x-request-id': 'bad id <script>' }, JSON.stringify({ query: VIEWER }));
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refusals carry their code and no stack: FORBIDDEN, BAD_USER_INPUT, validation', async () => {
    const agent = `Bearer ${await t.token(s.users.northAgent)}`;
    const forbidden = await raw(agent, `{ auditEvents(first: 1) { totalCount } }`);
    expectCleanErrors(forbidden);
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await raw(`Bearer ${admin}`, `{ node(id: "xyz") { id } }`);
    expectCleanErrors(bad);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const invalid = await raw(`Bearer ${admin}`, `{ viewer { nope } }`);
    expectCleanErrors(invalid);
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
