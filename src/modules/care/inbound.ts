/**
 * Replies from debtors through the SMS gateway: `POST /webhooks/inbound-sms`, signed with the
 * scheme of the delivery receipts (src/modules/contact/providers.ts: X-Arrears-Timestamp,
 * X-Arrears-Signature = sha256=HMAC of "<timestamp>.<raw body>", the timestamp within 5 minutes,
 * compared in constant time), with the same shared secret (ARREARS_SMS_WEBHOOK_SECRET).
 *
 * Body: `{ "providerMessageId": "…", "from": "+8613800001234", "text": "退订", "at": "<ISO 8601>" }`.
 * - Every reply is kept (InboundMessage). A reply that is an opt-out keyword (STOP, UNSUBSCRIBE,
 *   退订, TD and the like: the whole text, case and punctuation aside) sets do-not-contact by SMS
 *   on every mobile contact point with that number, at once (source SMS_REPLY), audited and on
 *   the timeline of each open case of its debtor. A number already opted out stays so.
 * - Idempotent by providerMessageId: a message delivered twice is recorded once (200, changed false).
 * - START and the like do not opt back in: only the bank clears an opt-out (DOMAIN.md).
 * Answers (JSON): 200 { ok, inboundMessageId, keyword, optedOut, changed }; 400 a malformed body;
 * 401 a missing or bad signature or a stale timestamp (nothing is read before the signature
 * holds); 405 another method; 413 a body over 64 KiB.
 */
import type { Plugin } from 'graphql-yoga';
import { recordAudit } from '../audit/service.ts';
import type { Logger } from '../../lib/logger.ts';
import { readSignedWebhook, webhookJson } from '../contact/webhooks.ts';
import { writeDebtor, type CareDeps } from './optouts.ts';
import { isUniqueViolation } from '../../lib/idempotency.ts';

export const INBOUND_SMS_PATH = '/webhooks/inbound-sms';

/**
 * Opt-out keywords, matched against the whole reply with case, spaces and punctuation ignored:
 * the CTIA's (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT), REVOKE and OPTOUT (Regulation F
 * lets a consumer opt out by any reasonable means), and those Chinese carriers and banks use
 * (退订, TD, T, 取消, 退出, 不要再发).
 */
export const OPT_OUT_KEYWORDS: readonly string[] = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', '退订', 'TD', 'T', '取消', '退出', '取消订阅', '不要再发'];

/** The opt-out keyword a reply is, or null. */
export function optOutKeyword(text: string): string | null {
  const normal = text.normalize('NFKC').toUpperCase().replace(/[\s\p{P}\p{S}]/gu, '');
  return OPT_OUT_KEYWORDS.includes(normal) ? normal : null;
}

/** The forms a number may be stored in: as sent, digits only, with and without the country code (+86, +1). */
export function numberForms(from: string): string[] {
  const raw = from.trim();
  const digits = raw.replace(/\D/g, '');
  const forms = new Set([raw, digits, `+${digits}`]);
  const international = raw.startsWith('+') ? digits : digits.startsWith('00') ? digits.slice(2) : null;
  if (international?.startsWith('86') && international.length === 13) forms.add(international.slice(2)).add(`+${international}`);
  if (international?.startsWith('1') && international.length === 11) forms.add(international.slice(1)).add(`+${international}`);
  if (!international && digits.length === 11 && digits.startsWith('1')) forms.add(`+86${digits}`);
  return [...forms].filter((f) => f.replace(/\D/g, '').length >= 5);
}

export interface InboundSms {
  providerMessageId: string;
  from: string;
  text: string;
  at: Date;
}

export function parseInboundSms(raw: string): InboundSms | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'the body is not JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.providerMessageId !== 'string' || b.providerMessageId.length === 0 || b.providerMessageId.length > 200) return 'providerMessageId: a string of 1 to 200 characters';
  if (typeof b.from !== 'string' || !/^\+?[0-9 ()-]{5,20}$/.test(b.from)) return 'from: a phone number';
  if (typeof b.text !== 'string' || b.text.length > 2000) return 'text: a string of at most 2000 characters';
  if (b.text.includes('\u0000')) return 'text: no NUL characters';
  const at = typeof b.at === 'string' ? new Date(b.at) : null;
  if (!at || Number.isNaN(at.getTime())) return 'at: an ISO 8601 instant';
  return { providerMessageId: b.providerMessageId, from: b.from, text: b.text, at };
}

export interface InboundDeps extends CareDeps {
  secret: string;
  logger?: Logger;
}

export function useInboundSms(deps: InboundDeps): Plugin {
  if (!deps.secret || deps.secret.length < 16) throw new RangeError('the inbound SMS secret must be at least 16 characters');
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== INBOUND_SMS_PATH) return;
      endResponse(await handleInboundSms(deps, request, fetchAPI.Response));
    },
  };
}

const json = webhookJson;

export async function handleInboundSms(deps: InboundDeps, request: Request, R: typeof Response = Response): Promise<Response> {
  const read = await readSignedWebhook(deps, request, R, 'inbound message');
  if (!('raw' in read)) return read;
  const message = parseInboundSms(read.raw);
  if (typeof message === 'string') return json(R, 400, { error: message });
  return json(R, 200, { ok: true, ...(await applyInboundSms(deps, message)) });
}

/** Records one (verified) reply and acts on an opt-out keyword; idempotent by providerMessageId. */
export async function applyInboundSms(deps: CareDeps, message: InboundSms): Promise<{ inboundMessageId: string; keyword: string | null; optedOut: number; changed: boolean }> {
  const known = await deps.prisma.inboundMessage.findUnique({ where: { providerMessageId: message.providerMessageId } });
  if (known) return { inboundMessageId: known.id, keyword: known.keyword, optedOut: await deps.prisma.contactOptOut.count({ where: { inboundMessageId: known.id } }), changed: false };
  const keyword = optOutKeyword(message.text);
  const now = deps.clock.now();
  let inbound;
  try {
    inbound = await deps.prisma.$transaction(async (tx) => {
      const row = await tx.inboundMessage.create({ data: { providerMessageId: message.providerMessageId, channel: 'SMS', fromAddress: message.from.trim(), body: message.text, receivedAt: message.at, keyword, createdAt: now } });
      await recordAudit(tx, { userId: null, role: null, agencyId: null, requestId: null }, now, {
        action: 'contact.inbound',
        entityType: 'InboundMessage',
        entityId: row.id,
        data: { providerMessageId: message.providerMessageId, keyword },
      });
      return row;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Delivered twice at once: the other delivery recorded it.
    const again = await deps.prisma.inboundMessage.findUniqueOrThrow({ where: { providerMessageId: message.providerMessageId } });
    return { inboundMessageId: again.id, keyword: again.keyword, optedOut: 0, changed: false };
  }
  let optedOut = 0;
  if (keyword) {
    const points = await deps.prisma.contactPoint.findMany({ where: { value: { in: numberForms(message.from) }, kind: 'MOBILE' }, select: { id: true, debtorId: true } });
    for (const debtorId of new Set(points.map((p) => p.debtorId))) {
      optedOut += await writeDebtor(deps, null, debtorId, 'from', async ({ tx }) => {
        const ids: string[] = [];
        for (const p of points.filter((x) => x.debtorId === debtorId)) {
          const covered = await tx.contactOptOut.count({ where: { contactPointId: p.id, kind: 'DO_NOT_CONTACT', clearedAt: null, OR: [{ channel: null }, { channel: 'SMS' }] } });
          if (covered) continue;
          const cp = await tx.contactPoint.findUniqueOrThrow({ where: { id: p.id } });
          const reason = `Replied "${message.text.trim().slice(0, 100)}" by SMS`;
          const o = await tx.contactOptOut.create({ data: { kind: 'DO_NOT_CONTACT', debtorId, contactPointId: p.id, channel: 'SMS', source: 'SMS_REPLY', reason, inboundMessageId: inbound.id, setAt: now } });
          await tx.contactPoint.update({ where: { id: p.id }, data: { doNotContact: true, doNotContactAt: cp.doNotContact ? cp.doNotContactAt : now, doNotContactReason: reason } });
          ids.push(o.id);
        }
        return {
          result: ids.length,
          event: { type: 'DO_NOT_CONTACT_SET', summary: `The debtor replied ${keyword} by SMS: no more messages to this number`, data: { optOutIds: ids, inboundMessageId: inbound.id, channel: 'SMS', source: 'SMS_REPLY' } },
          audit: { action: 'contact.doNotContact.set', entityType: 'InboundMessage', entityId: inbound.id, data: { optOutIds: ids, keyword, channel: 'SMS', source: 'SMS_REPLY' } },
        };
      });
    }
  }
  return { inboundMessageId: inbound.id, keyword, optedOut, changed: true };
}
