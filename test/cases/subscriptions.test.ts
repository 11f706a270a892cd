import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { subscribe } from '../support/sse.ts';
import { startRuntime } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createEventBus } from '../../src/events/bus.ts';
import { redisReachable, redisUrl } from '../support/redis.ts';

let t: TestApp;
let s: Scenario;
const tok: Record<string, string> = {};
const gid = (type: string, id: string) => encodeGlobalID(type, id);
const EVENTS = `subscription($caseId: ID) { caseEvents(caseId: $caseId) { type summary } }`;
const HOLD = `mutation($input: HoldCaseInput!) { holdCase(input: $input) { userErrors { code } } }`;
const RELEASE = `mutation($input: ReleaseCaseHoldInput!) { releaseCaseHold(input: $input) { userErrors { code } } }`;
const RECALL = `mutation($input: RecallCaseInput!) { recallCase(input: $input) { userErrors { code } } }`;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  for (const [k, u] of Object.entries(s.users)) tok[k] = await t.token(u);
});
afterAll(async () => t?.close());

describe('caseEvents over server-sent events', () => {
  it('delivers a case’s events to the agency holding it, and ends the stream when the case is recalled', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const id = gid('Case', c.id);
    const sub = await subscribe((r) => t.runtime.app.fetch(r), tok.northManager!, EVENTS, { caseId: id });
    await new Promise((r) => setTimeout(r, 50)); // let the subscription attach
    await t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'DISPUTE' } });
    expect((await sub.next()).data.caseEvents.type).toBe('HOLD_PLACED');
    await t.gql(tok.supervisor!, RELEASE, { input: { caseId: id } });
    expect((await sub.next()).data.caseEvents.type).toBe('HOLD_RELEASED');
    await t.gql(tok.supervisor!, RECALL, { input: { caseId: id, reason: 'PERFORMANCE' } });
    expect(await sub.next()).toBeNull(); // completed, and the recall event itself was not delivered
    sub.close();
  });

  it('ends a deactivated user’s open stream at its next event', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const id = gid('Case', c.id);
    const sub = await subscribe((r) => t.runtime.app.fetch(r), tok.northManager!, EVENTS);
    await new Promise((r) => setTimeout(r, 50));
    await t.prisma.user.update({ where: { id: s.users.northManager.id }, data: { active: false } });
    try {
      await t.gql(tok.supervisor!, HOLD, { input: { caseId: id, reason: 'DISPUTE' } });
      const next = await sub.next();
      // Either an error naming the sign-out, or the end of the stream: never the event.
      expect(next === null || next.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED').toBe(true);
      if (next) expect(await sub.next()).toBeNull();
    } finally {
      sub.close();
      await t.prisma.user.update({ where: { id: s.users.northManager.id }, data: { active: true } });
    }
  });

  it('never delivers another agency’s events, and refuses a subscription to an invisible case like a missing one', async () => {
    const north = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    const south = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.south.id });
    const all = await subscribe((r) => t.runtime.app.fetch(r), tok.northManager!, EVENTS);
    await new Promise((r) => setTimeout(r, 50));
    await t.gql(tok.supervisor!, HOLD, { input: { caseId: gid('Case', south.id), reason: 'DISPUTE' } });
    await t.gql(tok.supervisor!, HOLD, { input: { caseId: gid('Case', north.id), reason: 'HARDSHIP' } });
    const got = await all.next();
    expect(got.data.caseEvents.summary).toContain('HARDSHIP'); // the South hold came first and was skipped
    all.close();
    const denied = await subscribe((r) => t.runtime.app.fetch(r), tok.northManager!, EVENTS, { caseId: gid('Case', south.id) });
    const first = await denied.next();
    expect(first.errors[0].extensions.code).toBe('NOT_FOUND');
    denied.close();
  });
});

const haveRedis = await redisReachable(redisUrl);

describe.skipIf(!haveRedis)('two instances through Redis', () => {
  it('a write on one instance reaches a subscriber on the other', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redisUrl, ARREARS_DATA_DIR: '/nonexistent' });
    const secrets = t.runtime.secrets;
    const common = { clock: t.clock, store: t.runtime.store, secrets, migrate: false, logger: createLogger('silent') } as const;
    const a = await startRuntime(config, { ...common, events: createEventBus(redisUrl) });
    const b = await startRuntime(config, { ...common, events: createEventBus(redisUrl) });
    try {
      const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), collectorId: s.users.collector.id });
      const sub = await subscribe((r) => b.app.fetch(r), tok.collector!, EVENTS, { caseId: gid('Case', c.id) });
      await new Promise((r) => setTimeout(r, 200)); // Redis SUBSCRIBE round trip
      const res = await a.app.fetch(
        new Request('http://arrears.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.supervisor}` },
          body: JSON.stringify({ query: HOLD, variables: { input: { caseId: gid('Case', c.id), reason: 'LEGAL' } } }),
        }),
      );
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.errors ?? body.data.holdCase.userErrors).toEqual([]);
      expect((await sub.next(5000)).data.caseEvents.type).toBe('HOLD_PLACED');
      sub.close();
    } finally {
      // The store is shared with the test app: close only the buses.
      await a.deps.events!.close();
      await b.deps.events!.close();
    }
  });
});
