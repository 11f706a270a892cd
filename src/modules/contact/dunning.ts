/**
 * Automatic reminders (DOMAIN.md "Reminders": "When an account becomes overdue, the system
 * itself sends an SMS telling the debtor the overdue amount and the repayment deadline"), driven
 * by the DunningRule rows (templates.ts has the defaults and their reasons).
 *
 * For every open case (stage EARLY_REMINDER, FIELD_VISIT or LEGAL; status not PAID or
 * WRITTEN_OFF; no hold in force; the debtor has not asked that contact cease) and every active
 * SMS or EMAIL rule whose band [minDaysPastDue, maxDaysPastDue] holds the case's days past due,
 * the occurrence due now is
 *   n = 0                                              when cadenceDays = 0 (once per rule),
 *   n = floor((daysPastDue − minDaysPastDue) / cadenceDays)  otherwise,
 * and its reminder has the idempotency key `auto:<caseId>:<ruleId>:<n>`: a key that exists is
 * never created again, so re-running (at the same instant, or later the same week) creates
 * nothing, and a run missed for a few days creates the current occurrence only, never a backlog.
 *
 * The reminder goes to the debtor's own MOBILE (SMS) or EMAIL contact point that is not
 * do-not-contact and not a known wrong number, the primary first; a case without one is skipped
 * for that rule (counted). It is scheduled now when now is inside the debtor's contact hours,
 * else at the next start of contact hours in the debtor's zone (the policy engine answers).
 *
 * Set-based, for 100,000 cases and more with flat memory: cases are read 1,000 at a time (keyset
 * on id, one statement with the debtor and the contact points; the next page is read while the
 * current ones are written, two pages at a time, so at most three pages are held), and each page's new reminders, their
 * REMINDER_SCHEDULED timeline events and one audit event for the page are inserted in one
 * transaction with bulk statements, not a transaction per reminder. The lawfulness of each
 * message is checked by the dispatcher at send time (outbox.ts), with the whole policy; this job
 * only skips what can never be sent. The case's version is not bumped: a reminder is not a
 * change to the case's fields, and a collector editing the case must not be refused for it.
 */
import { createHash } from 'node:crypto';
import { Prisma, type PrismaClient, type DunningRule } from '../../generated/prisma/client.ts';
import type { ContactChannel, Jurisdiction, Language } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import { BANK_TIME_ZONE, dateOnly, daysBetween, dueDateForDaysPastDue, localDate } from '../../lib/time.ts';
import type { Logger } from '../../lib/logger.ts';
import { uuidv7 } from '../../lib/ids.ts';
import type { EventBus } from '../../events/bus.ts';
import { recordAudit } from '../audit/service.ts';
import { OPEN_STAGES } from '../cases/write.ts';
import { evaluateContact, type PolicyFigures } from '../policy/engine.ts';
import { getContactPolicy } from '../policy/service.ts';

export interface AutomaticReminderDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  events?: EventBus | undefined;
}

export interface AutomaticReminderOptions {
  /** Cases per page; default 1000. */
  batchSize?: number;
  /** Pages written at once, each in its own transaction; default 2 (the database does the work: one per core here). */
  writers?: number;
  /** Stops between pages; the result says `interrupted`. */
  signal?: AbortSignal;
  /** Told after each page, with the counts so far (progress, benchmarks). */
  onPage?: (progress: Readonly<AutomaticReminderResult>) => void;
}

export interface AutomaticReminderResult {
  /** Open, contactable cases looked at. */
  examined: number;
  created: number;
  /** Occurrences whose reminder existed already. */
  existing: number;
  /** Occurrences skipped: no own, contactable point for the rule's channel. */
  noContactPoint: number;
  /** Occurrences skipped: the rule's template has no text for the channel in the debtor's language. */
  noTemplate: number;
  byRule: Record<string, number>;
  pages: number;
  interrupted?: boolean;
}

/** The rule channels this job sends; calls are made by people, letters by the post room. */
const AUTOMATIC_CHANNELS: readonly ContactChannel[] = ['SMS', 'EMAIL'];

/** The occurrence of a rule due at `dpd` days past due, or null outside its band. */
export function dunningOccurrence(rule: Pick<DunningRule, 'minDaysPastDue' | 'maxDaysPastDue' | 'cadenceDays'>, dpd: number): number | null {
  if (dpd < rule.minDaysPastDue) return null;
  if (rule.maxDaysPastDue !== null && dpd > rule.maxDaysPastDue) return null;
  return rule.cadenceDays <= 0 ? 0 : Math.floor((dpd - rule.minDaysPastDue) / rule.cadenceDays);
}

export function automaticReminderKey(caseId: string, ruleId: string, occurrence: number): string {
  return `auto:${caseId}:${ruleId}:${occurrence}`;
}

/** The same hash scheduleReminder (service.ts) keeps for a key: what the key stands for. */
function requestHash(caseId: string, contactPointId: string, channel: ContactChannel, templateKey: string, scheduledAt: Date): string {
  return createHash('sha256').update(JSON.stringify([caseId, contactPointId, channel, templateKey, scheduledAt.toISOString()])).digest('hex');
}

/** `now` inside the debtor's contact hours, else the next start of them (the engine's CONTACT_HOURS rule). */
export function nextContactHoursInstant(policy: PolicyFigures, timeZone: string, now: Date): Date {
  const decision = evaluateContact({
    policy,
    debtor: { timeZone, ceaseContact: false },
    contactPoint: { id: '-', debtorOwn: true, kind: 'MOBILE', doNotContact: false },
    channel: 'SMS',
    history: [],
    caseId: '-',
    holds: [],
    at: now,
  });
  return decision.allowed ? now : (decision.nextAllowedAt ?? now);
}

interface CaseRow {
  id: string;
  dueDate: Date;
  agencyId: string | null;
  language: Language;
  timeZone: string;
  jurisdiction: Jurisdiction;
  mobileId: string | null;
  emailId: string | null;
  /** The names of the dunning rules the case's strategy treatment allows (src/modules/strategy); null: every rule. */
  strategyRules: string[] | null;
}

const SYSTEM = { userId: null, role: null, agencyId: null, requestId: null };

/** A reminder a rule asks for, before it is known to be new. */
interface Candidate {
  rule: DunningRule;
  id: string;
  eventId: string;
  caseId: string;
  agencyId: string | null;
  contactPointId: string;
  channel: ContactChannel;
  templateKey: string;
  language: Language;
  scheduledAt: Date;
  idempotencyKey: string;
  requestHash: string;
}

/** Creates the automatic reminders due now (see the file's comment). */
export async function createAutomaticReminders(deps: AutomaticReminderDeps, options: AutomaticReminderOptions = {}): Promise<AutomaticReminderResult> {
  const { prisma, clock, logger } = deps;
  const batchSize = options.batchSize ?? 1000;
  const now = clock.now();
  const result: AutomaticReminderResult = { examined: 0, created: 0, existing: 0, noContactPoint: 0, noTemplate: 0, byRule: {}, pages: 0 };

  const rules = (await prisma.dunningRule.findMany({ where: { active: true }, orderBy: [{ minDaysPastDue: 'asc' }, { name: 'asc' }] })).filter((r) => {
    if (AUTOMATIC_CHANNELS.includes(r.channel)) return true;
    logger.warn({ rule: r.name, channel: r.channel }, 'dunning rule ignored: only SMS and EMAIL reminders are automatic');
    return false;
  });
  if (rules.length === 0) return result;
  const templates = new Set((await prisma.messageTemplate.findMany({ select: { key: true, channel: true, language: true } })).map((t) => `${t.key}|${t.channel}|${t.language}`));
  const policies = new Map<Jurisdiction, PolicyFigures>();
  for (const j of ['CN', 'US'] as const) policies.set(j, await getContactPolicy(prisma, j));
  const scheduledFor = new Map<string, Date>();
  const scheduleAt = (j: Jurisdiction, zone: string): Date => {
    const k = `${j}|${zone}`;
    let at = scheduledFor.get(k);
    if (!at) scheduledFor.set(k, (at = nextContactHoursInstant(policies.get(j)!, zone, now)));
    return at;
  };
  const missingTemplates = new Set<string>();

  // Only cases overdue enough for the earliest band (days past due grow as the due date recedes).
  const minDays = Math.min(...rules.map((r) => r.minDaysPastDue));
  const latestDueDate = dateOnly(dueDateForDaysPastDue(Math.max(0, minDays), now));
  const at = now.toISOString();
  const contactPoint = (kind: 'MOBILE' | 'EMAIL') => Prisma.sql`(
    SELECT cp.id FROM "ContactPoint" AS cp
     WHERE cp."debtorId" = c."debtorId" AND cp.kind = ${Prisma.raw(`'${kind}'`)} AND cp.party = 'DEBTOR'
       AND NOT cp."doNotContact" AND cp."wrongNumberAt" IS NULL AND cp.verification = 'VERIFIED'
     ORDER BY cp."primary" DESC, cp."createdAt", cp.id
     LIMIT 1)`;
  const stages = Prisma.raw(OPEN_STAGES.map((s) => `'${s}'`).join(', '));

  const fetchPage = (cursor: string | null): Promise<CaseRow[]> => prisma.$queryRaw<CaseRow[]>`
      SELECT c.id, c."dueDate", c."assignedAgencyId" AS "agencyId", d.language::text AS language, d."timeZone", d.jurisdiction::text AS jurisdiction,
             ${contactPoint('MOBILE')} AS "mobileId", ${contactPoint('EMAIL')} AS "emailId",
             (SELECT sa.treatment->'dunningRules' FROM "CaseStrategyAssignment" AS sa WHERE sa."caseId" = c.id AND sa."endedAt" IS NULL) AS "strategyRules"
        FROM "Case" AS c JOIN "Debtor" AS d ON d.id = c."debtorId"
       WHERE c.stage IN (${stages}) AND c.status NOT IN ('PAID', 'WRITTEN_OFF')
         AND NOT d."ceaseContact"
         AND c."dueDate" <= ${latestDueDate}::date
         ${cursor ? Prisma.sql`AND c.id > ${cursor}::uuid` : Prisma.empty}
         AND NOT EXISTS (
               SELECT 1 FROM "Hold" AS h
                WHERE h."caseId" = c.id AND h."releasedAt" IS NULL AND h."startsAt" <= ${at}::timestamptz
                  AND (h."endsAt" IS NULL OR h."endsAt" > ${at}::timestamptz))
       ORDER BY c.id
       LIMIT ${batchSize}::int`;
  // daysPastDue (lib/time.ts) with its one Intl call hoisted out of the loop: today in the bank's zone.
  const today = localDate(now, BANK_TIME_ZONE);

  // The next page is read while this one is written (writers + 1 pages in memory at most).
  const writers = Math.max(1, options.writers ?? 2);
  const writing = new Set<Promise<void>>();
  let next: Promise<CaseRow[]> | null = fetchPage(null);
  try {
    while (next) {
      if (options.signal?.aborted) {
        await Promise.all(writing);
        return { ...result, interrupted: true };
      }
      const page: CaseRow[] = await next;
      next = null;
      if (page.length === 0) break;
      if (page.length === batchSize) next = fetchPage(page[page.length - 1]!.id);
      result.pages++;
      result.examined += page.length;

      const candidates: Candidate[] = [];
      for (const c of page) {
        const dpd = Math.max(0, daysBetween(c.dueDate, today));
        for (const rule of rules) {
          const n = dunningOccurrence(rule, dpd);
          if (n === null) continue;
          // The case's treatment names the rules that send its reminders (none named: every rule).
          if (Array.isArray(c.strategyRules) && !c.strategyRules.includes(rule.name)) continue;
          const contactPointId = rule.channel === 'SMS' ? c.mobileId : c.emailId;
          if (!contactPointId) {
            result.noContactPoint++;
            continue;
          }
          if (!templates.has(`${rule.templateKey}|${rule.channel}|${c.language}`)) {
            result.noTemplate++;
            missingTemplates.add(`${rule.templateKey} ${rule.channel} ${c.language}`);
            continue;
          }
          const scheduledAt = scheduleAt(c.jurisdiction, c.timeZone);
          candidates.push({
            rule,
            id: uuidv7(now.getTime()),
            eventId: uuidv7(now.getTime()),
            caseId: c.id,
            agencyId: c.agencyId,
            contactPointId,
            channel: rule.channel,
            templateKey: rule.templateKey,
            language: c.language,
            scheduledAt,
            idempotencyKey: automaticReminderKey(c.id, rule.id, n),
            requestHash: requestHash(c.id, contactPointId, rule.channel, rule.templateKey, scheduledAt),
          });
        }
      }
      if (candidates.length) {
        const write: Promise<void> = insertPage(deps, candidates, now, result).finally(() => writing.delete(write));
        writing.add(write);
        // Pages are disjoint sets of cases: `writers` of them are written at once, on their own connections.
        if (writing.size >= writers) await Promise.race(writing);
      }
      options.onPage?.(result);
    }
    await Promise.all(writing);
  } finally {
    // A page read ahead and not used (an error above): nobody waits for it, so its failure is no one's;
    // the writes still running end before the job answers (one of them failed: the error goes up).
    next?.catch(() => {});
    await Promise.allSettled(writing);
  }
  if (missingTemplates.size) logger.warn({ missing: [...missingTemplates] }, 'automatic reminders skipped: templates missing');
  return result;
}

/**
 * Inserts a page's new reminders and their timeline events in one statement, and the page's audit
 * event, in one transaction. The keys that exist already are read first (one indexed read), so
 * that a re-run writes nothing at all; ON CONFLICT DO NOTHING covers a reminder scheduled under
 * the same key meanwhile, and only the rows really inserted get an event. One statement over
 * unnest()ed arrays, because the ORM's per-row encoding of a 1,000-row createMany cost several
 * times the database's own work.
 */
async function insertPage(deps: AutomaticReminderDeps, candidates: Candidate[], now: Date, result: AutomaticReminderResult): Promise<void> {
  const { prisma } = deps;
  const existing = new Set(
    (await prisma.$queryRaw<{ key: string }[]>`SELECT "idempotencyKey" AS key FROM "Reminder" WHERE "idempotencyKey" = ANY(${candidates.map((r) => r.idempotencyKey)}::text[])`).map((r) => r.key),
  );
  const fresh = candidates.filter((r) => !existing.has(r.idempotencyKey));
  result.existing += candidates.length - fresh.length;
  if (fresh.length === 0) return;
  const at = now.toISOString();
  const rows = await prisma.$transaction(
    async (tx) => {
      const created = await tx.$queryRaw<{ reminderId: string; eventId: string; caseId: string; ruleId: string }[]>`
        WITH u AS (
          SELECT * FROM unnest(
                   ${fresh.map((r) => r.id)}::uuid[], ${fresh.map((r) => r.eventId)}::uuid[], ${fresh.map((r) => r.caseId)}::uuid[],
                   ${fresh.map((r) => r.agencyId)}::uuid[], ${fresh.map((r) => r.contactPointId)}::uuid[], ${fresh.map((r) => r.channel)}::text[],
                   ${fresh.map((r) => r.templateKey)}::text[], ${fresh.map((r) => r.language)}::text[], ${fresh.map((r) => r.scheduledAt.toISOString())}::timestamptz[],
                   ${fresh.map((r) => r.idempotencyKey)}::text[], ${fresh.map((r) => r.requestHash)}::text[], ${fresh.map((r) => r.rule.id)}::uuid[],
                   ${fresh.map((r) => `${r.channel} reminder scheduled for ${r.scheduledAt.toISOString()} (dunning rule ${r.rule.name})`)}::text[])
                 AS u(id, event_id, case_id, agency_id, contact_point_id, channel, template_key, language, scheduled_at, key, hash, rule_id, summary)
        ), ins AS (
          INSERT INTO "Reminder" ("id", "caseId", "agencyId", "contactPointId", "channel", "templateKey", "language", "scheduledAt", "nextAttemptAt",
                                  "status", "idempotencyKey", "requestHash", "automatic", "dunningRuleId", "attempts", "createdAt")
          SELECT u.id, u.case_id, u.agency_id, u.contact_point_id, u.channel::"ContactChannel", u.template_key, u.language::"Language", u.scheduled_at, u.scheduled_at,
                 'SCHEDULED', u.key, u.hash, true, u.rule_id, 0, ${at}::timestamptz
            FROM u
          ON CONFLICT ("idempotencyKey") DO NOTHING
          RETURNING id
        ), ev AS (
          INSERT INTO "CaseEvent" ("id", "caseId", "type", "actorId", "actorLabel", "agencyId", "occurredAt", "summary", "data")
          SELECT u.event_id, u.case_id, 'REMINDER_SCHEDULED', NULL, 'system', u.agency_id, ${at}::timestamptz, u.summary,
                 jsonb_build_object('reminderId', u.id, 'automatic', true, 'dunningRuleId', u.rule_id, 'templateKey', u.template_key)
            FROM u JOIN ins ON ins.id = u.id
          RETURNING id, "caseId", data
        )
        SELECT ev.data->>'reminderId' AS "reminderId", ev.id::text AS "eventId", ev."caseId"::text AS "caseId", ev.data->>'dunningRuleId' AS "ruleId" FROM ev`;
      const names = new Map(fresh.map((r) => [r.rule.id, r.rule.name]));
      const byRule: Record<string, number> = {};
      for (const r of created) {
        const name = names.get(r.ruleId) ?? r.ruleId;
        byRule[name] = (byRule[name] ?? 0) + 1;
      }
      await recordAudit(tx, SYSTEM, now, { action: 'reminder.autoSchedule', entityType: 'Reminder', data: { created: created.length, byRule, reminderIds: created.map((r) => r.reminderId) } });
      return { created, byRule };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  for (const [name, count] of Object.entries(rows.byRule)) result.byRule[name] = (result.byRule[name] ?? 0) + count;
  result.created += rows.created.length;
  result.existing += fresh.length - rows.created.length;
  if (rows.created.length) deps.events?.committed();
}
