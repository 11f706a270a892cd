/**
 * The outbox dispatcher (DOMAIN.md "Reminders"): sends due reminders through a channel provider,
 * at most once per idempotency key, checking the contact policy again at send time.
 *
 * One reminder's way through a dispatch:
 * 1. Claim. One statement moves a batch of due rows (SCHEDULED with nextAttemptAt <= now, or
 *    SENDING whose lease expired: a dispatcher died holding it) to SENDING with this
 *    dispatcher's `leaseOwner` and a `leaseUntil`. The rows are picked in a materialized CTE with
 *    `FOR UPDATE SKIP LOCKED` and the UPDATE repeats the due condition, so two dispatchers
 *    never claim one row: the second skips it while locked, and re-reads it as SENDING once the
 *    first commits. From here only the lease holder moves the row: every later update is
 *    conditional on (status SENDING, leaseOwner = owner).
 * 2. The case ended (RESOLVED, CLOSED), or is PAID or WRITTEN_OFF: CANCELLED, with the reason
 *    in lastError. A reminder already CANCELLED (cancelReminder) is never claimed.
 * 3. The policy at now (evaluateCaseContact: the same rules and history as any contact):
 *    - refused with a next allowed instant (contact hours, a hold with an end): DEFERRED, i.e.
 *      back to SCHEDULED with nextAttemptAt = that instant. blockedRule stays null (nothing was
 *      refused for good); lastError says which rule deferred it and until when. No attempt is
 *      counted and no ContactAttempt written: nothing went out.
 *    - refused for good (do-not-contact, cease-contact, a hold without end…): BLOCKED with the
 *      rule, a BLOCKED ContactAttempt and a REMINDER_BLOCKED timeline event.
 * 4. Render the template in the debtor's language (templates.ts), store it in renderedMessage,
 *    and renew the lease in the same conditional update: a dispatcher that lost its lease
 *    finds out here, before sending.
 * 5. Send, outside any transaction (a slow gateway holds no database lock).
 * 6. Sent: SENT (sentAt, providerMessageId), a COMPLETED ContactAttempt (outcome SENT, so later
 *    policy checks count it) and a REMINDER_SENT timeline event, through writeCase as the system.
 *    Failed: attempts + 1; a permanent failure or the last attempt (maxAttempts) is FAILED with
 *    a REMINDER_FAILED event; otherwise SCHEDULED again after baseBackoffMs · 2^(attempts − 1)
 *    plus up to 10% jitter.
 *
 * The lease, not a transaction, is what makes the send at-most-once: the only way a key goes to
 * a provider twice is a dispatcher dying (or losing the database) after the provider accepted
 * the message and before step 6 recorded it; then the lease expires, the reminder is claimed
 * again and handed over with the same Idempotency-Key, which the provider contract requires it
 * to deduplicate (providers.ts; the built-in recording provider does, by key). Claims are
 * renewed by a heartbeat while the batch is handled, so a dead dispatcher's rows are free again
 * within `leaseMs` (15 s) and a slow provider does not lose its claim.
 */
import { Prisma, type PrismaClient, type ContactPolicy, type MessageTemplate } from '../../generated/prisma/client.ts';
import type { ContactChannel, Jurisdiction, Language } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import { DomainError } from '../../lib/errors.ts';
import type { EventBus } from '../../events/bus.ts';
import { isEnded, writeCase } from '../cases/write.ts';
import { getContactPolicy } from '../policy/service.ts';
import { evaluateCaseContact } from './service.ts';
import { isPermanentFailure, type ChannelProvider, type OutboundMessage } from './providers.ts';
import { renderMessage, splitEmail, templateVars } from './templates.ts';

export interface DispatchDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  provider: ChannelProvider;
  events?: EventBus | undefined;
}

export interface DispatchOptions {
  /** Who dispatches: the lease owner of the claimed rows; unique per dispatcher. */
  owner: string;
  /** Reminders claimed per statement; default 100. */
  batchSize?: number;
  /** Sends tried before a reminder is FAILED; default 5. */
  maxAttempts?: number;
  /** The first retry's delay; each further retry doubles it. Default 60 s. */
  baseBackoffMs?: number;
  /** How long a claim lasts before another dispatcher may take the row over; default 15 s, renewed every third of it while held. */
  leaseMs?: number;
  /** Stop after this many batches (default: until nothing is due). */
  maxBatches?: number;
  /** Reminders of one batch handled at once; default 4. */
  concurrency?: number;
  /** Stops between reminders; what is claimed and not handled is released. */
  signal?: AbortSignal;
  /** A number in [0, 1): the jitter's share of 10% of the delay; default Math.random. */
  random?: () => number;
}

export interface DispatchResult {
  claimed: number;
  sent: number;
  deferred: number;
  blocked: number;
  cancelled: number;
  retried: number;
  failed: number;
  /** Claimed rows this dispatcher lost to another (its lease expired meanwhile). */
  lostLease: number;
  /** Claimed rows given back unhandled (stopped, or an unexpected error before the send). */
  released: number;
  /** Claimed rows left to their lease by an unexpected error after the send. */
  errors: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BASE_BACKOFF_MS = 60_000;
/** A claim's lease, renewed every third of it while the batch is handled (the heartbeat below). */
export const DEFAULT_LEASE_MS = 15_000;

class LostLease extends Error {
  override readonly name = 'LostLease';
}

type Outcome = Exclude<keyof DispatchResult, 'claimed'>;

/** The delay before retry number `attempts` (1-based): base · 2^(attempts−1), plus up to 10% jitter. */
export function backoffDelay(attempts: number, baseBackoffMs: number, random: () => number = Math.random): number {
  const delay = baseBackoffMs * 2 ** Math.max(0, attempts - 1);
  return Math.round(delay + delay * 0.1 * Math.min(Math.max(random(), 0), 1));
}

/** Claims up to `limit` due reminders for `owner` (see the file's comment). */
export async function claimDueReminders(prisma: PrismaClient, owner: string, now: Date, leaseMs: number, limit: number): Promise<string[]> {
  const at = now.toISOString();
  const until = new Date(now.getTime() + leaseMs).toISOString();
  const due = Prisma.sql`((r.status = 'SCHEDULED' AND r."nextAttemptAt" <= ${at}::timestamptz) OR (r.status = 'SENDING' AND r."leaseUntil" < ${at}::timestamptz))`;
  // The pick is a CTE, evaluated exactly once: as `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
  // LOCKED)` the planner may rescan the subquery and claim more than n rows.
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    WITH picked AS MATERIALIZED (
      SELECT r.id FROM "Reminder" AS r
       WHERE ${due}
       ORDER BY r."nextAttemptAt", r.id
       LIMIT ${limit}::int
         FOR UPDATE SKIP LOCKED)
    UPDATE "Reminder" AS r
       SET status = 'SENDING', "leaseOwner" = ${owner}, "leaseUntil" = ${until}::timestamptz
      FROM picked
     WHERE r.id = picked.id AND ${due}
 RETURNING r.id`;
  return rows.map((r) => r.id);
}

/** Sends what is due (see the file's comment) and counts what happened. */
export async function dispatchDueReminders(deps: DispatchDeps, options: DispatchOptions): Promise<DispatchResult> {
  const owner = options.owner;
  if (!owner) throw new RangeError('a dispatcher needs an owner');
  const batchSize = options.batchSize ?? 100;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const baseBackoffMs = options.baseBackoffMs ?? DEFAULT_BASE_BACKOFF_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const random = options.random ?? Math.random;
  const result: DispatchResult = { claimed: 0, sent: 0, deferred: 0, blocked: 0, cancelled: 0, retried: 0, failed: 0, lostLease: 0, released: 0, errors: 0 };
  const policies = new Map<Jurisdiction, Promise<ContactPolicy>>();
  const policyOf = (j: Jurisdiction) => {
    let p = policies.get(j);
    if (!p) policies.set(j, (p = getContactPolicy(deps.prisma, j)));
    return p;
  };
  // Read once per dispatch: a batch of the same few templates would otherwise read them per reminder.
  const templates = new Map<string, Promise<MessageTemplate | null>>();
  const templateOf = (key: string, channel: ContactChannel, language: Language) => {
    const k = `${key}|${channel}|${language}`;
    let p = templates.get(k);
    if (!p) templates.set(k, (p = deps.prisma.messageTemplate.findUnique({ where: { key_channel_language: { key, channel, language } } })));
    return p;
  };
  const ctx: HandleContext = { deps, owner, maxAttempts, baseBackoffMs, leaseMs, random, policyOf, templateOf };

  for (let batch = 0; options.maxBatches === undefined || batch < options.maxBatches; batch++) {
    if (options.signal?.aborted) break;
    const ids = await claimDueReminders(deps.prisma, owner, deps.clock.now(), leaseMs, batchSize);
    result.claimed += ids.length;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        try {
          const outcome = options.signal?.aborted ? await release(ctx, id, 'dispatcher stopping') : await handle(ctx, id);
          result[outcome]++;
        } catch (err) {
          // The database failed us after a send (nothing else gets here): the row keeps its lease,
          // which expires, and the reminder is handed over again under its idempotency key.
          result.errors++;
          deps.logger.error({ err, reminderId: id }, 'reminder dispatch failed');
        }
      }
    };
    // The heartbeat: the rows still held by this dispatcher stay leased while it works through
    // them; a dispatcher killed mid-batch stops renewing, and its rows are free within leaseMs.
    const heartbeat = ids.length ? setInterval(() => void renewClaims(deps, owner, leaseMs), Math.max(250, Math.floor(leaseMs / 3))) : undefined;
    heartbeat?.unref();
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
    if (ids.length < batchSize) break;
  }
  if (result.claimed) deps.logger.info({ owner, ...result }, 'reminders dispatched');
  return result;
}

/** Extends the lease of every reminder this dispatcher still holds. */
async function renewClaims(deps: DispatchDeps, owner: string, leaseMs: number): Promise<void> {
  try {
    await deps.prisma.reminder.updateMany({ where: { status: 'SENDING', leaseOwner: owner }, data: { leaseUntil: new Date(deps.clock.now().getTime() + leaseMs) } });
  } catch (err) {
    deps.logger.warn({ err, owner }, 'could not renew the reminders\' leases: they may be taken over');
  }
}

interface HandleContext {
  deps: DispatchDeps;
  owner: string;
  maxAttempts: number;
  baseBackoffMs: number;
  leaseMs: number;
  random: () => number;
  policyOf(j: Jurisdiction): Promise<ContactPolicy>;
  templateOf(key: string, channel: ContactChannel, language: Language): Promise<MessageTemplate | null>;
}

/** The rows this dispatcher still holds: every update after the claim is conditional on it. */
const held = (id: string, owner: string) => ({ id, status: 'SENDING' as const, leaseOwner: owner });

async function handle(ctx: HandleContext, id: string): Promise<Outcome> {
  const { deps, owner } = ctx;
  const { prisma, clock, logger } = deps;
  const log = logger.child({ reminderId: id });
  let reminder;
  let message: OutboundMessage;
  try {
    const now = clock.now();
    reminder = await prisma.reminder.findUnique({ where: { id }, include: { case: { include: { account: { select: { cardLast4: true } } } } } });
    if (!reminder || reminder.status !== 'SENDING' || reminder.leaseOwner !== owner) return 'lostLease';
    const { case: c } = reminder;

    if (isEnded(c) || c.status === 'PAID' || c.status === 'WRITTEN_OFF') {
      const reason = isEnded(c) ? `case ${c.stage.toLowerCase()}: not sent` : `case ${c.status.toLowerCase().replace('_', ' ')}: not sent`;
      const { count } = await prisma.reminder.updateMany({ where: held(id, owner), data: { status: 'CANCELLED', cancelledAt: now, lastError: reason, leaseUntil: null } });
      return count ? 'cancelled' : 'lostLease';
    }

    let policy;
    try {
      policy = await evaluateCaseContact(prisma, c, { channel: reminder.channel, contactPointId: reminder.contactPointId, at: now });
    } catch (err) {
      // The contact point no longer fits (it was moved to another debtor, say): no retry can help.
      if (err instanceof DomainError) return await fail(ctx, reminder, `${err.code}: ${err.message}`, true);
      throw err;
    }
    const { decision, debtor, contactPoint } = policy;
    if (!decision.allowed) {
      if (decision.nextAllowedAt) {
        const { count } = await prisma.reminder.updateMany({
          where: held(id, owner),
          data: { status: 'SCHEDULED', nextAttemptAt: decision.nextAllowedAt, blockedRule: null, leaseOwner: null, leaseUntil: null, lastError: `deferred by ${decision.rule} until ${decision.nextAllowedAt.toISOString()}: ${decision.message}` },
        });
        log.debug({ rule: decision.rule, until: decision.nextAllowedAt }, 'reminder deferred by the contact policy');
        return count ? 'deferred' : 'lostLease';
      }
      return await block(ctx, reminder, decision.rule, decision.message);
    }

    // The template in the debtor's language now (the one scheduled as a fallback).
    const languages = [...new Set([debtor.language, reminder.language])];
    let template: MessageTemplate | undefined;
    for (const language of languages) template ??= (reminder.templateKey ? await ctx.templateOf(reminder.templateKey, reminder.channel, language) : null) ?? undefined;
    if (!template) return await fail(ctx, reminder, `no ${reminder.channel} template ${reminder.templateKey ?? '(none)'} in ${languages.join(' or ')}`, true);
    const rules = await ctx.policyOf(debtor.jurisdiction);
    let rendered: string;
    try {
      rendered = renderMessage({
        body: template.body,
        channel: reminder.channel,
        language: template.language,
        optOutLineRequired: rules.optOutLineRequired,
        vars: templateVars({ debtor: { ...debtor, language: template.language }, case: c, account: c.account, at: now }),
      });
    } catch (err) {
      return await fail(ctx, reminder, err instanceof Error ? err.message : String(err), true);
    }
    // Store the text and renew the lease in one conditional update: if it no longer holds, do not send.
    const renewed = await prisma.reminder.updateMany({
      where: held(id, owner),
      data: { renderedMessage: rendered, language: template.language, leaseUntil: new Date(clock.now().getTime() + ctx.leaseMs) },
    });
    if (!renewed.count) return 'lostLease';
    const email = reminder.channel === 'EMAIL' ? splitEmail(rendered) : null;
    message = {
      reminderId: id,
      idempotencyKey: reminder.idempotencyKey,
      channel: reminder.channel,
      to: contactPoint!.value,
      body: email ? email.body : rendered,
      ...(email ? { subject: email.subject } : {}),
    };
  } catch (err) {
    // Nothing went out: give the row back for a later run rather than leave it to its lease.
    log.error({ err }, 'reminder dispatch failed before the send');
    return release(ctx, id, err instanceof Error ? err.message : String(err), ctx.baseBackoffMs);
  }

  let providerMessageId: string;
  try {
    ({ providerMessageId } = await deps.provider.send(message));
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    log.warn({ provider: deps.provider.name, error: text.slice(0, 300), permanent: isPermanentFailure(err) }, 'reminder send failed');
    return fail(ctx, reminder, text, isPermanentFailure(err));
  }
  return recordSent(ctx, reminder, providerMessageId);
}

type ClaimedReminder = NonNullable<Awaited<ReturnType<PrismaClient['reminder']['findUnique']>>>;

async function recordSent(ctx: HandleContext, r: ClaimedReminder, providerMessageId: string): Promise<Outcome> {
  const { deps, owner } = ctx;
  const log = deps.logger.child({ reminderId: r.id });
  try {
    await writeCase(deps, null, r.caseId, { action: 'reminder.send', system: true }, async ({ tx, now, before }) => {
      const { count } = await tx.reminder.updateMany({
        where: held(r.id, owner),
        data: { status: 'SENT', sentAt: now, providerMessageId, attempts: { increment: 1 }, lastError: null, leaseUntil: null },
      });
      if (!count) throw new LostLease();
      await tx.contactAttempt.create({
        data: {
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          debtorId: before.debtorId,
          contactPointId: r.contactPointId,
          channel: r.channel,
          direction: 'OUTBOUND',
          attemptedAt: now,
          status: 'COMPLETED',
          outcome: 'SENT',
          connected: false,
          reminderId: r.id,
          notes: `${r.automatic ? 'automatic' : 'scheduled'} reminder ${r.templateKey ?? ''}`.trim(),
        },
      });
      return {
        result: null,
        events: [{ type: 'REMINDER_SENT', summary: `${r.channel} reminder sent (${r.templateKey ?? 'no template'})`, data: { reminderId: r.id, providerMessageId } }],
        auditData: { reminderId: r.id, provider: deps.provider.name, providerMessageId },
      };
    });
    return 'sent';
  } catch (err) {
    if (err instanceof LostLease) {
      // Another dispatcher took the row over while we sent (our lease ran out): it hands the
      // message over again under the same idempotency key, which the provider deduplicates.
      log.error({ providerMessageId }, 'reminder sent, but its lease was lost before it was recorded');
      return 'lostLease';
    }
    // The message is out: record that much at least (the case may have ended meanwhile, or the
    // transaction failed), or the lease would expire and the reminder be handed over again.
    log.error({ err }, 'reminder sent; recording it on the case failed: marking it SENT alone');
    const { count } = await deps.prisma.reminder.updateMany({
      where: held(r.id, owner),
      data: { status: 'SENT', sentAt: deps.clock.now(), providerMessageId, attempts: { increment: 1 }, lastError: null, leaseUntil: null },
    });
    return count ? 'sent' : 'lostLease';
  }
}

async function block(ctx: HandleContext, r: ClaimedReminder, rule: string, message: string): Promise<Outcome> {
  const { deps, owner } = ctx;
  try {
    await writeCase(deps, null, r.caseId, { action: 'reminder.block', system: true }, async ({ tx, now, before }) => {
      const { count } = await tx.reminder.updateMany({ where: held(r.id, owner), data: { status: 'BLOCKED', blockedRule: rule, lastError: message, leaseUntil: null } });
      if (!count) throw new LostLease();
      await tx.contactAttempt.create({
        data: { caseId: before.id, agencyId: before.assignedAgencyId, debtorId: before.debtorId, contactPointId: r.contactPointId, channel: r.channel, attemptedAt: now, status: 'BLOCKED', rule, reminderId: r.id, notes: message },
      });
      return {
        result: null,
        events: [{ type: 'REMINDER_BLOCKED', summary: `${r.channel} reminder blocked at send time: ${rule}`, data: { reminderId: r.id, rule } }],
        auditData: { reminderId: r.id, blocked: rule },
      };
    });
    return 'blocked';
  } catch (err) {
    if (err instanceof LostLease) return 'lostLease';
    if (err instanceof DomainError && err.code === 'CASE_ENDED') {
      const { count } = await deps.prisma.reminder.updateMany({ where: held(r.id, owner), data: { status: 'CANCELLED', cancelledAt: deps.clock.now(), lastError: 'case ended: not sent', leaseUntil: null } });
      return count ? 'cancelled' : 'lostLease';
    }
    throw err;
  }
}

/** A failed send (or a reminder that cannot be sent): retry later, or FAILED. */
async function fail(ctx: HandleContext, r: ClaimedReminder, error: string, permanent: boolean): Promise<Outcome> {
  const { deps, owner } = ctx;
  const now = deps.clock.now();
  const attempts = r.attempts + 1;
  const lastError = error.slice(0, 1000);
  if (!permanent && attempts < ctx.maxAttempts) {
    const nextAttemptAt = new Date(now.getTime() + backoffDelay(attempts, ctx.baseBackoffMs, ctx.random));
    const { count } = await deps.prisma.reminder.updateMany({ where: held(r.id, owner), data: { status: 'SCHEDULED', attempts, nextAttemptAt, lastError, leaseOwner: null, leaseUntil: null } });
    return count ? 'retried' : 'lostLease';
  }
  const summary = permanent ? `${r.channel} reminder failed: ${lastError.slice(0, 200)}` : `${r.channel} reminder failed after ${attempts} attempt(s): ${lastError.slice(0, 200)}`;
  try {
    await writeCase(deps, null, r.caseId, { action: 'reminder.fail', system: true }, async ({ tx }) => {
      const { count } = await tx.reminder.updateMany({ where: held(r.id, owner), data: { status: 'FAILED', attempts, lastError, leaseUntil: null } });
      if (!count) throw new LostLease();
      return { result: null, events: [{ type: 'REMINDER_FAILED', summary, data: { reminderId: r.id, attempts } }], auditData: { reminderId: r.id, attempts, permanent } };
    });
    return 'failed';
  } catch (err) {
    if (err instanceof LostLease) return 'lostLease';
    // The case ended meanwhile (it takes no timeline writes): the row alone.
    const { count } = await deps.prisma.reminder.updateMany({ where: held(r.id, owner), data: { status: 'FAILED', attempts, lastError, leaseUntil: null } });
    return count ? 'failed' : 'lostLease';
  }
}

/** Gives a claimed row back, unsent and without counting an attempt. */
async function release(ctx: HandleContext, id: string, reason: string, delayMs = 0): Promise<Outcome> {
  const now = ctx.deps.clock.now();
  try {
    const { count } = await ctx.deps.prisma.reminder.updateMany({
      where: held(id, ctx.owner),
      data: { status: 'SCHEDULED', nextAttemptAt: new Date(now.getTime() + delayMs), leaseOwner: null, leaseUntil: null, lastError: reason.slice(0, 1000) },
    });
    return count ? 'released' : 'lostLease';
  } catch (err) {
    ctx.deps.logger.error({ err, reminderId: id }, 'could not release a claimed reminder: its lease will expire');
    return 'released';
  }
}
