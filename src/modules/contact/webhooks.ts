/**
 * Delivery receipts from the SMS / e-mail gateway: `POST /webhooks/delivery`, signed with the
 * scheme of providers.ts (X-Arrears-Timestamp, X-Arrears-Signature: sha256=HMAC of
 * "<timestamp>.<raw body>", the timestamp within 5 minutes, compared in constant time).
 *
 * Body: `{ "providerMessageId": "…", "status": "DELIVERED" | "FAILED", "at": "<ISO 8601>", "error"?: "…" }`.
 * - A SENT reminder becomes DELIVERED (deliveredAt = at) or FAILED (lastError = error); its
 *   ContactAttempt's outcome follows (SENT → DELIVERED / FAILED); a timeline event says so.
 * - Idempotent: a receipt repeated, or arriving after the reminder already reached that status,
 *   changes nothing and answers 200. DELIVERED is final: a later FAILED receipt is ignored
 *   (gateways send them out of order); a DELIVERED receipt after a FAILED one is taken.
 * Answers (JSON): 200 { ok, reminderId, status, changed }; 400 a malformed body; 401 a missing or
 * bad signature or a stale timestamp (nothing is read before the signature holds); 404 no
 * reminder has this provider message id; 405 another method; 409 the reminder was never sent
 * (so no receipt can be about it); 413 a body over 64 KiB.
 */
import type { Plugin } from 'graphql-yoga';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EventBus } from '../../events/bus.ts';
import { writeCase } from '../cases/write.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './providers.ts';

export const DELIVERY_RECEIPTS_PATH = '/webhooks/delivery';
const MAX_BODY_BYTES = 64 * 1024;

export interface DeliveryReceiptDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** The HMAC secret shared with the gateway (ARREARS_SMS_WEBHOOK_SECRET). */
  secret: string;
  logger?: Logger;
  events?: EventBus | undefined;
}

export interface DeliveryReceipt {
  providerMessageId: string;
  status: 'DELIVERED' | 'FAILED';
  at: Date;
  error: string | null;
}

/** The Yoga plugin (give it to createApp's `plugins`). */
export function useDeliveryReceipts(deps: DeliveryReceiptDeps): Plugin {
  if (!deps.secret || deps.secret.length < 16) throw new RangeError('the delivery receipt secret must be at least 16 characters');
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== DELIVERY_RECEIPTS_PATH) return;
      endResponse(await handleDeliveryReceipt(deps, request, fetchAPI.Response));
    },
  };
}

/** A webhook's JSON answer (never cached). */
export function webhookJson(R: typeof Response, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return new R(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } });
}
const json = webhookJson;

/**
 * The gate of every signed webhook from the gateway (delivery receipts, inbound replies): POST
 * only, a body of at most 64 KiB, the HMAC signature and timestamp checked (providers.ts).
 * Answers the raw body, or the refusal to send back.
 */
export async function readSignedWebhook(
  deps: { secret: string; clock: Clock; logger?: Logger | undefined },
  request: Request,
  R: typeof Response,
  what: string,
): Promise<{ raw: string } | Response> {
  if (request.method !== 'POST') return json(R, 405, { error: `${what[0]!.toUpperCase()}${what.slice(1)}s are POSTed.` }, { allow: 'POST' });
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return json(R, 413, { error: 'The body is too large.' });
  const raw = await request.text();
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) return json(R, 413, { error: 'The body is too large.' });
  const check = verifyWebhookSignature(deps.secret, { signature: request.headers.get(SIGNATURE_HEADER), timestamp: request.headers.get(TIMESTAMP_HEADER) }, raw, deps.clock.now());
  if (!check.ok) {
    deps.logger?.warn({ reason: check.reason }, `${what} refused`);
    return json(R, 401, { error: 'Bad signature.' });
  }
  return { raw };
}

export function parseDeliveryReceipt(raw: string): DeliveryReceipt | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'the body is not JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.providerMessageId !== 'string' || b.providerMessageId.length === 0 || b.providerMessageId.length > 200) return 'providerMessageId: a string of 1 to 200 characters';
  if (b.status !== 'DELIVERED' && b.status !== 'FAILED') return 'status: DELIVERED or FAILED';
  const at = typeof b.at === 'string' ? new Date(b.at) : null;
  if (!at || Number.isNaN(at.getTime())) return 'at: an ISO 8601 instant';
  if (b.error !== undefined && b.error !== null && typeof b.error !== 'string') return 'error: a string';
  return { providerMessageId: b.providerMessageId, status: b.status, at, error: typeof b.error === 'string' ? b.error.slice(0, 1000) : null };
}

export async function handleDeliveryReceipt(deps: DeliveryReceiptDeps, request: Request, R: typeof Response = Response): Promise<Response> {
  const read = await readSignedWebhook(deps, request, R, 'delivery receipt');
  if (!('raw' in read)) return read;
  const receipt = parseDeliveryReceipt(read.raw);
  if (typeof receipt === 'string') return json(R, 400, { error: receipt });

  const result = await applyDeliveryReceipt(deps, receipt);
  if (result === 'NOT_FOUND') return json(R, 404, { error: 'No reminder has this providerMessageId.' });
  if (result === 'NOT_SENT') return json(R, 409, { error: 'This reminder was not sent.' });
  return json(R, 200, { ok: true, ...result });
}

/** Applies one (verified) receipt; idempotent. */
export async function applyDeliveryReceipt(
  deps: Pick<DeliveryReceiptDeps, 'prisma' | 'clock' | 'events' | 'logger'>,
  receipt: DeliveryReceipt,
): Promise<{ reminderId: string; status: string; changed: boolean } | 'NOT_FOUND' | 'NOT_SENT'> {
  const found = await deps.prisma.reminder.findFirst({ where: { providerMessageId: receipt.providerMessageId }, select: { id: true, caseId: true, status: true } });
  if (!found) return 'NOT_FOUND';
  if (found.status === receipt.status || (found.status === 'DELIVERED' && receipt.status === 'FAILED')) return { reminderId: found.id, status: found.status, changed: false };
  const from = receipt.status === 'DELIVERED' ? (['SENT', 'FAILED'] as const) : (['SENT'] as const);
  if (!(from as readonly string[]).includes(found.status)) return 'NOT_SENT';

  // A receipt is a fact about the past, like a late payment: it is recorded on an ended case too.
  const out = await writeCase<{ reminderId: string; status: string; changed: boolean }>(deps, null, found.caseId, { action: 'reminder.deliveryReceipt', system: true, allowEnded: true }, async ({ tx }) => {
    const { count } = await tx.reminder.updateMany({
      // The reminder must have been sent (a FAILED one only if it went out: sentAt is set).
      where: { id: found.id, status: { in: [...from] }, sentAt: { not: null } },
      data: receipt.status === 'DELIVERED' ? { status: 'DELIVERED', deliveredAt: receipt.at } : { status: 'FAILED', lastError: `delivery failed: ${receipt.error ?? 'no reason given'}` },
    });
    const now = await tx.reminder.findUniqueOrThrow({ where: { id: found.id }, select: { status: true } });
    if (!count) return { result: { reminderId: found.id, status: now.status, changed: false } };
    await tx.contactAttempt.updateMany({ where: { reminderId: found.id, status: 'COMPLETED' }, data: { outcome: receipt.status } });
    return {
      result: { reminderId: found.id, status: now.status, changed: true },
      events: [
        receipt.status === 'DELIVERED'
          ? { type: 'REMINDER_DELIVERED', summary: 'Reminder delivered', data: { reminderId: found.id, at: receipt.at.toISOString() } }
          : { type: 'REMINDER_DELIVERY_FAILED', summary: `Reminder not delivered: ${(receipt.error ?? 'no reason given').slice(0, 200)}`, data: { reminderId: found.id } },
      ],
      auditData: { reminderId: found.id, status: receipt.status, providerMessageId: receipt.providerMessageId },
    };
  });
  return { reminderId: out.reminderId, status: out.status, changed: out.changed };
}
