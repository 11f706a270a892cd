// Rate limits: a leaky bucket of cost points per principal (Shopify's shape), a request budget per
// client address for requests without valid credentials, both shared through Redis when it is
// configured; 429 with Retry-After, and the SDK waits it out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createArrearsClient, RateLimitedError } from '../../sdk/src/index.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { MemoryCostBuckets, RedisCostBuckets, AddressLimiter } from '../../src/server/rate-limit.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { redisReachable, redisUrl } from '../support/redis.ts';

let t: TestApp;
let s: Scenario;
let admin: string;

beforeAll(async () => {
  t = await createTestApp({ env: { ARREARS_ANONYMOUS_REQUESTS_PER_MINUTE: '5' } });
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
  for (let i = 0; i < 5; i++) await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 10 + i, agencyId: null });
});
afterAll(async () => t?.close());

const ISSUE = /* GraphQL */ `
  mutation($input: IssueApiKeyInput!) {
    issueApiKey(input: $input) { secret apiKey { id persistedOnly costMaximum costRestoreRate } userErrors { code field message } }
  }
`;

async function issueKey(extra: Record<string, unknown>): Promise<string> {
  const r = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', s.users.supervisor.id), name: `key ${Math.random()}`, ...extra } });
  expect(r.errors).toBeUndefined();
  expect(r.data.issueApiKey.userErrors).toEqual([]);
  return r.data.issueApiKey.secret as string;
}

async function raw(token: string | null, query: string, variables?: Record<string, unknown>) {
  const response = await t.runtime.app.fetch(
    new Request('http://arrears.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('the leaky bucket', () => {
  it('takes the cost, restores points by the second, and says how long to wait', async () => {
    let now = 1_000_000;
    const buckets = new MemoryCostBuckets(() => now);
    const budget = { maximumAvailable: 100, restoreRate: 10 };
    expect(await buckets.take('p', 30, budget)).toMatchObject({ allowed: true, status: { currentlyAvailable: 70 } });
    const refused = await buckets.take('p', 80, budget);
    expect(refused).toMatchObject({ allowed: false, status: { currentlyAvailable: 70 }, retryAfterMs: 1_000 });
    now += 1_000;
    expect(await buckets.take('p', 80, budget)).toMatchObject({ allowed: true, status: { currentlyAvailable: 0 } });
    now += 60_000; // never above the bucket's size
    expect(await buckets.take('p', 0, budget)).toMatchObject({ allowed: true, status: { currentlyAvailable: 100 } });
    expect(await buckets.take('other', 100, budget)).toMatchObject({ allowed: true }); // one bucket per principal
  });

  it('refuses an API key over its own budget with 429, THROTTLED and Retry-After, before any SQL', async () => {
    const key = await issueKey({ persistedOnly: false, costMaximum: 1_000, costRestoreRate: 1 });
    const query = '{ cases(first: 100) { nodes { debtor { id } } } }'; // 2 + 100 × 2 = 202
    for (let i = 0; i < 4; i++) {
      const ok = await raw(key, query);
      expect(ok.status).toBe(200);
      expect(ok.body.extensions.cost).toMatchObject({ requested: 202, throttle: { maximumAvailable: 1_000, restoreRate: 1 } });
    }
    const statements: string[] = [];
    const off = t.runtime.store.onQuery((sql) => statements.push(sql));
    const refused = await raw(key, query);
    off();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'THROTTLED' });
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.extensions.cost.throttle.currentlyAvailable).toBeLessThan(202);
    expect(statements.filter((q) => q.includes('"Case"'))).toEqual([]);
  });

  it('a key’s budget is checked when it is issued', async () => {
    const r = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', s.users.supervisor.id), name: 'tiny', costMaximum: 10, costRestoreRate: 1 } });
    expect(r.data.issueApiKey.userErrors).toEqual([{ code: 'VALIDATION', field: ['costMaximum'], message: expect.any(String) }]);
    const half = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', s.users.supervisor.id), name: 'half', costMaximum: 5_000 } });
    expect(half.data.issueApiKey.userErrors[0].field).toEqual(['costRestoreRate']);
  });
});

describe('requests without valid credentials, per address', () => {
  it('answer 401 up to the budget, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await raw(`ak_not-a-key-${i}`, '{ viewer { user { id } } }');
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(r.body.errors[0].extensions.code).toBe('THROTTLED');
      } else {
        expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((x) => x === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The block is on requests without valid credentials: a signed-in user at the same address goes on.
    const user = await raw(admin, '{ viewer { user { id } } }');
    expect(user.status).toBe(200);
    expect(user.body.data.viewer.user.id).toBeTruthy();
  });
});

const haveRedis = await redisReachable(redisUrl);

describe.skipIf(!haveRedis)('shared by every instance through Redis', () => {
  it('two instances draw from one bucket per principal', async () => {
    const a = new RedisCostBuckets(redisUrl, createLogger('silent'));
    const b = new RedisCostBuckets(redisUrl, createLogger('silent'));
    await Promise.all([a.ready(), b.ready()]);
    try {
      const key = `test:${crypto.randomUUID()}`;
      const budget = { maximumAvailable: 1_000, restoreRate: 1 };
      expect(await a.take(key, 600, budget)).toMatchObject({ allowed: true, status: { currentlyAvailable: 400 } });
      const refused = await b.take(key, 600, budget);
      expect(refused.allowed).toBe(false);
      expect(refused.status.currentlyAvailable).toBeLessThan(402);
      expect(refused.retryAfterMs).toBeGreaterThan(190_000);
      expect((await b.take(key, 300, budget)).allowed).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('counts requests without credentials per address across instances', async () => {
    const options = { points: 3, durationSeconds: 60, blockSeconds: 60 };
    const a = new AddressLimiter(redisUrl, options);
    const b = new AddressLimiter(redisUrl, options);
    await Promise.all([a.ready(), b.ready()]);
    try {
      const address = `198.51.100.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;
      expect(await a.fail(address)).toBe(0);
      expect(await b.fail(address)).toBe(0);
      expect(await a.fail(address)).toBe(0);
      expect(await b.fail(address)).toBeGreaterThan(0);
      expect(await a.blockedFor(address)).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an unreachable Redis never fails a request: the instance counts on its own', async () => {
    const buckets = new RedisCostBuckets('redis://127.0.0.1:1', createLogger('silent'));
    try {
      const budget = { maximumAvailable: 100, restoreRate: 1 };
      expect(await buckets.take('p', 60, budget)).toMatchObject({ allowed: true });
      expect(await buckets.take('p', 60, budget)).toMatchObject({ allowed: false });
    } finally {
      await buckets.close();
    }
  });
});

describe('the SDK against a throttling server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await listen(t.runtime.app, '127.0.0.1', 0);
  });
  afterAll(async () => server?.close(1000));

  it('waits out Retry-After and succeeds; extensions.cost reaches onCost', async () => {
    // A persisted-only key that sends the SDK's document hashes, with a budget that fits one page at a time.
    const key = await issueKey({ costMaximum: 1_000, costRestoreRate: 500 });
    const costs: number[] = [];
    let attempts = 0;
    const client = createArrearsClient({
      url: `${server.url}/graphql`,
      token: key,
      persistedDocuments: 'hash-only',
      onCost: (cost) => costs.push(cost.throttle.currentlyAvailable),
      onRequest: () => {
        attempts += 1;
      },
    });
    const first = await client.cases({ first: 100 });
    expect(first.cases.nodes.length).toBe(5);
    const started = Date.now();
    const second = await client.cases({ first: 100 }); // over budget: 429, then a retry after Retry-After
    expect(second.cases.nodes.length).toBe(5);
    expect(attempts).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(costs.length).toBe(3);

    const impatient = createArrearsClient({ url: `${server.url}/graphql`, token: key, persistedDocuments: 'hash-only', retries: 0 });
    await impatient.cases({ first: 100 }).catch(() => undefined);
    const error = await impatient.cases({ first: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(1_000);
  });
});
