/**
 * The audit of denials (issue 10, point 9): refused writes (FORBIDDEN on a mutation, and user
 * errors FORBIDDEN_ACTION), refused reveals, failed API-key authentications and throttled
 * principals become audit events with the request id, the principal or address and the
 * operation; at most DENIAL_LIMIT_PER_MINUTE a kind a principal a minute (the rest counted and
 * reported with the next one written); visible to admins and auditors through auditEvents.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { DENIAL_GLOBAL_LIMIT_PER_MINUTE, DENIAL_LIMIT_PER_MINUTE, recordDenial } from '../../src/modules/audit/denials.ts';
import type { Role } from '../../src/generated/prisma/enums.ts';

let t: TestApp;
let s: Scenario;
let admin: string;
let debtorId: string;

const CREATE_USER = /* GraphQL */ `
  mutation Hire($input: CreateUserInput!) { hire: createUser(input: $input) { user { id } userErrors { code } } }
`;
const REVEAL = /* GraphQL */ `
  mutation Peek($input: RevealDebtorIdentityInput!) { revealDebtorIdentity(input: $input) { nationalId userErrors { code } } }
`;
const DEACTIVATE = /* GraphQL */ `
  mutation SwitchOff($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { id } userErrors { code } } }
`;
const AUDIT = /* GraphQL */ `
  query($f: AuditEventFilter, $first: Int) { auditEvents(filter: $f, first: $first) { totalCount nodes { action actorId actorRole agencyId entityType entityId requestId data } } }
`;

const gid = (type: string, id: string) => encodeGlobalID(type, id);
const hireInput = (n: number) => ({ input: { email: `probe${n}@bank.example`, fullName: 'Probe', role: 'BANK_COLLECTOR' } });

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
  const c = await createCase(t.prisma, t.pii, { now: t.clock.now() });
  debtorId = gid('Debtor', c.debtorId);
});
afterAll(async () => t?.close());

async function denials(action: string, actorId?: string) {
  return t.prisma.auditEvent.findMany({ where: { action, ...(actorId ? { actorId } : {}) }, orderBy: { id: 'asc' } });
}

describe('refused writes and reveals', () => {
  it('a FORBIDDEN mutation is a DENIED_WRITE with the principal, request id and operation; the alias does not hide the field', async () => {
    const agent = await t.token(s.users.northAgent);
    const r = await t.gql(agent, CREATE_USER, hireInput(1), { 'x-request-id': 'probe-request-0001' });
    expect(r.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const [e, ...more] = await denials('DENIED_WRITE', s.users.northAgent.id);
    expect(more).toEqual([]);
    expect(e).toMatchObject({ actorRole: 'AGENCY_COLLECTOR', agencyId: s.north.id, requestId: 'probe-request-0001', entityType: 'Request' });
    expect(e!.data).toEqual({ operationName: 'Hire', detail: { refused: [{ field: 'createUser', code: 'FORBIDDEN' }] } });
  });

  it('a user error FORBIDDEN_ACTION is a DENIED_WRITE; a write that succeeds or fails otherwise is not', async () => {
    const r = await t.gql(admin, DEACTIVATE, { input: { userId: gid('User', s.users.admin.id), reason: 'who watches the watchmen' } });
    expect(r.data.deactivateUser.userErrors).toEqual([{ code: 'FORBIDDEN_ACTION' }]);
    const [e] = await denials('DENIED_WRITE', s.users.admin.id);
    expect(e).toMatchObject({ actorRole: 'BANK_ADMIN', requestId: r.headers.get('x-request-id') });
    expect(e!.data).toMatchObject({ operationName: 'SwitchOff', detail: { refused: [{ code: 'FORBIDDEN_ACTION', input: ['userId'], message: 'An admin cannot deactivate themselves' }] } });

    const ok = await t.gql(admin, CREATE_USER, hireInput(2));
    expect(ok.data.hire.userErrors).toEqual([]);
    const duplicate = await t.gql(admin, CREATE_USER, hireInput(2));
    expect(duplicate.data.hire.userErrors).toEqual([{ code: 'DUPLICATE' }]);
    // A read refused is not a denied write.
    expect((await t.gql(await t.token(s.users.southAgent), `{ auditEvents { totalCount } }`)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(await denials('DENIED_WRITE', s.users.admin.id)).toHaveLength(1);
    expect(await denials('DENIED_WRITE', s.users.southAgent.id)).toHaveLength(0);
  });

  it('a refused reveal of a national ID is a DENIED_REVEAL', async () => {
    const collector = await t.token(s.users.collector);
    const r = await t.gql(collector, REVEAL, { input: { debtorId, reason: 'curious about this debtor' } });
    expect(r.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const [e] = await denials('DENIED_REVEAL', s.users.collector.id);
    expect(e).toMatchObject({ actorRole: 'BANK_COLLECTOR', requestId: r.headers.get('x-request-id') });
    expect(e!.data).toEqual({ operationName: 'Peek', detail: { refused: [{ field: 'revealDebtorIdentity', code: 'FORBIDDEN' }] } });
    expect(await denials('DENIED_WRITE', s.users.collector.id)).toHaveLength(0);
    // An allowed reveal is audited as a reveal, not as a denial.
    const ok = await t.gql(await t.token(s.users.supervisor), REVEAL, { input: { debtorId, reason: 'litigation file 2026/114' } });
    expect(ok.data.revealDebtorIdentity.nationalId).toMatch(/^\d{17}[\dX]$/);
    expect(await denials('DENIED_REVEAL', s.users.supervisor.id)).toHaveLength(0);
  });
});

describe('failed API-key authentications', () => {
  it('an unknown key and a revoked key are audited (prefix only, never the key), the revoked one naming its key and user', async () => {
    const garbage = `ak_${'Z'.repeat(43)}`;
    const r = await t.gql(garbage, `{ viewer { role } }`, undefined, { 'x-request-id': 'bad-key-request-1' });
    expect(r.status).toBe(401);
    await vi.waitFor(async () => expect(await denials('AUTH_FAILED_API_KEY')).toHaveLength(1));
    const [unknown] = await denials('AUTH_FAILED_API_KEY');
    expect(unknown).toMatchObject({ actorId: null, requestId: 'bad-key-request-1', entityType: 'Request', entityId: null });
    // The address as the guard saw it ("local": a request handed to app.fetch, with no socket).
    expect(unknown!.data).toEqual({ clientAddress: 'local', detail: { reason: 'UNKNOWN', prefix: garbage.slice(0, 11) } });
    expect(JSON.stringify(unknown)).not.toContain(garbage);

    const issued = await t.gql(admin, `mutation($input: IssueApiKeyInput!) { issueApiKey(input: $input) { secret apiKey { id } } }`, {
      input: { userId: gid('User', s.users.southManager.id), name: 'south crm' },
    });
    const { secret, apiKey } = issued.data.issueApiKey;
    const keyId = Buffer.from(apiKey.id, 'base64').toString().split(':')[1];
    await t.gql(admin, `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { userErrors { code } } }`, { input: { apiKeyId: apiKey.id } });
    expect((await t.gql(secret, `{ viewer { role } }`)).status).toBe(401);
    await vi.waitFor(async () => expect(await denials('AUTH_FAILED_API_KEY', s.users.southManager.id)).toHaveLength(1));
    const [revoked] = await denials('AUTH_FAILED_API_KEY', s.users.southManager.id);
    expect(revoked).toMatchObject({ entityType: 'ApiKey', entityId: keyId });
    expect(revoked!.data).toMatchObject({ apiKeyId: keyId, detail: { reason: 'REVOKED', prefix: secret.slice(0, 11) } });
    expect(JSON.stringify(revoked)).not.toContain(secret.slice(11));
  });
});

describe('rate limits: an attack cannot flood the log', () => {
  it(`at most ${DENIAL_LIMIT_PER_MINUTE} a kind a principal a minute; the rest counted and written with the next one; other principals unaffected`, async () => {
    const manager = await t.token(s.users.northManager);
    try {
      for (let i = 0; i < DENIAL_LIMIT_PER_MINUTE + 15; i += 1) {
        expect((await t.gql(manager, CREATE_USER, hireInput(100 + i))).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      }
      expect(await denials('DENIED_WRITE', s.users.northManager.id)).toHaveLength(DENIAL_LIMIT_PER_MINUTE);
      // Another principal has its own budget; another kind too.
      const southManager = await t.token(s.users.southManager);
      await t.gql(southManager, CREATE_USER, hireInput(200));
      expect(await denials('DENIED_WRITE', s.users.southManager.id)).toHaveLength(1);
      await t.gql(manager, REVEAL, { input: { debtorId, reason: 'curious about this debtor' } });
      expect(await denials('DENIED_REVEAL', s.users.northManager.id)).toHaveLength(1);

      t.clock.advance(61_000);
      await t.gql(manager, CREATE_USER, hireInput(300));
      const all = await denials('DENIED_WRITE', s.users.northManager.id);
      expect(all).toHaveLength(DENIAL_LIMIT_PER_MINUTE + 1);
      expect(all.at(-1)!.data).toMatchObject({ suppressed: 15 });
    } finally {
      t.clock.set(TEST_NOW);
    }
  });

  it('many addresses at once are held by the global cap', async () => {
    const deps = { prisma: t.prisma, clock: t.clock, logger: t.runtime.logger };
    t.clock.advance(3_600_000);
    try {
      const before = await t.prisma.auditEvent.count({ where: { action: 'AUTH_FAILED_API_KEY' } });
      let written = 0;
      for (let i = 0; i < DENIAL_GLOBAL_LIMIT_PER_MINUTE + 50; i += 1) {
        if (await recordDenial(deps, { kind: 'AUTH_FAILED_API_KEY', clientAddress: `198.51.100.${i % 250}:${i}`, requestId: `flood-${i}` })) written += 1;
      }
      expect(written).toBe(DENIAL_GLOBAL_LIMIT_PER_MINUTE);
      expect(await t.prisma.auditEvent.count({ where: { action: 'AUTH_FAILED_API_KEY' } })).toBe(before + DENIAL_GLOBAL_LIMIT_PER_MINUTE);
    } finally {
      t.clock.set(TEST_NOW);
    }
  });
});

describe('recordDenial for the rate limiter and the authentication path', () => {
  it('THROTTLED by principal or by address; visible to admins and auditors through auditEvents, not to others', async () => {
    const deps = { prisma: t.prisma, clock: t.clock, logger: t.runtime.logger };
    expect(await recordDenial(deps, { kind: 'THROTTLED', userId: s.users.southAgent.id, role: 'AGENCY_COLLECTOR', agencyId: s.south.id, requestId: 'throttled-1', operationName: 'Cases', detail: { bucket: 'cost', retryAfterSeconds: 3 } })).toBe(true);
    expect(await recordDenial(deps, { kind: 'THROTTLED', clientAddress: '203.0.113.9', requestId: 'throttled-2', detail: 'unauthenticated requests' })).toBe(true);

    for (const reader of [admin, await t.token(s.users.auditor)]) {
      const r = await t.gql(reader, AUDIT, { f: { action: 'THROTTLED' } });
      expect(r.errors).toBeUndefined();
      expect(r.data.auditEvents.totalCount).toBe(2);
      const [byAddress, byPrincipal] = r.data.auditEvents.nodes;
      expect(byPrincipal).toMatchObject({ actorId: gid('User', s.users.southAgent.id), actorRole: 'AGENCY_COLLECTOR', agencyId: gid('Agency', s.south.id), requestId: 'throttled-1' });
      // The first event written after the global cap held (test above) reports how many it dropped.
      expect(byPrincipal.data).toEqual({ operationName: 'Cases', detail: { bucket: 'cost', retryAfterSeconds: 3 }, suppressedGlobally: 50 });
      expect(byAddress).toMatchObject({ actorId: null, requestId: 'throttled-2', data: { clientAddress: '203.0.113.9', detail: 'unauthenticated requests' } });
      // The other filters work on denials too.
      const byActor = await t.gql(reader, AUDIT, { f: { actorId: gid('User', s.users.southAgent.id), action: 'THROTTLED' } });
      expect(byActor.data.auditEvents.totalCount).toBe(1);
      const byAgency = await t.gql(reader, AUDIT, { f: { agencyId: gid('Agency', s.north.id), action: 'DENIED_WRITE' } });
      expect(byAgency.data.auditEvents.totalCount).toBeGreaterThanOrEqual(2); // the North agent and manager above
    }
    for (const who of ['supervisor', 'northManager'] as const) {
      const r = await t.gql(await t.token(s.users[who]), AUDIT, { f: { action: 'THROTTLED' } });
      expect(r.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
  });

  it('never throws: a failed write is logged and reported as not written; hostile text is stored safely', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
    const deps = { prisma: t.prisma, clock: t.clock, logger };
    // A role the database does not know: the insert fails in the store itself.
    await expect(recordDenial(deps, { kind: 'THROTTLED', userId: s.users.collector.id, role: 'NOT_A_ROLE' as Role, requestId: 'broken-1' })).resolves.toBe(false);
    expect(lines.join('')).toContain('could not record a denial');
    // NUL bytes, a non-UUID user id, an over-long request id: stored cleaned, not refused.
    await expect(
      recordDenial(deps, { kind: 'THROTTLED', userId: 'not-a-uuid', clientAddress: 'a\u0000b', requestId: `r${'x'.repeat(500)}\u0000`, operationName: 'Op\u0000', detail: { note: 'x\u0000y' } }),
    ).resolves.toBe(true);
    const [e] = await t.prisma.auditEvent.findMany({ where: { action: 'THROTTLED', actorId: null }, orderBy: { id: 'desc' }, take: 1 });
    expect(e!.requestId).toHaveLength(100);
    expect(e!.data).toEqual({ clientAddress: 'ab', operationName: 'Op', detail: { note: 'xy' } });
  });
});

describe('throttled principals, end to end', () => {
  it("a key over its cost budget gets 429 and a THROTTLED event naming the key, its user and the request", async () => {
    const issued = await t.gql(admin, `mutation($input: IssueApiKeyInput!) { issueApiKey(input: $input) { secret apiKey { id } userErrors { code } } }`, {
      input: { userId: gid('User', s.users.collector2.id), name: 'tiny budget', persistedOnly: false, costMaximum: 1000, costRestoreRate: 1 },
    });
    expect(issued.data.issueApiKey.userErrors).toEqual([]);
    const keyId = Buffer.from(issued.data.issueApiKey.apiKey.id, 'base64').toString().split(':')[1];
    const heavy = `query Heavy { cases(first: 100) { nodes { id timeline(first: 50) { nodes { id } } } } }`;
    let r = await t.gql(issued.data.issueApiKey.secret, heavy);
    for (let i = 0; i < 20 && r.status !== 429; i += 1) r = await t.gql(issued.data.issueApiKey.secret, heavy);
    expect(r.status).toBe(429);
    await vi.waitFor(async () => expect(await denials('THROTTLED', s.users.collector2.id)).not.toHaveLength(0));
    const [e] = await denials('THROTTLED', s.users.collector2.id);
    expect(e).toMatchObject({ entityType: 'ApiKey', entityId: keyId, requestId: r.headers.get('x-request-id') });
    expect(e!.data).toMatchObject({ apiKeyId: keyId, detail: expect.stringMatching(/^requested \d+, available \d+/) });
  });
});
