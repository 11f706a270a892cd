/**
 * Contact at scale: the dispatcher decides a claimed batch with one set of reads and records its
 * sends in bulk (outbox.ts, prepareBatch and SentLog), and evaluateContactMany answers exactly as
 * the one-at-a-time evaluateCaseContact does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople } from '../support/scenario.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { DAY_MS } from '../../src/lib/time.ts';
import { claimDueReminders, dispatchDueReminders, type DispatchOptions } from '../../src/modules/contact/outbox.ts';
import { evaluateCaseContact, evaluateContactMany, type ContactQuestion } from '../../src/modules/contact/service.ts';
import { ProviderError } from '../../src/modules/contact/providers.ts';
import { ensureDefaultTemplates } from '../../src/modules/contact/templates.ts';
import type { ContactChannel } from '../../src/generated/prisma/enums.ts';
import { channelFits, evaluateContact, historyWindowStart } from '../../src/modules/policy/engine.ts';
import { getContactPolicy } from '../../src/modules/policy/service.ts';
import { FakeProvider, mobileOf } from './support.ts';

let t: TestApp;
let provider: FakeProvider;
const logger = createLogger('silent');
let seq = 0;
const NOW = new Date(TEST_NOW);

beforeAll(async () => {
  t = await createTestApp();
  await createPeople(t.prisma);
  await ensureDefaultTemplates(t.prisma);
});
afterAll(async () => t?.close());
beforeEach(() => {
  t.clock.set(TEST_NOW); // 10:00 in Shanghai
  provider = new FakeProvider();
});

const dispatch = (options: Partial<DispatchOptions> = {}) =>
  dispatchDueReminders({ prisma: t.prisma, clock: t.clock, logger, provider }, { owner: `batch-${++seq}`, random: () => 0, batchSize: 100, concurrency: 8, ...options });

async function due(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), daysPastDue: 10 });
    const mobile = await mobileOf(t.prisma, c.id);
    const reminder = await t.prisma.reminder.create({
      data: {
        caseId: c.id,
        contactPointId: mobile.id,
        channel: 'SMS',
        templateKey: 'overdue-notice',
        language: 'ZH_CN',
        scheduledAt: t.clock.now(),
        nextAttemptAt: t.clock.now(),
        idempotencyKey: `batch-${++seq}-${c.id}`,
        requestHash: 'test',
      },
    });
    out.push({ c, mobile, reminder });
  }
  return out;
}

/** Statements the whole dispatch ran (claim, reads, sends' records), counted at the store. */
async function statementsToSend(n: number) {
  const rows = await due(n);
  let count = 0;
  const stop = t.runtime.store.onQuery(() => count++);
  try {
    const result = await dispatch();
    expect(result).toMatchObject({ claimed: n, sent: n, errors: 0, lostLease: 0 });
  } finally {
    stop();
  }
  return { count, rows };
}

describe('the dispatcher at scale', () => {
  it('sends a batch of 45 with the statements it takes to send 5', async () => {
    const five = await statementsToSend(5);
    const many = await statementsToSend(45);
    console.log(`dispatch: ${five.count} SQL statements for 5 reminders, ${many.count} for 45`);
    expect(many.count).toBe(five.count);
    // claim + reminders + debtors + contact points + holds + policy + template + text/lease + one
    // recording transaction (and the second, empty claim that ends the run): a few, not per reminder.
    expect(many.count).toBeLessThanOrEqual(16);

    // Every send is recorded whole: SENT, a COMPLETED attempt, a timeline event, an audit event.
    const ids = many.rows.map((r) => r.reminder.id);
    const sent = await t.prisma.reminder.findMany({ where: { id: { in: ids } } });
    expect(sent.every((r) => r.status === 'SENT' && r.attempts === 1 && r.sentAt?.getTime() === NOW.getTime() && r.providerMessageId === `fake:${r.id}` && r.leaseUntil === null)).toBe(true);
    expect(sent.every((r) => r.renderedMessage?.startsWith('【示例银行】'))).toBe(true);
    const attempts = await t.prisma.contactAttempt.findMany({ where: { reminderId: { in: ids } } });
    expect(attempts).toHaveLength(45);
    expect(attempts.every((a) => a.status === 'COMPLETED' && a.outcome === 'SENT' && a.direction === 'OUTBOUND' && !a.connected && a.notes === 'scheduled reminder overdue-notice')).toBe(true);
    const caseIds = many.rows.map((r) => r.c.id);
    const events = await t.prisma.caseEvent.findMany({ where: { caseId: { in: caseIds }, type: 'REMINDER_SENT' } });
    expect(events).toHaveLength(45);
    expect(events.every((e) => e.actorLabel === 'system' && (e.data as { providerMessageId: string }).providerMessageId.startsWith('fake:'))).toBe(true);
    const audits = await t.prisma.auditEvent.findMany({ where: { caseId: { in: caseIds }, action: 'reminder.send' } });
    expect(audits).toHaveLength(45);
    expect(audits.every((a) => (a.data as { provider: string }).provider === 'fake' && a.entityType === 'Case')).toBe(true);
    // A message going out is not a change to the case: the collector's expectedVersion still holds.
    const versions = await t.prisma.case.findMany({ where: { id: { in: caseIds } }, select: { version: true } });
    expect(versions.every((v) => v.version === 1)).toBe(true);
  });

  it('settles each reminder of a mixed batch on its own: sent, blocked, deferred, cancelled, failed, retried', async () => {
    const [ok, dnc, heldUntil, closed, foreign, flaky, held] = await due(7);
    await t.prisma.contactPoint.update({ where: { id: dnc!.mobile.id }, data: { doNotContact: true, doNotContactAt: t.clock.now() } });
    const end = new Date(t.clock.now().getTime() + 2 * DAY_MS);
    await t.prisma.hold.create({ data: { caseId: heldUntil!.c.id, reason: 'HARDSHIP', startsAt: t.clock.now(), endsAt: end } });
    await t.prisma.hold.create({ data: { caseId: held!.c.id, reason: 'DISPUTE', startsAt: t.clock.now() } });
    await t.prisma.case.update({ where: { id: closed!.c.id }, data: { stage: 'CLOSED', closedAt: t.clock.now(), closeReason: 'RETURNED_TO_BANK' } });
    // A contact point of another debtor: no retry can help.
    await t.prisma.reminder.update({ where: { id: foreign!.reminder.id }, data: { contactPointId: ok!.mobile.id } });
    const flakyId = flaky!.reminder.id;
    const inner = provider.send.bind(provider);
    provider.send = async (msg) => {
      if (msg.reminderId === flakyId) throw new ProviderError('gateway: HTTP 503');
      return inner(msg);
    };

    expect(await dispatch()).toMatchObject({ claimed: 7, sent: 1, blocked: 2, deferred: 1, cancelled: 1, failed: 1, retried: 1, errors: 0, lostLease: 0 });
    const status = async (r: { reminder: { id: string } } | undefined) => t.prisma.reminder.findUniqueOrThrow({ where: { id: r!.reminder.id } });
    expect(await status(ok)).toMatchObject({ status: 'SENT' });
    expect(await status(dnc)).toMatchObject({ status: 'BLOCKED', blockedRule: 'DO_NOT_CONTACT' });
    expect(await status(held)).toMatchObject({ status: 'BLOCKED', blockedRule: 'CASE_ON_HOLD' });
    expect(await status(heldUntil)).toMatchObject({ status: 'SCHEDULED', nextAttemptAt: end });
    expect(await status(closed)).toMatchObject({ status: 'CANCELLED', lastError: 'case closed: not sent' });
    expect(await status(foreign)).toMatchObject({ status: 'FAILED', lastError: expect.stringMatching(/^NOT_FOUND: No such contact point/) });
    expect(await status(flaky)).toMatchObject({ status: 'SCHEDULED', attempts: 1, lastError: 'gateway: HTTP 503' });
    expect(provider.sent.map((m) => m.reminderId)).toEqual([ok!.reminder.id]);
    // Only what went out is counted as contact.
    const attempts = await t.prisma.contactAttempt.findMany({ where: { reminderId: { in: [ok, dnc, held].map((r) => r!.reminder.id) } }, select: { reminderId: true, status: true } });
    const byId = (a: { reminderId: string | null }, b: { reminderId: string | null }) => a.reminderId!.localeCompare(b.reminderId!);
    expect(attempts.sort(byId)).toEqual(
      [
        { reminderId: dnc!.reminder.id, status: 'BLOCKED' },
        { reminderId: held!.reminder.id, status: 'BLOCKED' },
        { reminderId: ok!.reminder.id, status: 'COMPLETED' },
      ].sort(byId),
    );
  });

  it('marks sends SENT alone when recording them on their cases fails, and never sends them again', async () => {
    const rows = await due(3);
    // The timeline refuses the dispatcher's events (a full disk, a broken trigger…): the recording transaction fails.
    await t.prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_sent() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'timeline unavailable'; END $$ LANGUAGE plpgsql`);
    await t.prisma.$executeRawUnsafe(`CREATE TRIGGER test_refuse_sent BEFORE INSERT ON "CaseEvent" FOR EACH ROW WHEN (NEW.type = 'REMINDER_SENT') EXECUTE FUNCTION test_refuse_sent()`);
    try {
      expect(await dispatch()).toMatchObject({ claimed: 3, sent: 3, errors: 0, lostLease: 0 });
    } finally {
      await t.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_sent ON "CaseEvent"`);
    }
    const ids = rows.map((r) => r.reminder.id);
    const after = await t.prisma.reminder.findMany({ where: { id: { in: ids } } });
    expect(after.every((r) => r.status === 'SENT' && r.providerMessageId === `fake:${r.id}` && r.leaseOwner !== null && r.leaseUntil === null)).toBe(true);
    // All or nothing: the failed transaction left no attempt and no audit event half-written.
    expect(await t.prisma.contactAttempt.count({ where: { reminderId: { in: ids } } })).toBe(0);
    expect(await t.prisma.auditEvent.count({ where: { caseId: { in: rows.map((r) => r.c.id) }, action: 'reminder.send' } })).toBe(0);
    t.clock.advance(DAY_MS);
    await dispatch();
    expect(provider.sent.filter((m) => ids.includes(m.reminderId))).toHaveLength(3);
  });

  it('claims rows of dead dispatchers first, then due rows in (nextAttemptAt, id) order, never more than asked', async () => {
    const rows = await due(8);
    const ids = rows.map((r) => r.reminder.id);
    // Leave nothing else due (earlier tests' retries).
    await t.prisma.reminder.updateMany({ where: { id: { notIn: ids }, status: { in: ['SCHEDULED', 'SENDING'] } }, data: { status: 'CANCELLED', leaseOwner: null, leaseUntil: null } });
    const expired = ids.slice(0, 3);
    await t.prisma.reminder.updateMany({ where: { id: { in: expired } }, data: { status: 'SENDING', leaseOwner: 'dead', leaseUntil: new Date(NOW.getTime() - 1000) } });
    // The due ones at different instants: the earliest two go first.
    for (const [k, id] of ids.slice(3).entries()) await t.prisma.reminder.update({ where: { id }, data: { nextAttemptAt: new Date(NOW.getTime() - (k + 1) * 60_000) } });
    const claimed = await claimDueReminders(t.prisma, 'claimer', NOW, 60_000, 5);
    expect(claimed).toHaveLength(5);
    expect(new Set(claimed)).toEqual(new Set([...expired, ids[7]!, ids[6]!]));
    const rest = await claimDueReminders(t.prisma, 'claimer-2', NOW, 60_000, 5);
    expect(new Set(rest)).toEqual(new Set([ids[5]!, ids[4]!, ids[3]!]));
    expect(await claimDueReminders(t.prisma, 'claimer-3', NOW, 60_000, 5)).toEqual([]);
    await t.prisma.reminder.updateMany({ where: { id: { in: ids } }, data: { status: 'CANCELLED', leaseOwner: null, leaseUntil: null } });
  });

  it('records sends in several transactions when a batch holds more than one recording', async () => {
    const rows = await due(120);
    provider.delayMs = 1;
    const result = await dispatch({ batchSize: 60 });
    expect(result).toMatchObject({ claimed: 120, sent: 120, errors: 0, lostLease: 0 });
    expect(await t.prisma.contactAttempt.count({ where: { reminderId: { in: rows.map((r) => r.reminder.id) } } })).toBe(120);
    expect(new Set(provider.sent.map((m) => m.idempotencyKey)).size).toBe(120);
  });
});

/**
 * The decision as the one-at-a-time code made it before batching, written out independently: each
 * fact read on its own for this question alone (the whole bounded history, whatever the channel).
 */
async function reference(q: ContactQuestion) {
  const debtor = await t.prisma.debtor.findUniqueOrThrow({ where: { id: q.case.debtorId } });
  const cp = q.contactPointId ? await t.prisma.contactPoint.findUnique({ where: { id: q.contactPointId } }) : null;
  if (q.contactPointId && (!cp || cp.debtorId !== debtor.id)) return { error: "No such contact point of the case's debtor" };
  if (cp && !channelFits(q.channel, cp.kind)) return { error: `${q.channel} cannot reach a ${cp.kind.toLowerCase().replace('_', ' ')}` };
  if (!cp && q.channel !== 'LETTER') return { error: `${q.channel} needs a contact point` };
  const policy = await getContactPolicy(t.prisma, debtor.jurisdiction);
  const history = await t.prisma.contactAttempt.findMany({
    where: { debtorId: debtor.id, status: 'COMPLETED', direction: 'OUTBOUND', attemptedAt: { gte: historyWindowStart(policy, q.at, debtor.timeZone), lte: q.at } },
    select: { attemptedAt: true, channel: true, contactPointId: true, connected: true, caseId: true },
  });
  const holds = await t.prisma.hold.findMany({ where: { caseId: q.case.id, releasedAt: null } });
  const decision = evaluateContact({
    policy,
    debtor: { timeZone: debtor.timeZone, ceaseContact: debtor.ceaseContact },
    contactPoint: cp && { id: cp.id, debtorOwn: cp.party === 'DEBTOR', kind: cp.kind, doNotContact: cp.doNotContact },
    channel: q.channel,
    history,
    caseId: q.case.id,
    holds,
    at: q.at,
  });
  return { decision, debtorId: debtor.id, contactPointId: cp?.id ?? null };
}

describe('evaluateContactMany', () => {
  it('answers each question exactly as evaluateCaseContact does, with call history, holds and foreign points', async () => {
    const [a, b, us] = await due(3);
    await t.prisma.debtor.update({ where: { id: us!.c.debtorId }, data: { jurisdiction: 'US', timeZone: 'America/New_York' } });
    const home = await t.prisma.contactPoint.create({ data: { debtorId: a!.c.debtorId, kind: 'HOME_PHONE', value: '01088880001' } });
    // Debtor a: three connected calls today (the CN daily limit), one yesterday; debtor us: a conversation 3 days ago.
    const at = (ms: number) => new Date(NOW.getTime() - ms);
    const call = (c: typeof a, cp: string, when: Date, connected: boolean) =>
      t.prisma.contactAttempt.create({ data: { caseId: c!.c.id, debtorId: c!.c.debtorId, contactPointId: cp, channel: 'CALL', attemptedAt: when, outcome: connected ? 'ANSWERED' : 'NO_ANSWER', connected } });
    for (const h of [1, 2, 3]) await call(a, a!.mobile.id, at(h * 600_000), true);
    await call(a, home.id, at(DAY_MS), false);
    await call(us, us!.mobile.id, at(3 * DAY_MS), true);
    await t.prisma.hold.create({ data: { caseId: b!.c.id, reason: 'HARDSHIP', startsAt: at(DAY_MS), endsAt: new Date(NOW.getTime() + DAY_MS) } });

    const questions: ContactQuestion[] = [];
    for (const c of [a, b, us]) {
      for (const channel of ['CALL', 'SMS', 'EMAIL', 'LETTER'] as ContactChannel[]) {
        for (const cp of [c!.mobile.id, home.id, null]) {
          for (const when of [NOW, at(2 * 3_600_000), new Date(NOW.getTime() + 13 * 3_600_000), new Date(NOW.getTime() + DAY_MS)]) {
            questions.push({ case: c!.c, channel, contactPointId: cp, at: when });
          }
        }
      }
    }
    const many = await evaluateContactMany(t.prisma, questions);
    expect(many).toHaveLength(questions.length);
    let refused = 0;
    let errors = 0;
    for (const [i, q] of questions.entries()) {
      const expected = await reference(q);
      const single = await evaluateCaseContact(t.prisma, q.case as never, q).then(
        (ctx) => ({ decision: ctx.decision, debtorId: ctx.debtor.id, contactPointId: ctx.contactPoint?.id ?? null }),
        (err: Error) => ({ error: err.message }),
      );
      const answer = many[i]!;
      const batched = 'error' in answer ? { error: answer.error.message } : { decision: answer.decision, debtorId: answer.debtor.id, contactPointId: answer.contactPoint?.id ?? null };
      expect(batched, `question ${i}: ${q.channel} at ${q.at.toISOString()} to ${q.contactPointId}`).toEqual(expected);
      expect(single).toEqual(expected);
      if ('error' in batched) errors++;
      else if (!batched.decision!.allowed) refused++;
    }
    // The questions reach every branch: allowed, refused by a rule, and no decision possible.
    expect(errors).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(many.some((x) => !('error' in x) && x.decision.allowed)).toBe(true);
    expect(many.some((x) => !('error' in x) && !x.decision.allowed && x.decision.rule === 'CONNECTED_CALLS_PER_DAY')).toBe(true);
    expect(many.some((x) => !('error' in x) && !x.decision.allowed && x.decision.rule === 'QUIET_AFTER_CONVERSATION')).toBe(true);
    expect(many.some((x) => !('error' in x) && !x.decision.allowed && x.decision.rule === 'CASE_ON_HOLD')).toBe(true);
  });

  it('reads the same few statements for 3 questions as for 60', async () => {
    const rows = await due(20);
    const ask = (n: number) => rows.slice(0, n).flatMap((r) => (['CALL', 'SMS', 'EMAIL'] as const).map((channel) => ({ case: r.c, channel, contactPointId: r.mobile.id, at: NOW })));
    const count = async (qs: ContactQuestion[]) => {
      let n = 0;
      const stop = t.runtime.store.onQuery(() => n++);
      try {
        await evaluateContactMany(t.prisma, qs);
      } finally {
        stop();
      }
      return n;
    };
    const few = await count(ask(1));
    const lots = await count(ask(20));
    expect(lots).toBe(few);
    expect(lots).toBeLessThanOrEqual(6);
  });
});
