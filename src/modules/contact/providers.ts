/**
 * Channel providers: what hands a reminder to the world (DOMAIN.md "Reminders": "the default
 * provider records to the database and logs, a real SMS gateway can be plugged in").
 *
 * The contract:
 * - `send` resolves with the provider's message id once the provider has accepted the message,
 *   and throws otherwise: a ProviderError says whether a retry can help (`permanent`); any other
 *   error is taken as retryable.
 * - A provider must treat `idempotencyKey` as the identity of the message: the outbox can hand
 *   the same reminder over twice only when a dispatcher died between the send and recording it
 *   (its lease expired), and then the key lets the gateway drop the second copy.
 *
 * The webhook scheme (also used by delivery receipts, webhooks.ts), both directions:
 *   X-Arrears-Timestamp: <Unix seconds>
 *   X-Arrears-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * The timestamp is inside the signed text, so a captured request cannot be replayed later with a
 * fresh timestamp; receivers refuse a timestamp more than 5 minutes from their clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ContactChannel } from '../../generated/prisma/enums.ts';
import type { Logger } from '../../lib/logger.ts';
import type { PrismaClient } from '../../generated/prisma/client.ts';

export interface OutboundMessage {
  reminderId: string;
  idempotencyKey: string;
  channel: ContactChannel;
  /** The contact point's value: a phone number or an e-mail address. */
  to: string;
  body: string;
  /** EMAIL only. */
  subject?: string;
}

export interface ChannelProvider {
  readonly name: string;
  send(msg: OutboundMessage): Promise<{ providerMessageId: string }>;
}

/** A failed send; `permanent`: retrying the same message cannot succeed (the reminder goes FAILED at once). */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly permanent: boolean;
  readonly status: number | undefined;
  constructor(message: string, options: { permanent?: boolean; status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent ?? false;
    this.status = options.status;
  }
}

export function isPermanentFailure(err: unknown): boolean {
  return err instanceof ProviderError && err.permanent;
}

/** A destination as a log line may show it: the last four digits of a phone, the first letter and domain of an e-mail. */
export function maskDestination(to: string): string {
  const at = to.indexOf('@');
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  const digits = to.replace(/\D/g, '');
  return digits.length >= 4 ? `***${digits.slice(-4)}` : '***';
}

/**
 * The default provider: the message is already stored in Reminder.renderedMessage, so this
 * records that it went (a RecordedMessage row per idempotency key, when given the database) and
 * logs it (reminder id, channel, masked destination, length; never the text, which holds the
 * debtor's name and debt), answering a stable id. Like a gateway, it de-duplicates by key: a
 * reminder handed over again after a dispatcher died is counted as a repeat, not recorded twice.
 */
export class RecordingProvider implements ChannelProvider {
  readonly name = 'recording';
  /** Without a database (tests, benchmarks): de-duplicated within this process only. */
  private readonly seen = new Set<string>();
  constructor(
    private readonly logger?: Logger,
    private readonly prisma?: Pick<PrismaClient, '$queryRaw'>,
  ) {}
  async send(msg: OutboundMessage): Promise<{ providerMessageId: string }> {
    const providerMessageId = `recorded:${msg.reminderId}`;
    let first: boolean;
    if (this.prisma) {
      const rows = await this.prisma.$queryRaw<{ handovers: number }[]>`
        INSERT INTO "RecordedMessage" ("idempotencyKey", "reminderId", "channel")
        VALUES (${msg.idempotencyKey}, ${msg.reminderId}::uuid, ${msg.channel})
        ON CONFLICT ("idempotencyKey") DO UPDATE SET "handovers" = "RecordedMessage"."handovers" + 1
        RETURNING "handovers"`;
      first = rows[0]?.handovers === 1;
    } else {
      first = !this.seen.has(msg.idempotencyKey);
      this.seen.add(msg.idempotencyKey);
    }
    const fields = { reminderId: msg.reminderId, channel: msg.channel, to: maskDestination(msg.to), chars: msg.body.length };
    if (first) this.logger?.info(fields, 'reminder recorded (no gateway configured)');
    else this.logger?.warn(fields, 'reminder handed over again under the same idempotency key: not recorded twice');
    return { providerMessageId };
  }
}

export const SIGNATURE_HEADER = 'x-arrears-signature';
export const TIMESTAMP_HEADER = 'x-arrears-timestamp';
/** How far a signed request's timestamp may be from the receiver's clock. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** `sha256=<hex>` of `<timestamp>.<body>`. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Checks the signature (constant-time) and that the timestamp lies within 5 minutes of `now`. */
export function verifyWebhookSignature(secret: string, headers: { signature: string | null; timestamp: string | null }, body: string, now: Date): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: 'missing signature or timestamp' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed timestamp' };
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!m) return { ok: false, reason: 'malformed signature' };
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice('sha256='.length), 'hex');
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > SIGNATURE_TOLERANCE_MS) return { ok: false, reason: 'timestamp outside the 5-minute window' };
  return { ok: true };
}

export interface WebhookProviderOptions {
  /** The gateway's endpoint (http or https). */
  url: string;
  /** The shared HMAC secret. */
  secret: string;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Abort a request after this long (keep it well under the outbox lease); default 10 s. */
  timeoutMs?: number;
  /** The timestamp's clock; default the system clock. */
  now?: () => Date;
  name?: string;
}

/**
 * A real SMS or e-mail gateway behind an HTTP endpoint: POSTs the message as JSON
 * `{ reminderId, idempotencyKey, channel, to, subject?, body }` with the signature headers and
 * `Idempotency-Key`. A 2xx answer may carry `{ "providerMessageId": "…" }` (or `id`), which
 * delivery receipts then name; without one the reminder id is the provider message id.
 * Errors: network failure, timeout, 408, 429, 5xx and any other non-2xx are retryable; the
 * other 4xx are permanent (the gateway refuses this message, e.g. an invalid number).
 */
export class WebhookProvider implements ChannelProvider {
  readonly name: string;
  private readonly url: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: WebhookProviderOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') throw new RangeError('the webhook URL must be http(s)');
    if (this.url.username || this.url.password) throw new RangeError('put no credentials in the webhook URL: the HMAC secret authenticates');
    if (!options.secret || options.secret.length < 16) throw new RangeError('the webhook secret must be at least 16 characters');
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.name = options.name ?? `webhook:${this.url.host}`;
  }

  async send(msg: OutboundMessage): Promise<{ providerMessageId: string }> {
    const body = JSON.stringify({
      reminderId: msg.reminderId,
      idempotencyKey: msg.idempotencyKey,
      channel: msg.channel,
      to: msg.to,
      ...(msg.subject !== undefined ? { subject: msg.subject } : {}),
      body: msg.body,
    });
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'idempotency-key': msg.idempotencyKey,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(this.options.secret, timestamp, body),
        },
        body,
        // A redirect would carry the message somewhere not configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : err instanceof Error ? err.message : String(err);
      throw new ProviderError(`${this.name}: ${reason}`, { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (response.status < 200 || response.status > 299) {
      const s = response.status;
      const permanent = s >= 400 && s <= 499 && s !== 408 && s !== 429;
      throw new ProviderError(`${this.name}: HTTP ${s}${text ? `: ${text.slice(0, 200)}` : ''}`, { permanent, status: s });
    }
    let id: unknown;
    try {
      const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      id = parsed.providerMessageId ?? parsed.id;
    } catch {
      id = undefined;
    }
    return { providerMessageId: typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : msg.reminderId };
  }
}

/**
 * The provider the server uses: the webhook gateway when `ARREARS_SMS_WEBHOOK_URL` and
 * `ARREARS_SMS_WEBHOOK_SECRET` are both set, the recording provider otherwise.
 */
export function providerFromEnv(env: NodeJS.ProcessEnv, logger?: Logger, prisma?: Pick<PrismaClient, '$queryRaw'>): ChannelProvider {
  const url = env.ARREARS_SMS_WEBHOOK_URL?.trim();
  const secret = env.ARREARS_SMS_WEBHOOK_SECRET?.trim();
  if (url && secret) return new WebhookProvider({ url, secret });
  if (url || secret) logger?.warn('ARREARS_SMS_WEBHOOK_URL and ARREARS_SMS_WEBHOOK_SECRET go together: using the recording provider');
  return new RecordingProvider(logger, prisma);
}
