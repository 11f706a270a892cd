import http from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApp, type App } from '../../src/server.ts';
import { dispatchDueReminders } from '../../src/modules/contact/outbox.ts';
import { ProviderError, RecordingProvider, WebhookProvider, maskDestination, providerFromEnv, signWebhook, verifyWebhookSignature } from '../../src/modules/contact/providers.ts';
import { useDeliveryReceipts } from '../../src/modules/contact/webhooks.ts';
import { ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import { mobileOf } from './support.ts';

const SECRET = 'gateway-shared-secret-0123456789';
const logger = createLogger('silent');

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny gateway on 127.0.0.1 that records requests and answers what it is told. */
async function gateway() {
  const received: Received[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"providerMessageId":"gw-1"}' };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sms`,
    received,
    answer(status: number, body = '') {
      answer = { status, body };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const message = { reminderId: '0190a0b0-0000-7000-8000-000000000001', idempotencyKey: 'key-0001-abcdef', channel: 'SMS' as const, to: '13800001234', body: '【示例银行】测试' };

describe('WebhookProvider', () => {
  let gw: Awaited<ReturnType<typeof gateway>>;
  beforeAll(async () => {
    gw = await gateway();
  });
  afterAll(async () => gw?.close());
  beforeEach(() => gw.answer(200, '{"providerMessageId":"gw-1"}'));

  it('POSTs the message with a verifiable signature, a timestamp and the idempotency key', async () => {
    const now = new Date('2026-11-28T02:00:00Z');
    const provider = new WebhookProvider({ url: gw.url, secret: SECRET, now: () => now });
    expect(await provider.send(message)).toEqual({ providerMessageId: 'gw-1' });
    const req = gw.received.at(-1)!;
    expect(req.headers['content-type']).toContain('application/json');
    expect(req.headers['idempotency-key']).toBe(message.idempotencyKey);
    expect(req.headers['x-arrears-timestamp']).toBe(String(now.getTime() / 1000));
    // Anyone holding the secret can check it: HMAC-SHA256 of "<timestamp>.<raw body>", hex.
    const expected = createHmac('sha256', SECRET).update(`${req.headers['x-arrears-timestamp']}.${req.body}`).digest('hex');
    expect(req.headers['x-arrears-signature']).toBe(`sha256=${expected}`);
    expect(verifyWebhookSignature(SECRET, { signature: req.headers['x-arrears-signature'] as string, timestamp: req.headers['x-arrears-timestamp'] as string }, req.body, now)).toEqual({ ok: true });
    expect(verifyWebhookSignature('another-secret-0123456789', { signature: req.headers['x-arrears-signature'] as string, timestamp: req.headers['x-arrears-timestamp'] as string }, req.body, now).ok).toBe(false);
    expect(JSON.parse(req.body)).toEqual(message);
  });

  it('takes 5xx, 408 and 429 as retryable, other 4xx as permanent, and an unreachable gateway as retryable', async () => {
    const provider = new WebhookProvider({ url: gw.url, secret: SECRET });
    const failure = async () => {
      try {
        await provider.send(message);
      } catch (e) {
        return e as ProviderError;
      }
      throw new Error('expected a failure');
    };
    for (const [status, permanent] of [[500, false], [503, false], [408, false], [429, false], [400, true], [404, true], [422, true]] as const) {
      gw.answer(status, 'nope');
      const e = await failure();
      expect(e).toBeInstanceOf(ProviderError);
      expect([e.status, e.permanent]).toEqual([status, permanent]);
    }
    const closed = await gateway();
    await closed.close();
    const down = new WebhookProvider({ url: closed.url, secret: SECRET });
    await expect(down.send(message)).rejects.toMatchObject({ name: 'ProviderError', permanent: false });
    // A 2xx without an id: the reminder id stands for it.
    gw.answer(202, '');
    expect(await provider.send(message)).toEqual({ providerMessageId: message.reminderId });
  });

  it('is chosen from the environment only with both the URL and the secret', () => {
    expect(providerFromEnv({ ARREARS_SMS_WEBHOOK_URL: gw.url, ARREARS_SMS_WEBHOOK_SECRET: SECRET }, logger)).toBeInstanceOf(WebhookProvider);
    expect(providerFromEnv({ ARREARS_SMS_WEBHOOK_URL: gw.url }, logger)).toBeInstanceOf(RecordingProvider);
    expect(providerFromEnv({}, logger)).toBeInstanceOf(RecordingProvider);
    expect(maskDestination('13800001234')).toBe('***1234');
    expect(maskDestination('wang.wei@example.cn')).toBe('w***@example.cn');
  });
});

describe('through the dispatcher and back: delivery receipts', () => {
  let t: TestApp;
  let gw: Awaited<ReturnType<typeof gateway>>;
  let app: App;
  let sentReminderId: string;

  beforeAll(async () => {
    t = await createTestApp();
    await createPeople(t.prisma);
    await ensureDefaultTemplates(t.prisma);
    gw = await gateway();
    app = createApp({
      deps: t.runtime.deps,
      authenticator: t.runtime.authenticator,
      production: false,
      ping: async () => {},
      plugins: [useDeliveryReceipts({ prisma: t.prisma, clock: t.clock, secret: SECRET, logger })],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await t?.close();
  });

  async function sendOne(providerMessageId: string) {
    t.clock.set(TEST_NOW);
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 5 });
    const mobile = await mobileOf(t.prisma, c.id);
    const r = await t.prisma.reminder.create({
      data: { caseId: c.id, contactPointId: mobile.id, channel: 'SMS', templateKey: 'overdue-notice', language: 'ZH_CN', scheduledAt: t.clock.now(), nextAttemptAt: t.clock.now(), idempotencyKey: `wh-${providerMessageId}`, requestHash: 'test' },
    });
    gw.answer(200, JSON.stringify({ providerMessageId }));
    const provider = new WebhookProvider({ url: gw.url, secret: SECRET, now: () => t.clock.now() });
    expect(await dispatchDueReminders({ prisma: t.prisma, clock: t.clock, logger, provider }, { owner: 'wh' })).toMatchObject({ sent: 1 });
    const sent = await t.prisma.reminder.findUniqueOrThrow({ where: { id: r.id } });
    expect(sent).toMatchObject({ status: 'SENT', providerMessageId });
    // The gateway got the rendered text, addressed to the debtor's mobile.
    expect(JSON.parse(gw.received.at(-1)!.body)).toMatchObject({ reminderId: r.id, to: mobile.value, body: sent.renderedMessage, channel: 'SMS' });
    return sent;
  }

  function post(body: string, options: { secret?: string; timestamp?: number; method?: string } = {}) {
    const ts = String(options.timestamp ?? Math.floor(t.clock.now().getTime() / 1000));
    return app.fetch(
      new Request('http://arrears.test/webhooks/delivery', {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', 'x-arrears-timestamp': ts, 'x-arrears-signature': signWebhook(options.secret ?? SECRET, ts, body) },
        ...(options.method === 'GET' ? {} : { body }),
      }),
    );
  }

  it('marks a sent reminder DELIVERED on a signed receipt, once', async () => {
    const sent = await sendOne('gw-delivered-1');
    sentReminderId = sent.id;
    const at = '2026-11-28T02:00:05.000Z';
    const body = JSON.stringify({ providerMessageId: 'gw-delivered-1', status: 'DELIVERED', at });
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, reminderId: sent.id, status: 'DELIVERED', changed: true });
    const r = await t.prisma.reminder.findUniqueOrThrow({ where: { id: sent.id } });
    expect(r.status).toBe('DELIVERED');
    expect(r.deliveredAt).toEqual(new Date(at));
    expect((await t.prisma.contactAttempt.findFirstOrThrow({ where: { reminderId: sent.id } })).outcome).toBe('DELIVERED');
    expect(await t.prisma.caseEvent.count({ where: { caseId: sent.caseId, type: 'REMINDER_DELIVERED' } })).toBe(1);

    // Repeated, and a late FAILED after it: nothing changes.
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'DELIVERED', changed: false });
    const late = await post(JSON.stringify({ providerMessageId: 'gw-delivered-1', status: 'FAILED', at, error: 'late' }));
    expect(await late.json()).toMatchObject({ status: 'DELIVERED', changed: false });
    expect(await t.prisma.caseEvent.count({ where: { caseId: sent.caseId, type: 'REMINDER_DELIVERED' } })).toBe(1);
  });

  it('marks a reminder FAILED on a failure receipt', async () => {
    const sent = await sendOne('gw-failed-1');
    const res = await post(JSON.stringify({ providerMessageId: 'gw-failed-1', status: 'FAILED', at: '2026-11-28T02:01:00.000Z', error: 'handset unreachable' }));
    expect(res.status).toBe(200);
    const r = await t.prisma.reminder.findUniqueOrThrow({ where: { id: sent.id } });
    expect(r).toMatchObject({ status: 'FAILED', lastError: 'delivery failed: handset unreachable' });
  });

  it('refuses a bad signature, a stale timestamp, an unknown id, a malformed body and other methods', async () => {
    const body = JSON.stringify({ providerMessageId: 'gw-delivered-1', status: 'DELIVERED', at: '2026-11-28T02:00:05.000Z' });
    expect((await post(body, { secret: 'not-the-shared-secret-000' })).status).toBe(401);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    expect((await post(body, { timestamp: now - 301 })).status).toBe(401);
    expect((await post(body, { timestamp: now - 299 })).status).toBe(200);
    // A signature over another body.
    const ts = String(now);
    const forged = await app.fetch(
      new Request('http://arrears.test/webhooks/delivery', {
        method: 'POST',
        headers: { 'x-arrears-timestamp': ts, 'x-arrears-signature': signWebhook(SECRET, ts, '{}') },
        body,
      }),
    );
    expect(forged.status).toBe(401);
    const unsigned = await app.fetch(new Request('http://arrears.test/webhooks/delivery', { method: 'POST', body }));
    expect(unsigned.status).toBe(401);
    expect((await post(JSON.stringify({ providerMessageId: 'nobody', status: 'DELIVERED', at: '2026-11-28T02:00:05.000Z' }))).status).toBe(404);
    expect((await post(JSON.stringify({ providerMessageId: 'gw-delivered-1', status: 'READ', at: 'x' }))).status).toBe(400);
    expect((await post('not json')).status).toBe(400);
    expect((await post('', { method: 'GET' })).status).toBe(405);
    expect((await t.prisma.reminder.findUniqueOrThrow({ where: { id: sentReminderId } })).status).toBe('DELIVERED');
  });

  it('leaves /graphql alone', async () => {
    const res = await app.fetch(new Request('http://arrears.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) }));
    expect(res.status).toBe(401); // no token: the GraphQL endpoint's own answer
  });
});
