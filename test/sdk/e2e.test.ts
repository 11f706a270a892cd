import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArrearsClient, AuthenticationError, type ArrearsClient } from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

/** The SDK against the running server, over real HTTP on a loopback port. */
let t: TestApp;
let s: Scenario;
let server: RunningServer;
let client: ArrearsClient;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  for (let i = 0; i < 3; i++) await createCase(t.prisma, t.pii, { now, daysPastDue: 20 + i, agencyId: s.north.id });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 90, agencyId: s.south.id });
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  const token = await t.token(s.users.northManager);
  client = createArrearsClient({ url: `${server.url}/graphql`, getToken: async () => token });
});

afterAll(async () => {
  await server?.close(1000);
  await t?.close();
});

describe('@arrears/sdk against the server', () => {
  it('reads the viewer and lists cases, typed', async () => {
    const { viewer } = await client.viewer();
    expect(viewer.role).toBe('AGENCY_MANAGER');
    const { cases } = await client.cases({ first: 10 });
    expect(cases.totalCount).toBe(3); // North's only
    expect(cases.nodes.every((c) => c.assignedAgency?.name === 'North Recovery')).toBe(true);
    const first = cases.nodes[0]!;
    const byNumber = await client.caseByNumber({ number: first.number });
    expect(byNumber.caseByNumber?.id).toBe(first.id);
    const detail = await client.caseDetail({ id: first.id });
    expect(detail.node?.__typename).toBe('Case');
  });

  it('turns a bad token into an AuthenticationError with the request id', async () => {
    const bad = createArrearsClient({ url: `${server.url}/graphql`, token: 'not-a-token' });
    const err = await bad.viewer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).requestId).toMatch(/.{8,}/);
  });
});
