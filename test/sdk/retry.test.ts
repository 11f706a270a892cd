// Retries and timeouts of the SDK against a fake fetch, on fake timers: which failures are
// retried (network, timeout, 429, 503), how long the client waits (exponential backoff with
// jitter, Retry-After honoured), at most 3 retries, queries only (mutations with an
// idempotency key), cancellation during a wait, and the per-attempt timeout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
  backoffDelay,
  createArrearsClient,
  type ArrearsClientOptions,
  type FetchFunction,
  type FetchRequestInit,
  type OutgoingRequest,
  type ViewerQuery,
} from '../../sdk/src/index.ts';

const ENDPOINT = 'https://arrears.example/graphql';
const VIEWER: ViewerQuery = {
  viewer: { role: 'AUDITOR', authMethod: 'JWT', user: { id: 'VXNlcjox', email: 'auditor@bank.example', fullName: 'Auditor', role: 'AUDITOR', agency: null } },
};
const PAYMENT = {
  recordPayment: { replayed: false, payment: null, case: null, userErrors: [] },
};

type Answer = Response | Error | 'hang' | 'hang-body';

interface Call {
  at: number;
  init: FetchRequestInit;
}

/** A fetch that answers with the next of `answers` (the last one repeats) and records when it was called. */
function scripted(answers: Answer[], options: Partial<ArrearsClientOptions> = {}) {
  const calls: Call[] = [];
  const fetch = vi.fn<FetchFunction>(async (_url, init) => {
    calls.push({ at: Date.now(), init });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (answer instanceof Error) throw answer;
    if (answer === 'hang') return new Promise<never>(() => {}); // ignores its signal, like some polyfills
    if (answer === 'hang-body') return { status: 200, headers: new Headers(), text: () => new Promise<string>(() => {}) };
    return answer.clone();
  });
  const client = createArrearsClient({ url: ENDPOINT, token: 'tok', fetch, ...options });
  return { client, calls, fetch, gaps: () => calls.slice(1).map((c, i) => c.at - calls[i]!.at) };
}

const ok = (data: unknown = VIEWER) => new Response(JSON.stringify({ data }), { status: 200, headers: { 'content-type': 'application/json' } });
const status = (code: number, headers: Record<string, string> = {}, body = '') => new Response(body, { status: code, headers });
const offline = () => new TypeError('fetch failed');

/** Runs `promise` to its end on fake timers; resolves to its value or its rejection. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  return outcome;
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-28T10:00:00.000Z') });
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('backoff', () => {
  it('doubles from the base, jittered between half and all of it, capped', () => {
    const policy = { baseDelayMs: 300, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };
    expect([1, 2, 3].map((n) => backoffDelay(n, null, policy, () => 0))).toEqual([150, 300, 600]);
    expect([1, 2, 3].map((n) => backoffDelay(n, null, policy, () => 1))).toEqual([300, 600, 1200]);
    expect(backoffDelay(10, null, policy, () => 1)).toBe(10_000);
  });

  it('never waits less than Retry-After, and gives up on one longer than maxRetryAfterMs', () => {
    const policy = { baseDelayMs: 300, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };
    expect(backoffDelay(1, 5_000, policy, () => 0)).toBe(5_000);
    expect(backoffDelay(1, 5_000, policy, () => 1)).toBe(5_300); // jitter on top
    expect(backoffDelay(3, 0, policy, () => 0)).toBe(600); // the backoff when the server says 0
    expect(backoffDelay(1, 61_000, policy)).toBeNull();
  });
});

describe('queries are retried', () => {
  it('after network failures, with exponential backoff', async () => {
    const { client, calls, gaps } = scripted([offline(), offline(), ok()]);
    const { value } = await settle(client.viewer());
    expect(value).toEqual(VIEWER);
    expect(calls).toHaveLength(3);
    expect(gaps()).toEqual([225, 450]); // (150..300) then (300..600), random 0.5
  });

  it('after HTTP 503 and 429, honouring Retry-After in seconds and as an HTTP date', async () => {
    const { client, calls, gaps } = scripted([
      status(503, { 'retry-after': '2' }, '<html>Service Unavailable</html>'),
      status(429, { 'retry-after': 'Sat, 28 Nov 2026 10:00:07 GMT' }),
      ok(),
    ]);
    const { value } = await settle(client.viewer());
    expect(value).toEqual(VIEWER);
    expect(calls).toHaveLength(3);
    const [first, second] = gaps();
    expect(first).toBe(2_000 + 150); // Retry-After, and up to baseDelayMs of jitter (0.5 · 300)
    expect(first! + second!).toBeGreaterThanOrEqual(7_000); // until the date given
  });

  it('a GraphQL body with HTTP 503 is retried too', async () => {
    const unavailable = new Response(JSON.stringify({ errors: [{ message: 'Database unavailable' }] }), { status: 503, headers: { 'content-type': 'application/json' } });
    const { client, calls } = scripted([unavailable, ok()]);
    expect((await settle(client.viewer())).value).toEqual(VIEWER);
    expect(calls).toHaveLength(2);
  });

  it('at most 3 times: the 4th failure is thrown, with the number of attempts', async () => {
    const { client, calls, gaps } = scripted([offline()]);
    const { error } = await settle(client.viewer());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ kind: 'NETWORK', attempts: 4 });
    expect(calls).toHaveLength(4);
    expect(gaps()).toEqual([225, 450, 900]);
  });

  it('fewer when configured (a number, options, or per request), never more than 3', async () => {
    const two = scripted([offline()], { retries: 2 });
    await settle(two.client.viewer());
    expect(two.calls).toHaveLength(3);

    const fast = scripted([offline()], { retries: { max: 1, baseDelayMs: 10 } });
    await settle(fast.client.viewer());
    expect(fast.gaps()).toEqual([8]);

    const perRequest = scripted([offline()]);
    await settle(perRequest.client.viewer(undefined, { retries: 0 }));
    expect(perRequest.calls).toHaveLength(1);

    expect(() => createArrearsClient({ url: ENDPOINT, retries: 4 })).toThrow(RangeError);
    expect(() => createArrearsClient({ url: ENDPOINT, retries: -1 })).toThrow(RangeError);
  });

  it('not when Retry-After is longer than maxRetryAfterMs', async () => {
    const { client, calls } = scripted([status(429, { 'retry-after': '3600' })]);
    const { error } = await settle(client.viewer());
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(3_600_000);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['a GraphQL error (400)', () => new Response(JSON.stringify({ errors: [{ message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }), { status: 400 }), GraphQLRequestError],
    ['HTTP 500', () => status(500, {}, 'oops'), HttpError],
    ['HTTP 502', () => status(502, {}, 'bad gateway'), HttpError],
    ['HTTP 401', () => status(401), Error],
  ])('not after %s', async (_what, answer, type) => {
    const { client, calls } = scripted([answer()]);
    const { error } = await settle(client.viewer());
    expect(error).toBeInstanceOf(type);
    expect(calls).toHaveLength(1);
  });

  it('asking getToken again and calling onRequest before each attempt', async () => {
    let n = 0;
    const seen: OutgoingRequest[] = [];
    const { client, calls } = scripted([offline(), ok()], {
      token: undefined,
      getToken: () => `jwt-${++n}`,
      onRequest: (request) => {
        seen.push({ ...request, headers: { ...request.headers } });
        request.headers['traceparent'] = `00-trace-${request.attempt}`;
      },
    });
    await settle(client.viewer());
    expect(calls.map((c) => c.init.headers['authorization'])).toEqual(['Bearer jwt-1', 'Bearer jwt-2']);
    expect(calls.map((c) => c.init.headers['traceparent'])).toEqual(['00-trace-1', '00-trace-2']);
    expect(seen.map((r) => [r.attempt, r.operationName, r.operationType, r.upload])).toEqual([
      [1, 'Viewer', 'query', false],
      [2, 'Viewer', 'query', false],
    ]);
    expect(seen[0]!.url).toBe(ENDPOINT);
  });

  it('stops waiting when the caller aborts: the abort reason, no further attempt', async () => {
    const controller = new AbortController();
    const { client, calls } = scripted([offline(), ok()]);
    const pending = client.viewer(undefined, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100); // inside the first backoff (225 ms)
    controller.abort(new Error('user left the page'));
    const error = await pending;
    await vi.runAllTimersAsync();
    expect(error).toEqual(new Error('user left the page'));
    expect(calls).toHaveLength(1);
  });
});

describe('mutations', () => {
  it('are not retried without an idempotency key', async () => {
    const { client, calls } = scripted([offline(), ok(PAYMENT)]);
    const { error } = await settle(client.holdCase({ input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' } }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(calls).toHaveLength(1);
  });

  it('are retried when the input carries an idempotencyKey (recordPayment)', async () => {
    const { client, calls } = scripted([offline(), status(503), ok(PAYMENT)]);
    const input = { caseId: 'Q2FzZTox', amount: 50_000, currency: 'CNY' as const, channel: 'BANK_TRANSFER' as const, receivedAt: '2026-11-28T09:00:00Z', idempotencyKey: 'pay-2026-11-28-0001' };
    const { value } = await settle(client.recordPayment({ input }));
    expect(value).toEqual(PAYMENT);
    expect(calls).toHaveLength(3);
    // The same key every time: the server records the payment once.
    expect(calls.map((c) => JSON.parse(c.init.body as string).variables.input.idempotencyKey)).toEqual(Array(3).fill('pay-2026-11-28-0001'));
  });

  it('are retried when the variables carry a top-level idempotencyKey, not an empty one', async () => {
    const document = 'mutation Pay($idempotencyKey: String!) { pay(key: $idempotencyKey) { ok } }';
    const keyed = scripted([offline(), ok({ pay: { ok: true } })]);
    await settle(keyed.client.request(document, { idempotencyKey: 'k-1' }));
    expect(keyed.calls).toHaveLength(2);
    const empty = scripted([offline()]);
    await settle(empty.client.request(document, { idempotencyKey: '' }));
    expect(empty.calls).toHaveLength(1);
  });
});

describe('timeouts', () => {
  it('cancel an attempt after timeoutMs; a query is retried, then a TimeoutError is thrown', async () => {
    const { client, calls, gaps } = scripted(['hang'], { timeoutMs: 1_000 });
    const { error } = await settle(client.viewer());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ kind: 'TIMEOUT', timeoutMs: 1_000, attempts: 4, operationName: 'Viewer', status: null });
    expect(calls).toHaveLength(4);
    expect(gaps()).toEqual([1_225, 1_450, 1_900]);
    expect(calls.every((c) => c.init.signal?.aborted)).toBe(true); // the fetch was told to stop
  });

  it('cover reading the answer too', async () => {
    const { client, calls } = scripted(['hang-body', ok()], { timeoutMs: 500 });
    const { value } = await settle(client.viewer());
    expect(value).toEqual(VIEWER);
    expect(calls).toHaveLength(2);
  });

  it('per request, and a mutation without a key times out once', async () => {
    const { client, calls } = scripted(['hang']);
    const started = Date.now();
    const { error } = await settle(client.holdCase({ input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' } }, { timeoutMs: 250 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBe(250);
    expect(calls).toHaveLength(1);
  });

  it('default to 30 s; 0 means none', async () => {
    const { client } = scripted(['hang'], { retries: 0 });
    const started = Date.now();
    const { error } = await settle(client.viewer());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBe(30_000);

    const endless = scripted(['hang'], { retries: 0, timeoutMs: 0 });
    let done = false;
    void endless.client.viewer().finally(() => (done = true));
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(done).toBe(false);
  });
});
