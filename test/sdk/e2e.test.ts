// The SDK against the running server (a fresh store), over real HTTP on a loopback port: a query,
// pagination over several pages, a mutation's typed user errors (returned, and thrown on
// request), an upload from a Node Buffer (multipart request spec), and a subscription over
// server-sent events that receives an event, survives a dropped connection and completes.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  AuthenticationError,
  UserErrorsError,
  createArrearsClient,
  type ArrearsClient,
  type CaseEventsSubscription,
  type UserErrorCode,
} from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
let server: RunningServer;
let endpoint: string;
let client: ArrearsClient; // North's manager
let supervisor: ArrearsClient;
const NORTH_CASES = 7;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  const now = t.clock.now();
  for (let i = 0; i < NORTH_CASES; i++) await createCase(t.prisma, t.pii, { now, daysPastDue: 20 + i, agencyId: s.north.id });
  await createCase(t.prisma, t.pii, { now, daysPastDue: 90, agencyId: s.south.id });
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  endpoint = `${server.url}/graphql`;
  const token = await t.token(s.users.northManager);
  client = createArrearsClient({ url: endpoint, getToken: async () => token });
  supervisor = createArrearsClient({ url: endpoint, token: await t.token(s.users.supervisor) });
});

afterAll(async () => {
  await server?.close(1000);
  await t?.close();
});

describe('@arrears/sdk against the server', () => {
  it('reads the viewer and lists cases, typed', async () => {
    const { viewer } = await client.viewer();
    expect(viewer.role).toBe('AGENCY_MANAGER');
    expect(viewer.authMethod).toBe('JWT');
    const { cases } = await client.cases({ first: 10, orderBy: { field: 'DAYS_PAST_DUE', direction: 'DESC' } });
    expect(cases.totalCount).toBe(NORTH_CASES); // North's only
    expect(cases.nodes.every((c) => c.assignedAgency?.name === 'North Recovery')).toBe(true);
    expect(cases.nodes.map((c) => c.daysPastDue)).toEqual([...cases.nodes.map((c) => c.daysPastDue)].sort((a, b) => b - a));
    const first = cases.nodes[0]!;
    const byNumber = await client.caseByNumber({ number: first.number });
    expect(byNumber.caseByNumber?.id).toBe(first.id);
    const detail = await client.caseDetail({ id: first.id });
    expect(detail.node?.__typename).toBe('Case');
  });

  it('pages through every case, three at a time, following endCursor', async () => {
    const pages = [];
    for await (const page of client.paginate.cases({ first: 3, orderBy: { field: 'DAYS_PAST_DUE', direction: 'ASC' } })) {
      expectTypeOf(page.nodes[0]!.number).toEqualTypeOf<string>();
      pages.push(page);
    }
    expect(pages.map((p) => p.nodes.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    const numbers = pages.flatMap((p) => p.nodes.map((c) => c.number));
    expect(new Set(numbers).size).toBe(NORTH_CASES);

    // The nodes alone, and a connection under a node (a case's timeline).
    const days: number[] = [];
    for await (const c of client.paginate.cases({ first: 2, orderBy: { field: 'DAYS_PAST_DUE', direction: 'ASC' } }).nodes()) days.push(c.daysPastDue);
    expect(days).toEqual([20, 21, 22, 23, 24, 25, 26]);
    const events = [];
    for await (const page of client.paginate.caseTimeline({ id: pages[0]!.nodes[0]!.id, first: 1 })) events.push(...page.nodes);
    expect(events.map((e) => e.type)).toContain('CASE_OPENED');
  });

  it('returns a mutation’s user errors typed by code, or throws them with throwOnUserErrors', async () => {
    const { cases } = await client.cases({ first: 1 });
    const target = cases.nodes[0]!;
    const stale = { input: { caseId: target.id, reason: 'DISPUTE' as const, expectedVersion: target.version + 5 } };

    const { holdCase } = await client.holdCase(stale);
    expectTypeOf(holdCase.userErrors[0]!.code).toEqualTypeOf<UserErrorCode>();
    expect(holdCase.userErrors).toEqual([{ code: 'STALE_VERSION', field: expect.any(Array), message: expect.any(String) }]);
    expect(holdCase.hold).toBeNull();

    const error = await client.holdCase(stale, { throwOnUserErrors: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserErrorsError);
    const refused = error as UserErrorsError;
    expect(refused.kind).toBe('USER_ERRORS');
    expect(refused.has('STALE_VERSION')).toBe(true);
    expect(refused.userErrors[0]!.code).toBe('STALE_VERSION');
    expect(refused.operationName).toBe('HoldCase');
    expect(refused.message).toContain('STALE_VERSION');

    // The same client option, and a write that passes: nothing thrown.
    const strict = createArrearsClient({ url: endpoint, token: await t.token(s.users.northManager), throwOnUserErrors: true });
    await expect(strict.holdCase(stale)).rejects.toBeInstanceOf(UserErrorsError);
    const ok = await strict.holdCase({ input: { caseId: target.id, reason: 'HARDSHIP', expectedVersion: target.version } });
    expect(ok.holdCase.userErrors).toEqual([]);
    expect(ok.holdCase.hold?.reason).toBe('HARDSHIP');
    expect(ok.holdCase.case?.onHold).toBe(true);
  });

  it('uploads evidence from a Node Buffer as a multipart request', async () => {
    const { cases } = await client.cases({ first: 1, orderBy: { field: 'DAYS_PAST_DUE', direction: 'DESC' } });
    const target = cases.nodes[0]!;
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n% a note of the call\ntrailer <</Root 1 0 R>>\n%%EOF\n', 'latin1');
    const { uploadEvidence } = await client.uploadEvidence({ input: { caseId: target.id, kind: 'NOTE', description: 'Call notes', file: pdf } });
    expect(uploadEvidence.userErrors).toEqual([]);
    expect(uploadEvidence.evidence).toMatchObject({
      kind: 'NOTE',
      contentType: 'application/pdf',
      sizeBytes: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      description: 'Call notes',
    });
    expect(uploadEvidence.case).toEqual({ id: target.id, version: target.version + 1 });

    // A File (name kept), and a file the server refuses: a typed user error.
    const file = new File([pdf], '通话记录.pdf', { type: 'application/pdf' });
    const named = await client.uploadEvidence({ input: { caseId: target.id, kind: 'NOTE', file } });
    expect(named.uploadEvidence.evidence?.fileName).toBe('通话记录.pdf');
    const refused = await client.uploadEvidence({ input: { caseId: target.id, kind: 'NOTE', file: new Blob(['plain text, not a PDF']) } });
    expect(refused.uploadEvidence.userErrors.map((e) => e.code)).toEqual(['FILE_REJECTED']);

    const listed = await client.caseEvidence({ id: target.id });
    expect(listed.node?.__typename === 'Case' && listed.node.evidence.totalCount).toBe(2);
  });

  it('streams case events, reconnects after a dropped connection, and ends when the stream completes', async () => {
    const caseRow = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const id = encodeGlobalID('Case', caseRow.id);

    const connected: number[] = [];
    let onConnected: () => void = () => {};
    const nextConnection = () => new Promise<void>((resolve) => (onConnected = resolve));
    let waiting = nextConnection();
    const events = client.subscribe.caseEvents(
      { caseId: id },
      {
        reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
        onConnected: ({ attempt }) => {
          connected.push(attempt);
          onConnected();
        },
      },
    );
    const received: CaseEventsSubscription['caseEvents'][] = [];
    const reading = (async () => {
      for await (const event of events) received.push(event.caseEvents);
    })();
    const settle = () => new Promise((r) => setTimeout(r, 100)); // the server attaches the subscription

    await waiting;
    await settle();
    waiting = nextConnection();
    await supervisor.holdCase({ input: { caseId: id, reason: 'DISPUTE' } }, { throwOnUserErrors: true });
    await expect.poll(() => received.map((e) => e.type), { timeout: 5000 }).toEqual(['HOLD_PLACED']);

    // The connection drops (every socket of the server closed): the client connects again.
    server.server.closeAllConnections();
    await waiting;
    await settle();
    await supervisor.releaseCaseHold({ input: { caseId: id } }, { throwOnUserErrors: true });
    await expect.poll(() => received.map((e) => e.type), { timeout: 5000 }).toEqual(['HOLD_PLACED', 'HOLD_RELEASED']);
    expect(connected).toEqual([1, 2]);

    // A recall ends the agency's stream (`complete`): the iterator finishes, no reconnection.
    await supervisor.recallCase({ input: { caseId: id, reason: 'PERFORMANCE' } }, { throwOnUserErrors: true });
    await reading;
    expect(received.map((e) => e.type)).toEqual(['HOLD_PLACED', 'HOLD_RELEASED']);
    expect(connected).toEqual([1, 2]);
  });

  it('ends a subscription on return() and on an abort signal', async () => {
    const first = client.subscribe.caseEvents();
    const pending = first.next();
    await new Promise((r) => setTimeout(r, 100));
    await first.return();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });

    const controller = new AbortController();
    const second = client.subscribe.caseEvents({}, { signal: controller.signal });
    const next = second.next();
    controller.abort();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
  });

  it('sends only the hash of a generated document when configured, and the server runs the document it names', async () => {
    const seen: string[] = [];
    const hashed = createArrearsClient({
      url: endpoint,
      token: await t.token(s.users.northManager),
      persistedDocuments: 'hash-only',
      fetch: (url, init) => {
        seen.push(String(init.body));
        return fetch(url, init as RequestInit) as never;
      },
    });
    const { viewer } = await hashed.viewer();
    expect(viewer.role).toBe('AGENCY_MANAGER');
    expect(seen[0]).toContain('sha256:');
    expect(seen[0]).not.toContain('query Viewer'); // the document itself never travelled
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(s.users.northManager)}` },
      body: JSON.stringify({ documentId: 'sha256:0000' }),
    });
    expect((await res.json()).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'documentId' });
  });

  it('turns a bad token into an AuthenticationError with the request id, for requests and subscriptions', async () => {
    const bad = createArrearsClient({ url: endpoint, token: 'not-a-token' });
    const err = await bad.viewer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).requestId).toMatch(/.{8,}/);
    await expect(bad.subscribe.caseEvents().next()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
