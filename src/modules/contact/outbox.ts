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
 * 3. The policy at now, for the whole claimed batch at once (evaluateContactMany: the same rules
 *    and facts as any contact, read with one statement per kind of fact, not per reminder):
 *    - refused with a next allowed instant (contact hours, a hold with an end): DEFERRED, i.e.
 *      back to SCHEDULED with nextAttemptAt = that instant. blockedRule stays null (nothing was
 *      refused for good); lastError says which rule deferred it and until when. No attempt is
 *      counted and no ContactAttempt written: nothing went out.
 *    - refused for good (do-not-contact, cease-contact, a hold without end…): BLOCKED with the
 *      rule, a BLOCKED ContactAttempt and a REMINDER_BLOCKED timeline event.
 * 4. Render the template in the debtor's language (templates.ts), then store every text of the
 *    batch in renderedMessage and renew every lease in one conditional update: a reminder whose
 *    lease no longer holds is found out here, before sending.
 * 5. Send, outside any transaction (a slow gateway holds no database lock), `concurrency` (8) at
 *    a time. The next batch is claimed and prepared (steps 1–4) while this one is sent.
 * 6. Sent: SENT (sentAt, providerMessageId), a COMPLETED ContactAttempt (outcome SENT, so later
 *    policy checks count it), a REMINDER_SENT timeline event and a reminder.send audit event,
 *    recorded in bulk, RECORD_EVERY sends per transaction, while later sends go on (SentLog).
 *    Failed: attempts + 1; a permanent failure or the last attempt (maxAttempts) is FAILED with
 *    a REMINDER_FAILED event; otherwise SCHEDULED again after baseBackoffMs · 2^(attempts − 1)
 *    plus up to 10% jitter.
 * So a batch of 100 costs about ten statements, whatever its size: claim, the reminders with
 * their cases, debtors, contact points, holds, policies and templates (once per run), the texts
 * and leases, and the recordings (bench/contact.ts prints the figures).
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
import { evaluateContactMany } from './service.ts';
import { uuidv7 } from '../../lib/ids.ts';
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
  /** Sends in flight at once; default 8. */
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
  // The picks are CTEs, evaluated exactly once: as `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
  // LOCKED)` the planner may rescan the subquery and claim more than n rows. Rows whose dispatcher
  // died (an expired lease) first, then the due ones, each read in order from its own index
  // (status, leaseUntil) and (status, nextAttemptAt, id): a claim reads the rows it takes, not
  // the whole backlog (an OR of the two sorted 1.4 million due rows for every claim of 100).
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    WITH expired AS MATERIALIZED (
      SELECT r.id FROM "Reminder" AS r
       WHERE r.status = 'SENDING' AND r."leaseUntil" < ${at}::timestamptz
       ORDER BY r."leaseUntil"
       LIMIT ${limit}::int
         FOR UPDATE SKIP LOCKED
    ), scheduled AS MATERIALIZED (
      SELECT r.id FROM "Reminder" AS r
       WHERE r.status = 'SCHEDULED' AND r."nextAttemptAt" <= ${at}::timestamptz
       ORDER BY r."nextAttemptAt", r.id
       LIMIT ${limit}::int
         FOR UPDATE SKIP LOCKED
    ), picked AS MATERIALIZED (
      SELECT id FROM (SELECT id, 0 AS k FROM expired UNION ALL SELECT id, 1 AS k FROM scheduled) AS both_
       ORDER BY k
       LIMIT ${limit}::int)
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
  const concurrency = Math.max(1, options.concurrency ?? 8);
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

  const signal = options.signal;
  const sent = new SentLog(ctx, result);
  /** Claims a batch and prepares it (steps 1–4); what cannot be prepared is given back. */
  const take = async (): Promise<Ready[] & { claimed: number }> => {
    const ids = await claimDueReminders(deps.prisma, owner, deps.clock.now(), leaseMs, batchSize);
    result.claimed += ids.length;
    const none = Object.assign([] as Ready[], { claimed: ids.length });
    if (ids.length === 0) return none;
    if (signal?.aborted) {
      result.released += await releaseMany(ctx, ids, 'dispatcher stopping');
      return none;
    }
    try {
      return Object.assign(await prepareBatch(ctx, ids, result), { claimed: ids.length });
    } catch (err) {
      // Nothing went out: give the rows still held back for a later run rather than leave them to their lease.
      deps.logger.error({ err }, 'reminder dispatch failed before the send');
      result.released += await releaseMany(ctx, ids, err instanceof Error ? err.message : String(err), baseBackoffMs);
      return none;
    }
  };
  // The heartbeat: the rows still held by this dispatcher stay leased while it works through
  // them; a dispatcher killed mid-batch stops renewing, and its rows are free within leaseMs.
  const heartbeat = setInterval(() => void renewClaims(deps, owner, leaseMs), Math.max(250, Math.floor(leaseMs / 3)));
  heartbeat.unref();
  try {
    // A pipeline: the next batch is claimed and prepared while this one is sent, and the sends
    // are recorded while later ones go out, so the gateway always has `concurrency` in flight.
    let batches = 1;
    let next: Promise<Ready[] & { claimed: number }> | null = signal?.aborted ? null : take();
    while (next) {
      const batch: Ready[] & { claimed: number } = await next;
      next = null;
      if (batch.claimed === batchSize && (options.maxBatches === undefined || batches < options.maxBatches) && !signal?.aborted) {
        batches++;
        next = take();
      }
      try {
        await sendBatch(ctx, batch, result, sent, concurrency, signal);
      } catch (err) {
        next?.catch(() => {});
        throw err;
      }
    }
  } finally {
    // What was sent is recorded before the run ends, whatever happened (record() keeps its own errors).
    await sent.finish();
    clearInterval(heartbeat);
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

const claimedInclude = { case: { include: { account: { select: { cardLast4: true } } } } } as const;
type ClaimedReminder = Prisma.ReminderGetPayload<{ include: typeof claimedInclude }>;

/** A reminder ready to go: its text stored, its lease renewed. */
interface Ready {
  reminder: ClaimedReminder;
  message: OutboundMessage;
}

/** Sent reminders recorded per transaction (at most): see SentLog. */
const RECORD_EVERY = 50;

/** Step 5 for a prepared batch: `concurrency` sends in flight; each send handed to the SentLog (step 6). */
async function sendBatch(ctx: HandleContext, ready: Ready[], result: DispatchResult, sent: SentLog, concurrency: number, signal: AbortSignal | undefined): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ready.length) {
      const { reminder, message } = ready[next++]!;
      try {
        if (signal?.aborted) {
          result[await release(ctx, reminder.id, 'dispatcher stopping')]++;
          continue;
        }
        let providerMessageId: string;
        try {
          ({ providerMessageId } = await ctx.deps.provider.send(message));
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          ctx.deps.logger.warn({ reminderId: reminder.id, provider: ctx.deps.provider.name, error: text.slice(0, 300), permanent: isPermanentFailure(err) }, 'reminder send failed');
          result[await fail(ctx, reminder, text, isPermanentFailure(err))]++;
          continue;
        }
        sent.add(reminder, providerMessageId);
      } catch (err) {
        // The database failed us after a send (nothing else gets here): the row keeps its lease,
        // which expires, and the reminder is handed over again under its idempotency key.
        result.errors++;
        ctx.deps.logger.error({ err, reminderId: reminder.id }, 'reminder dispatch failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ready.length) }, worker));
}

/**
 * Steps 2–4 for a claimed batch: one read of the reminders with their cases, one set of policy
 * reads for all of them (evaluateContactMany), the pure decision and the render per reminder, and
 * one conditional update that stores every text and renews every lease. The rare ones that do
 * not go (cancelled, deferred, blocked, failed) are settled one by one as before.
 */
async function prepareBatch(ctx: HandleContext, ids: string[], result: DispatchResult): Promise<Ready[]> {
  const { deps, owner } = ctx;
  const { prisma, clock } = deps;
  const now = clock.now();
  const rows = await prisma.reminder.findMany({ where: { id: { in: ids }, status: 'SENDING', leaseOwner: owner }, include: claimedInclude });
  result.lostLease += ids.length - rows.length;

  const live: ClaimedReminder[] = [];
  for (const r of rows) {
    const c = r.case;
    if (isEnded(c) || c.status === 'PAID' || c.status === 'WRITTEN_OFF') {
      const reason = isEnded(c) ? `case ${c.stage.toLowerCase()}: not sent` : `case ${c.status.toLowerCase().replace('_', ' ')}: not sent`;
      const { count } = await prisma.reminder.updateMany({ where: held(r.id, owner), data: { status: 'CANCELLED', cancelledAt: now, lastError: reason, leaseUntil: null } });
      result[count ? 'cancelled' : 'lostLease']++;
    } else {
      live.push(r);
    }
  }

  const answers = await evaluateContactMany(
    prisma,
    live.map((r) => ({ case: r.case, channel: r.channel, contactPointId: r.contactPointId, at: now })),
    { policyOf: ctx.policyOf },
  );
  const ready: (Ready & { rendered: string; language: Language })[] = [];
  for (const [i, r] of live.entries()) {
    const answer = answers[i]!;
    // The contact point no longer fits (it was moved to another debtor, say): no retry can help.
    if ('error' in answer) {
      result[await fail(ctx, r, `${answer.error.code}: ${answer.error.message}`, true)]++;
      continue;
    }
    const { decision, debtor, contactPoint, policy } = answer;
    if (!decision.allowed) {
      if (decision.nextAllowedAt) {
        const { count } = await prisma.reminder.updateMany({
          where: held(r.id, owner),
          data: { status: 'SCHEDULED', nextAttemptAt: decision.nextAllowedAt, blockedRule: null, leaseOwner: null, leaseUntil: null, lastError: `deferred by ${decision.rule} until ${decision.nextAllowedAt.toISOString()}: ${decision.message}` },
        });
        deps.logger.debug({ reminderId: r.id, rule: decision.rule, until: decision.nextAllowedAt }, 'reminder deferred by the contact policy');
        result[count ? 'deferred' : 'lostLease']++;
      } else {
        result[await block(ctx, r, decision.rule, decision.message)]++;
      }
      continue;
    }
    // The template in the debtor's language now (the one scheduled as a fallback).
    const languages = [...new Set([debtor.language, r.language])];
    let template: MessageTemplate | undefined;
    for (const language of languages) template ??= (r.templateKey ? await ctx.templateOf(r.templateKey, r.channel, language) : null) ?? undefined;
    if (!template) {
      result[await fail(ctx, r, `no ${r.channel} template ${r.templateKey ?? '(none)'} in ${languages.join(' or ')}`, true)]++;
      continue;
    }
    let rendered: string;
    try {
      rendered = renderMessage({
        body: template.body,
        channel: r.channel,
        language: template.language,
        optOutLineRequired: policy.optOutLineRequired,
        vars: templateVars({ debtor: { ...debtor, language: template.language }, case: r.case, account: r.case.account, at: now }),
      });
    } catch (err) {
      result[await fail(ctx, r, err instanceof Error ? err.message : String(err), true)]++;
      continue;
    }
    const email = r.channel === 'EMAIL' ? splitEmail(rendered) : null;
    ready.push({
      reminder: r,
      rendered,
      language: template.language,
      message: { reminderId: r.id, idempotencyKey: r.idempotencyKey, channel: r.channel, to: contactPoint!.value, body: email ? email.body : rendered, ...(email ? { subject: email.subject } : {}) },
    });
  }
  if (ready.length === 0) return [];
  // Store the texts and renew the leases in one conditional update: a row whose lease no longer holds is not sent.
  const until = new Date(clock.now().getTime() + ctx.leaseMs).toISOString();
  const renewed = await prisma.$queryRaw<{ id: string }[]>`
    UPDATE "Reminder" AS r
       SET "renderedMessage" = u.text, language = u.language::"Language", "leaseUntil" = ${until}::timestamptz
      FROM unnest(${ready.map((x) => x.reminder.id)}::uuid[], ${ready.map((x) => x.rendered)}::text[], ${ready.map((x) => x.language)}::text[]) AS u(id, text, language)
     WHERE r.id = u.id AND r.status = 'SENDING' AND r."leaseOwner" = ${owner}
 RETURNING r.id::text AS id`;
  const still = new Set(renewed.map((x) => x.id));
  result.lostLease += ready.length - still.size;
  return ready.filter((x) => still.has(x.reminder.id));
}

/**
 * Step 6 in bulk: the sends of a run are recorded RECORD_EVERY at a time, one transaction each,
 * while the next sends go on (one recording in flight at a time), and the rest when the run ends. Each recording is one statement:
 * SENT on the rows still held (sentAt, providerMessageId, attempts + 1), a COMPLETED ContactAttempt
 * (outcome SENT, so later policy checks count it), a REMINDER_SENT timeline event and a
 * reminder.send audit event for each, the last three only where the case is still open (an ended
 * case takes no further writes; its reminder row says SENT all the same). The case's version is
 * not bumped: a message going out is not a change to the case's fields, and a collector editing
 * the case must not be refused for it.
 *
 * Between a send and its recording the row stays SENDING under this dispatcher's lease: a
 * dispatcher that dies there leaves it to expire, and the reminder is handed over again under its
 * idempotency key (as for a single send, the window is only wider by the batch).
 */
class SentLog {
  private pending: { reminder: ClaimedReminder; providerMessageId: string }[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private busy = false;
  constructor(
    private readonly ctx: HandleContext,
    private readonly result: DispatchResult,
  ) {}

  add(reminder: ClaimedReminder, providerMessageId: string): void {
    this.pending.push({ reminder, providerMessageId });
    if (!this.busy && this.pending.length >= RECORD_EVERY) this.drain();
  }

  async finish(): Promise<void> {
    await this.flushing;
    if (this.pending.length) {
      this.drain();
      await this.flushing;
    }
  }

  private drain(): void {
    this.busy = true;
    this.flushing = (async () => {
      while (this.pending.length) {
        const items = this.pending.splice(0, RECORD_EVERY);
        await this.record(items);
      }
      this.busy = false;
    })();
  }

  private async record(items: { reminder: ClaimedReminder; providerMessageId: string }[]): Promise<void> {
    const { deps, owner } = this.ctx;
    const now = deps.clock.now();
    const at = now.toISOString();
    const ids = items.map((x) => x.reminder.id);
    const pmids = items.map((x) => x.providerMessageId);
    try {
      const rows = await deps.prisma.$transaction(
        (tx) => tx.$queryRaw<{ id: string }[]>`
          WITH u AS (
            SELECT * FROM unnest(${ids}::uuid[], ${pmids}::text[], ${items.map(() => uuidv7(now.getTime()))}::uuid[],
                                 ${items.map(() => uuidv7(now.getTime()))}::uuid[], ${items.map(() => uuidv7(now.getTime()))}::uuid[])
                     AS u(id, provider_message_id, attempt_id, event_id, audit_id)
          ), upd AS (
            UPDATE "Reminder" AS r
               SET status = 'SENT', "sentAt" = ${at}::timestamptz, "providerMessageId" = u.provider_message_id, attempts = r.attempts + 1, "lastError" = NULL, "leaseUntil" = NULL
              FROM u
             WHERE r.id = u.id AND r.status = 'SENDING' AND r."leaseOwner" = ${owner}
         RETURNING r.id, r."caseId", r."contactPointId", r.channel, r."templateKey", r.automatic, u.provider_message_id, u.attempt_id, u.event_id, u.audit_id
          ), open AS (
            SELECT upd.*, c."assignedAgencyId" AS agency_id, c."debtorId" AS debtor_id
              FROM upd JOIN "Case" AS c ON c.id = upd."caseId"
             WHERE c.stage IN ('EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL')
          ), att AS (
            INSERT INTO "ContactAttempt" ("id", "caseId", "agencyId", "debtorId", "contactPointId", "channel", "direction", "attemptedAt", "status", "outcome", "connected", "reminderId", "notes", "createdAt")
            SELECT attempt_id, "caseId", agency_id, debtor_id, "contactPointId", channel, 'OUTBOUND', ${at}::timestamptz, 'COMPLETED', 'SENT', false, id,
                   trim((CASE WHEN automatic THEN 'automatic' ELSE 'scheduled' END) || ' reminder ' || coalesce("templateKey", '')), ${at}::timestamptz
              FROM open
          ), ev AS (
            INSERT INTO "CaseEvent" ("id", "caseId", "type", "actorId", "actorLabel", "agencyId", "occurredAt", "summary", "data")
            SELECT event_id, "caseId", 'REMINDER_SENT', NULL, 'system', agency_id, ${at}::timestamptz,
                   channel::text || ' reminder sent (' || coalesce("templateKey", 'no template') || ')',
                   jsonb_build_object('reminderId', id, 'providerMessageId', provider_message_id)
              FROM open
          ), aud AS (
            INSERT INTO "AuditEvent" ("id", "at", "action", "entityType", "entityId", "caseId", "data")
            SELECT audit_id, ${at}::timestamptz, 'reminder.send', 'Case', "caseId"::text, "caseId",
                   jsonb_build_object('reminderId', id, 'provider', ${deps.provider.name}::text, 'providerMessageId', provider_message_id)
              FROM open
          )
          SELECT id::text AS id FROM upd`,
      );
      this.result.sent += rows.length;
      if (rows.length < items.length) {
        // Another dispatcher took these rows over while we sent (our lease ran out): it hands the
        // message over again under the same idempotency key, which the provider deduplicates.
        const recorded = new Set(rows.map((r) => r.id));
        const lost = ids.filter((id) => !recorded.has(id));
        deps.logger.error({ reminderIds: lost }, 'reminders sent, but their leases were lost before they were recorded');
        this.result.lostLease += lost.length;
      }
      if (rows.length) deps.events?.committed();
    } catch (err) {
      // The messages are out: record that much at least, or the leases would expire and the
      // reminders be handed over again.
      deps.logger.error({ err, reminderIds: ids }, 'reminders sent; recording them on their cases failed: marking them SENT alone');
      try {
        const rows = await deps.prisma.$queryRaw<{ id: string }[]>`
          UPDATE "Reminder" AS r
             SET status = 'SENT', "sentAt" = ${deps.clock.now().toISOString()}::timestamptz, "providerMessageId" = u.provider_message_id, attempts = r.attempts + 1, "lastError" = NULL, "leaseUntil" = NULL
            FROM unnest(${ids}::uuid[], ${pmids}::text[]) AS u(id, provider_message_id)
           WHERE r.id = u.id AND r.status = 'SENDING' AND r."leaseOwner" = ${owner}
       RETURNING r.id::text AS id`;
        this.result.sent += rows.length;
        this.result.lostLease += items.length - rows.length;
      } catch (again) {
        // The database is gone: the rows keep their leases, which expire, and each reminder is
        // handed over again under its idempotency key.
        deps.logger.error({ err: again, reminderIds: ids }, 'reminders sent; could not record them: left to their leases');
        this.result.errors += items.length;
      }
    }
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

/** Gives claimed rows back, unsent and without counting an attempt; answers how many were still held. */
async function releaseMany(ctx: HandleContext, ids: string[], reason: string, delayMs = 0): Promise<number> {
  const now = ctx.deps.clock.now();
  try {
    const { count } = await ctx.deps.prisma.reminder.updateMany({
      where: { id: { in: ids }, status: 'SENDING', leaseOwner: ctx.owner },
      data: { status: 'SCHEDULED', nextAttemptAt: new Date(now.getTime() + delayMs), leaseOwner: null, leaseUntil: null, lastError: reason.slice(0, 1000) },
    });
    return count;
  } catch (err) {
    ctx.deps.logger.error({ err, reminderIds: ids }, 'could not release claimed reminders: their leases will expire');
    return 0;
  }
}
