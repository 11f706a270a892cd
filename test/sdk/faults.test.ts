// The SDK and the server's retryable failures (issue 11, point 3) and resumption (point 1):
// RETRY is retried for any operation (the server rolled it back), UNAVAILABLE (503, Retry-After)
// like other 503s; a subscription that reconnects sends Last-Event-ID with the last id it got.
import { describe, expect, it } from 'vitest';
import { GraphQLRequestError, createArrearsClient, type FetchFunction, type FetchRequestInit } from '../../sdk/src/index.ts';

const ENDPOINT = 'https://arrears.example/graphql';
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const HELD = { holdCase: { case: null, hold: null, userErrors: [] } };
const retryError = { data: { holdCase: null }, errors: [{ message: 'send it again', path: ['holdCase'], extensions: { code: 'RETRY' } }] };
const unavailable = { errors: [{ message: 'The database is unavailable right now', extensions: { code: 'UNAVAILABLE' } }] };

function scripted(answers: (() => Response)[]) {
  const calls: FetchRequestInit[] = [];
  const fetch: FetchFunction = async (_url, init) => {
    calls.push(init);
    return answers[Math.min(calls.length - 1, answers.length - 1)]!();
  };
  return { calls, client: createArrearsClient({ url: ENDPOINT, token: 'tok', fetch, retries: { max: 3, baseDelayMs: 5, maxDelayMs: 20 } }) };
}

describe('retryable failures', () => {
  it('sends a mutation again after RETRY, even without an idempotency key (nothing was done)', async () => {
    const { calls, client } = scripted([() => json(retryError), () => json(retryError), () => json({ data: HELD })]);
    const out = await client.holdCase({ input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' } });
    expect(out).toEqual(HELD);
    expect(calls).toHaveLength(3);
  });

  it('gives up after the retries with the RETRY error', async () => {
    const { calls, client } = scripted([() => json(retryError)]);
    const err = await client.holdCase({ input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLRequestError);
    expect((err as GraphQLRequestError).errors[0]?.extensions?.['code']).toBe('RETRY');
    expect(calls).toHaveLength(4);
  });

  it('retries a query answered UNAVAILABLE (503), waiting at least Retry-After', async () => {
    const viewer = { viewer: { role: 'AUDITOR', authMethod: 'JWT', user: null } };
    const { calls, client } = scripted([() => json(unavailable, 503, { 'retry-after': '1' }), () => json({ data: viewer })]);
    const started = Date.now();
    expect(await client.viewer()).toEqual(viewer);
    expect(calls).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('does not resend a mutation without a key after UNAVAILABLE (it may have been done)', async () => {
    const { calls, client } = scripted([() => json(unavailable, 503, { 'retry-after': '0' })]);
    await expect(client.holdCase({ input: { caseId: 'Q2FzZTox', reason: 'DISPUTE' } })).rejects.toBeInstanceOf(GraphQLRequestError);
    expect(calls).toHaveLength(1);
  });
});

describe('subscriptions', () => {
  it('send Last-Event-ID with the id of the last event received when they reconnect', async () => {
    const event = (id: string, type: string) => `event: next\nid: ${id}\ndata: ${JSON.stringify({ data: { caseEvents: { type } }, extensions: { eventId: id } })}\n\n`;
    const bodies = [
      // The first connection gets two events, then the server shuts down (the body ends, no `complete`).
      `:\n\n${event('41', 'HOLD_PLACED')}${event('42', 'HOLD_RELEASED')}`,
      `:\n\n${event('43', 'HOLD_PLACED')}event: complete\ndata:\n\n`,
    ];
    const seen: (string | undefined)[] = [];
    const fetch: FetchFunction = async (_url, init) => {
      seen.push(init.headers['last-event-id']);
      const body = bodies[seen.length - 1] ?? 'event: complete\ndata:\n\n';
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
    const client = createArrearsClient({ url: ENDPOINT, token: 'tok', fetch });
    const types: string[] = [];
    for await (const e of client.subscribe.caseEvents({}, { reconnect: { baseDelayMs: 5, maxDelayMs: 10 } })) types.push(e.caseEvents.type);
    expect(types).toEqual(['HOLD_PLACED', 'HOLD_RELEASED', 'HOLD_PLACED']);
    expect(seen).toEqual([undefined, '42']);
  });
});
