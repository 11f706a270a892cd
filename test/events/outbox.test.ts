// Live events through the transactional outbox (src/events): written with the change, relayed
// by one leased relay with contiguous positions, delivered whatever the transport does (a dead
// Redis neither crashes the process nor loses an event), resumed with Last-Event-ID, new cases
// included, old rows pruned.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { openStream } from '../support/sse-raw.ts';
import { startRuntime } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createEventBus, memoryTransport } from '../../src/events/bus.ts';
import { LiveEvents, RELAY_LEASE } from '../../src/events/live.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);
const URL_ = 'http://arrears.test/graphql';
const EVENTS = `subscription($caseId: ID) { caseEvents(caseId: $caseId) { type summary } }`;
const HOLD = `mutation($input: HoldCaseInput!) { holdCase(input: $input) { userErrors { code } } }`;
const RELEASE = `mutation($input: ReleaseCaseHoldInput!) { releaseCaseHold(input: $input) { userErrors { code } } }`;
const OPEN = `mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } userErrors { code field message } } }`;
const IMPORT = `mutation($input: ImportCasesInput!) { importCases(input: $input) { created userErrors { code } } }`;
const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

const intakeRow = (n: number) => ({
  account: { externalRef: `OUTBOX-ACC-${n}`, cardLast4: '4321', product: 'Gold', creditLimit: 5_000_000, currency: 'CNY' },
  debtor: {
    externalRef: `OUTBOX-CUS-${n}`,
    fullName: `王${n}`,
    nationalId: `11010519850101${String(2000 + n).slice(-4)}`,
    contactPoints: [{ kind: 'MOBILE', value: `1381234${String(n).padStart(4, '0')}` }],
    addresses: [{ kind: 'HOME', line1: `${n} 长安街`, city: '北京', region: '北京' }],
  },
  dueDate: '2026-10-15',
  principal: 800_000,
  interest: 20_000,
  fees: 5_000,
});

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

describe('the outbox', () => {
  it('takes a write’s events in its transaction, and nothing from a refused write', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const before = await t.prisma.eventOutbox.count();
    const held = await t.gql(tok.supervisor!, HOLD, { input: { caseId: gid('Case', c.id), reason: 'DISPUTE' } });
    expect(held.data.holdCase.userErrors).toEqual([]);
    const event = await t.prisma.caseEvent.findFirstOrThrow({ where: { caseId: c.id, type: 'HOLD_PLACED' } });
    expect(await t.prisma.eventOutbox.findUnique({ where: { eventId: event.id } })).toMatchObject({ caseId: c.id });
    expect(await t.prisma.eventOutbox.count()).toBe(before + 1);
    // Refused (already on hold): rolled back, so no outbox row either.
    const again = await t.gql(tok.supervisor!, HOLD, { input: { caseId: gid('Case', c.id), reason: 'DISPUTE' } });
    expect(again.data.holdCase.userErrors[0].code).toBeTruthy();
    expect(await t.prisma.eventOutbox.count()).toBe(before + 1);
  });

  it('gives contiguous positions in order, one relay at a time, and publishes each row once', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const published: string[] = [];
    const off = t.runtime.events.transport.subscribe((ms) => published.push(...ms.map((m) => m.position)));
    await t.runtime.events.runRelay();
    published.length = 0;
    for (let i = 0; i < 3; i++) {
      await t.gql(tok.supervisor!, HOLD, { input: { caseId: gid('Case', c.id), reason: 'DISPUTE' } });
      await t.gql(tok.supervisor!, RELEASE, { input: { caseId: gid('Case', c.id) } });
    }
    // A bulk insert (as an import writes): one relay batch across 9 → 10 → 11…, which must not
    // be ordered as text.
    await t.prisma.caseEvent.createMany({
      data: Array.from({ length: 14 }, (_, i) => ({ caseId: c.id, type: 'NOTE', actorLabel: 'system', occurredAt: t.clock.now(), summary: `bulk ${i}` })),
    });
    const heard: string[] = [];
    const transport = memoryTransport();
    transport.subscribe((ms) => heard.push(...ms.map((m) => m.position)));
    const other = new LiveEvents({ sql: t.runtime.store.sql, clock: t.clock, logger: createLogger('silent') }, transport, { pollMs: 60_000 });
    await Promise.all([t.runtime.events.runRelay(), other.runRelay(), t.runtime.events.runRelay(), other.runRelay()]);
    const rows = await t.prisma.eventOutbox.findMany({ orderBy: { id: 'asc' } });
    expect(rows.every((r) => r.position !== null && r.publishedAt !== null)).toBe(true);
    const positions = rows.map((r) => Number(r.position)).sort((a, b) => a - b);
    expect(positions).toEqual(positions.map((_, i) => i + 1)); // 1..n, no gap, no repeat
    // Published once each, in numeric order.
    off();
    expect(published.length).toBeGreaterThanOrEqual(16);
    expect(published.map(Number)).toEqual([...published.map(Number)].sort((a, b) => a - b));
    expect(new Set(published).size).toBe(published.length);
    // The test app's relay holds the lease: the other instance relayed nothing.
    expect(heard).toEqual([]);
    const lease = await t.prisma.jobLease.findUniqueOrThrow({ where: { name: RELAY_LEASE } });
    expect(lease.owner).toBe(t.runtime.events.owner);
    await other.close();
  });

  it('prunes published rows older than the retention, and keeps the rest', async () => {
    await t.runtime.events.runRelay();
    const old = await t.prisma.eventOutbox.findFirstOrThrow({ orderBy: { id: 'asc' } });
    await t.prisma.eventOutbox.update({ where: { id: old.id }, data: { createdAt: new Date(t.clock.now().getTime() - 4 * 24 * 3600_000) } });
    const before = await t.prisma.eventOutbox.count();
    expect(await t.runtime.events.prune()).toBe(1);
    expect(await t.prisma.eventOutbox.count()).toBe(before - 1);
    expect(await t.prisma.eventOutbox.findUnique({ where: { id: old.id } })).toBeNull();
  });
});

describe('delivery', () => {
  it('resumes after Last-Event-ID: what was missed first, in order, then live events', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const id = gid('Case', c.id);
    const first = await openStream(t.runtime.app.fetch, URL_, tok.northManager!, EVENTS, { caseId: id });
    await settle();
    await t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'DISPUTE' } });
    const a = (await first.next())!;
    expect(a.data.data.caseEvents.type).toBe('HOLD_PLACED');
    expect(a.id).toMatch(/^\d+$/);
    expect(a.data.extensions.eventId).toBe(a.id);
    first.close();
    // Missed while disconnected:
    await t.gql(tok.supervisor!, RELEASE, { input: { caseId: id } });
    await t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'HARDSHIP' } });
    await t.runtime.events.runRelay();
    const resumed = await openStream(t.runtime.app.fetch, URL_, tok.northManager!, EVENTS, { caseId: id }, { 'last-event-id': a.id! });
    const b = (await resumed.next())!;
    const c2 = (await resumed.next())!;
    expect([b.data.data.caseEvents.type, c2.data.data.caseEvents.type]).toEqual(['HOLD_RELEASED', 'HOLD_PLACED']);
    expect(BigInt(b.id!)).toBeGreaterThan(BigInt(a.id!));
    expect(BigInt(c2.id!)).toBeGreaterThan(BigInt(b.id!));
    await t.gql(tok.supervisor!, RELEASE, { input: { caseId: id } });
    const live = (await resumed.next())!;
    expect(live.data.data.caseEvents.type).toBe('HOLD_RELEASED');
    expect(BigInt(live.id!)).toBeGreaterThan(BigInt(c2.id!));
    resumed.close();
    // A Last-Event-ID that is not a position is refused, clearly.
    const bad = await openStream(t.runtime.app.fetch, URL_, tok.northManager!, EVENTS, { caseId: id }, { 'last-event-id': 'yesterday' });
    const err = (await bad.next())!;
    expect(err.data.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    bad.close();
  });

  it('announces new cases (openCase, importCases) to the unfiltered stream as CASE_OPENED', async () => {
    const all = await openStream(t.runtime.app.fetch, URL_, tok.supervisor!, EVENTS);
    await settle(150);
    const opened = await t.gql(tok.supervisor!, OPEN, { input: intakeRow(1) });
    expect(opened.data.openCase.userErrors).toEqual([]);
    expect((await all.next(5000))!.data.data.caseEvents.type).toBe('CASE_OPENED');
    const imported = await t.gql(tok.admin!, IMPORT, { input: { rows: [intakeRow(2), intakeRow(3)] } });
    expect(imported.data.importCases.created).toBe(2);
    expect((await all.next(5000))!.data.data.caseEvents.type).toBe('CASE_OPENED');
    expect((await all.next(5000))!.data.data.caseEvents.type).toBe('CASE_OPENED');
    all.close();
  });
});

/** A port with nothing listening: Redis "down". */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('Redis down', () => {
  it('never crashes the process nor loses an event: writes succeed, streams get their events from the outbox', async () => {
    const rejections: unknown[] = [];
    const onRejection = (err: unknown) => rejections.push(err);
    process.on('unhandledRejection', onRejection);
    const redisUrl = `redis://127.0.0.1:${await closedPort()}`;
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redisUrl, ARREARS_DATA_DIR: '/nonexistent', ARREARS_EVIDENCE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-ev-')) });
    // The shared test app's relay must not serve this instance: it gives its lease up.
    await t.runtime.events.close();
    const r = await startRuntime(config, {
      clock: t.clock,
      store: t.runtime.store,
      secrets: t.runtime.secrets,
      migrate: false,
      logger: createLogger('silent'),
      events: createEventBus(redisUrl),
      liveEvents: { pollMs: 200 },
    });
    try {
      const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
      const id = gid('Case', c.id);
      const sub = await openStream(r.app.fetch, URL_, tok.northManager!, EVENTS, { caseId: id });
      await settle(300);
      for (const input of [{ caseId: id, reason: 'DISPUTE' }]) {
        const res = await r.app.fetch(new Request(URL_, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.supervisor}` }, body: JSON.stringify({ query: HOLD, variables: { input } }) }));
        expect(res.status).toBe(200);
        expect((await res.json()).data.holdCase.userErrors).toEqual([]);
      }
      const res2 = await r.app.fetch(new Request(URL_, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.supervisor}` }, body: JSON.stringify({ query: RELEASE, variables: { input: { caseId: id } } }) }));
      expect((await res2.json()).data.releaseCaseHold.userErrors).toEqual([]);
      expect((await sub.next(5000))!.data.data.caseEvents.type).toBe('HOLD_PLACED');
      expect((await sub.next(5000))!.data.data.caseEvents.type).toBe('HOLD_RELEASED');
      sub.close();
      // Positioned but not published: kept for the relay to publish when Redis returns.
      const unpublished = await t.prisma.eventOutbox.count({ where: { caseId: c.id, publishedAt: null, position: { not: null } } });
      expect(unpublished).toBe(3); // CASE_OPENED, HOLD_PLACED, HOLD_RELEASED
      expect(await t.prisma.eventOutbox.count({ where: { caseId: c.id } })).toBe(3);
      // /readyz: ready for requests, Redis named as down.
      const ready = await r.app.fetch(new Request('http://arrears.test/readyz'));
      expect(ready.status).toBe(200);
      const body = await ready.json();
      expect(body.status).toBe('degraded');
      expect(body.down).toEqual(['redis']);
      await settle(500);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await r.events.close();
    }
  });
});
