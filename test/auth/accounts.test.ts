/**
 * Accounts that can be switched off (issue 10, point 8): deactivateUser / reactivateUser, bank
 * admins only, audited; a deactivated user's tokens and API keys are refused from the next
 * request on; an admin cannot switch themselves off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
let admin: string;

const VIEWER = `{ viewer { role user { email active } } }`;
const DEACTIVATE = /* GraphQL */ `
  mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { id email active } userErrors { code field message } } }
`;
const REACTIVATE = /* GraphQL */ `
  mutation($input: ReactivateUserInput!) { reactivateUser(input: $input) { user { id email active } userErrors { code field message } } }
`;
const ISSUE = /* GraphQL */ `
  mutation($input: IssueApiKeyInput!) { issueApiKey(input: $input) { secret userErrors { code } } }
`;

const gid = (id: string) => encodeGlobalID('User', id);

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
});
afterAll(async () => t?.close());

describe('deactivateUser and reactivateUser', () => {
  it("switch off a user's tokens and API keys from the next request on, and back on; both audited", async () => {
    const agent = s.users.northAgent;
    const token = await t.token(agent);
    const issued = await t.gql(admin, ISSUE, { input: { userId: gid(agent.id), name: 'north dialer', persistedOnly: false } });
    const key = issued.data.issueApiKey.secret as string;
    expect((await t.gql(token, VIEWER)).data.viewer.user).toEqual({ email: agent.email, active: true });
    expect((await t.gql(key, VIEWER)).data.viewer.role).toBe('AGENCY_COLLECTOR');

    const off = await t.gql(admin, DEACTIVATE, { input: { userId: gid(agent.id), reason: 'left the agency on 27 Nov' } });
    expect(off.errors).toBeUndefined();
    expect(off.data.deactivateUser).toEqual({ user: { id: gid(agent.id), email: agent.email, active: false }, userErrors: [] });

    for (const credential of [token, key]) {
      const r = await t.gql(credential, VIEWER);
      expect(r.status).toBe(401);
      expect(r.errors?.map((e) => e.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
      expect(r.data ?? null).toBeNull();
    }
    // A fresh token for the same user is refused too: it is the user that is off, not a token.
    expect((await t.gql(await t.token(agent), VIEWER)).status).toBe(401);
    // The key was kept, not revoked.
    expect((await t.prisma.apiKey.findFirstOrThrow({ where: { userId: agent.id } })).revokedAt).toBeNull();

    const on = await t.gql(admin, REACTIVATE, { input: { userId: gid(agent.id), reason: 'rehired, contract DPA-2026-N' } });
    expect(on.data.reactivateUser).toEqual({ user: { id: gid(agent.id), email: agent.email, active: true }, userErrors: [] });
    expect((await t.gql(token, VIEWER)).data.viewer.user.active).toBe(true);
    expect((await t.gql(key, VIEWER)).data.viewer.role).toBe('AGENCY_COLLECTOR');

    const audit = await t.gql(admin, `query($f: AuditEventFilter) { auditEvents(filter: $f) { nodes { action entityType entityId reason actorId requestId } } }`, {
      f: { actorId: gid(s.users.admin.id) },
    });
    const switches = audit.data.auditEvents.nodes.filter((e: { action: string }) => e.action.startsWith('user.'));
    expect(switches.map((e: { action: string }) => e.action)).toEqual(['user.reactivate', 'user.deactivate']);
    expect(switches[1]).toMatchObject({ entityType: 'User', entityId: agent.id, reason: 'left the agency on 27 Nov', actorId: gid(s.users.admin.id) });
    expect(switches[0].reason).toBe('rehired, contract DPA-2026-N');
    for (const e of switches) expect(e.requestId).toBeTruthy();
  });

  it('an admin cannot switch themselves off; nothing changes', async () => {
    const r = await t.gql(admin, DEACTIVATE, { input: { userId: gid(s.users.admin.id), reason: 'testing the guard' } });
    expect(r.data.deactivateUser.user).toBeNull();
    expect(r.data.deactivateUser.userErrors).toEqual([{ code: 'FORBIDDEN_ACTION', field: ['userId'], message: 'An admin cannot deactivate themselves' }]);
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: s.users.admin.id } })).active).toBe(true);
    expect((await t.gql(admin, VIEWER)).status).toBe(200);
  });

  it('only bank admins: any other role gets FORBIDDEN and the user stays on', async () => {
    for (const who of ['supervisor', 'auditor', 'northManager', 'collector'] as const) {
      const r = await t.gql(await t.token(s.users[who]), DEACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'not my call at all' } });
      expect(r.errors?.[0]?.extensions?.['code'], who).toBe('FORBIDDEN');
      expect(r.data?.deactivateUser ?? null).toBeNull();
    }
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: s.users.southAgent.id } })).active).toBe(true);
  });

  it('refusals: unknown user, already in that state, no reason, a suspended agency', async () => {
    const unknown = await t.gql(admin, DEACTIVATE, { input: { userId: gid('00000000-0000-4000-8000-000000000000'), reason: 'no such person' } });
    expect(unknown.data.deactivateUser.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['userId'] });
    const noReason = await t.gql(admin, DEACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: '  ' } });
    expect(noReason.data.deactivateUser.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['reason'] });
    const already = await t.gql(admin, REACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'was never off' } });
    expect(already.data.reactivateUser.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });

    const off = await t.gql(admin, DEACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'agency under review' } });
    expect(off.data.deactivateUser.userErrors).toEqual([]);
    const twice = await t.gql(admin, DEACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'agency under review' } });
    expect(twice.data.deactivateUser.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' });
    await t.prisma.agency.update({ where: { id: s.south.id }, data: { status: 'SUSPENDED' } });
    try {
      const suspended = await t.gql(admin, REACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'review finished' } });
      expect(suspended.data.reactivateUser.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['userId'] });
    } finally {
      await t.prisma.agency.update({ where: { id: s.south.id }, data: { status: 'ACTIVE' } });
    }
    const back = await t.gql(admin, REACTIVATE, { input: { userId: gid(s.users.southAgent.id), reason: 'review finished' } });
    expect(back.data.reactivateUser.userErrors).toEqual([]);
    expect(await t.prisma.auditEvent.count({ where: { entityId: s.users.southAgent.id, action: { in: ['user.deactivate', 'user.reactivate'] } } })).toBe(2);
  });

  it('two admins switching each other off at once: one wins, the other is refused', async () => {
    const [a, b] = await Promise.all(
      ['one', 'two'].map((n) => t.prisma.user.create({ data: { email: `admin-${n}@bank.example`, fullName: `Admin ${n}`, role: 'BANK_ADMIN' } })),
    );
    const [ta, tb] = await Promise.all([t.token(a!), t.token(b!)]);
    const [ra, rb] = await Promise.all([
      t.gql(ta, DEACTIVATE, { input: { userId: gid(b!.id), reason: 'mutual distrust' } }),
      t.gql(tb, DEACTIVATE, { input: { userId: gid(a!.id), reason: 'mutual distrust' } }),
    ]);
    const results = [ra, rb].map((r) => (r.status === 401 ? 'refused at the door' : r.data.deactivateUser.userErrors.length === 0 ? 'done' : r.data.deactivateUser.userErrors[0].code));
    expect(results.filter((x) => x === 'done')).toHaveLength(1);
    const active = await t.prisma.user.findMany({ where: { id: { in: [a!.id, b!.id] } }, select: { active: true } });
    expect(active.filter((u) => u.active)).toHaveLength(1);
  });
});
