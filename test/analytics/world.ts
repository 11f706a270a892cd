/**
 * Random books for the analytics tests: cases placed with North, South or the bank, with records
 * of every era (a payment recorded while another agency held the case, a promise of the bank's
 * era…), reversals, placements past and present, bucket history, contact attempts, visits. Rows
 * go straight into the database (what a report reads), from a fast-check arbitrary.
 */
import fc from 'fast-check';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Bucket, CaseStage, ComplaintStatus, CaseStatus, ContactChannel, Jurisdiction, PromiseStatus, RecallReason, VisitOutcome } from '../../src/generated/prisma/enums.ts';
import type { Pii } from '../../src/lib/pii.ts';
import { DAY_MS, dueDateForDaysPastDue } from '../../src/lib/time.ts';
import type { Scenario } from '../support/scenario.ts';

export type Holder = 'NORTH' | 'SOUTH' | 'BANK';
const ERA = fc.constantFrom<Holder | 'NONE'>('NORTH', 'SOUTH', 'BANK', 'NONE');
const WHEN = fc.integer({ min: 0, max: 130 * 24 }); // hours before now

const paymentArb = fc.record({ hoursAgo: WHEN, amount: fc.bigInt({ min: 1n, max: 10n ** 12n }), era: ERA, reversed: fc.boolean() });
const promiseArb = fc.record({
  hoursAgo: WHEN,
  amount: fc.bigInt({ min: 1n, max: 10n ** 9n }),
  paidPermille: fc.integer({ min: 0, max: 1000 }),
  status: fc.constantFrom<PromiseStatus>('OPEN', 'KEPT', 'PARTIAL', 'BROKEN', 'CANCELLED'),
  era: ERA,
  capturer: fc.nat({ max: 3 }),
});
const attemptArb = fc.record({
  hoursAgo: WHEN,
  era: ERA,
  blocked: fc.boolean(),
  connected: fc.boolean(),
  violation: fc.boolean(),
  rule: fc.constantFrom(null, 'CONTACT_HOURS', 'DAILY_CONNECTED_CALLS', 'DO_NOT_CONTACT'),
  channel: fc.constantFrom<ContactChannel>('SMS', 'CALL', 'EMAIL'),
  actor: fc.nat({ max: 3 }),
});
const caseArb = fc.record({
  holder: fc.constantFrom<Holder | 'NONE'>('NORTH', 'SOUTH', 'BANK', 'NONE'),
  collector: fc.nat({ max: 2 }),
  daysPastDue: fc.integer({ min: 0, max: 400 }),
  principal: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  interest: fc.bigInt({ min: 0n, max: 10n ** 8n }),
  fees: fc.bigInt({ min: 0n, max: 10n ** 6n }),
  currency: fc.constantFrom('CNY', 'USD'),
  stage: fc.constantFrom<CaseStage>('EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL', 'RESOLVED', 'CLOSED'),
  status: fc.constantFrom<CaseStatus>('OPEN', 'PROMISED', 'BROKEN_PROMISE', 'PAID'),
  closedHoursAgo: WHEN,
  jurisdiction: fc.constantFrom<Jurisdiction>('CN', 'US'),
  product: fc.constantFrom('Gold', 'Platinum'),
  placedHoursAgo: WHEN,
  earlier: fc.option(fc.record({ holder: fc.constantFrom<Holder>('NORTH', 'SOUTH', 'BANK'), hours: fc.integer({ min: 1, max: 500 }), recall: fc.constantFrom<RecallReason | null>('PERFORMANCE', 'COMPLAINT', null) })),
  payments: fc.array(paymentArb, { maxLength: 3 }),
  promises: fc.array(promiseArb, { maxLength: 2 }),
  attempts: fc.array(attemptArb, { maxLength: 3 }),
  history: fc.array(fc.record({ hoursAgo: fc.integer({ min: 0, max: 200 * 24 }), bucket: fc.constantFrom<Bucket>('M1', 'M2', 'M3', 'M4', 'M6_PLUS') }), { maxLength: 3 }),
  visit: fc.option(fc.record({ hoursAgo: WHEN, era: ERA, outcome: fc.constantFrom<VisitOutcome | null>('PROMISE_TO_PAY', 'REFUSED', 'NOT_AT_HOME', null) })),
  complaints: fc.array(
    fc.record({
      hoursAgo: WHEN,
      era: ERA,
      against: fc.constantFrom<'NORTH' | 'SOUTH' | 'BANK'>('NORTH', 'SOUTH', 'BANK'),
      status: fc.constantFrom<ComplaintStatus>('OPEN', 'INVESTIGATING', 'UPHELD', 'NOT_UPHELD'),
      decidedHoursAgo: WHEN,
    }),
    { maxLength: 2 },
  ),
});

export const bookArb = fc.array(caseArb, { minLength: 1, maxLength: 6 });
export type CaseSpec = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

let seq = 0;

/** Writes one random book; returns nothing: the reference reads every row back from the database. */
export async function writeBook(prisma: PrismaClient, pii: Pii, s: Scenario, now: Date, book: CaseSpec[]): Promise<void> {
  const agencyOf = (h: Holder | 'NONE') => (h === 'NORTH' ? s.north.id : h === 'SOUTH' ? s.south.id : null);
  const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * 3_600_000 - (++seq % 997) * 1000);
  const people = [s.users.northAgent, s.users.southAgent, s.users.collector, s.users.northAgent2];
  for (const spec of book) {
    const n = ++seq;
    const agencyId = agencyOf(spec.holder);
    const collectorId =
      spec.holder === 'NORTH' ? [s.users.northAgent.id, s.users.northAgent2.id, null][spec.collector]!
      : spec.holder === 'SOUTH' ? [s.users.southAgent.id, null, null][spec.collector]!
      : spec.holder === 'BANK' ? [s.users.collector.id, s.users.collector2.id, s.users.collector.id][spec.collector]!
      : null;
    const debtor = await prisma.debtor.create({
      data: {
        externalRef: `W-${process.pid}-${n}`,
        fullName: `World ${n}`,
        jurisdiction: spec.jurisdiction,
        ...pii.sealNationalId(`11010119900307${String(1000 + (n % 9000)).slice(-4)}`),
        addresses: { create: [{ kind: 'HOME', line1: `${n} Road`, city: 'Beijing', region: 'Beijing' }] },
      },
      include: { addresses: true },
    });
    const account = await prisma.cardAccount.create({
      data: { externalRef: `WA-${process.pid}-${n}`, debtorId: debtor.id, cardLast4: '1234', product: spec.product, creditLimit: 1n, currency: spec.currency },
    });
    const ended = spec.stage === 'RESOLVED' || spec.stage === 'CLOSED';
    const c = await prisma.case.create({
      data: {
        accountId: account.id,
        debtorId: debtor.id,
        currency: spec.currency,
        principal: spec.principal,
        interest: spec.interest,
        fees: spec.fees,
        overdueTotal: spec.principal + spec.interest + spec.fees,
        dueDate: dueDateForDaysPastDue(spec.daysPastDue, now),
        stage: spec.stage,
        status: spec.status,
        assignedAgencyId: agencyId,
        assignedCollectorId: collectorId,
        openedAt: new Date(now.getTime() - 300 * DAY_MS),
        closedAt: ended ? at(spec.closedHoursAgo) : null,
      },
    });
    const placedAt = at(spec.placedHoursAgo);
    if (spec.earlier) {
      const e = spec.earlier;
      await prisma.placement.create({
        data: {
          caseId: c.id,
          kind: e.holder === 'BANK' ? 'BANK' : 'AGENCY',
          agencyId: agencyOf(e.holder),
          collectorId: e.holder === 'BANK' ? s.users.collector2.id : e.holder === 'NORTH' ? s.users.northAgent2.id : s.users.southAgent.id,
          startsAt: new Date(placedAt.getTime() - e.hours * 3_600_000),
          endedAt: placedAt,
          recallReason: e.recall,
        },
      });
    }
    if (spec.holder !== 'NONE') {
      await prisma.placement.create({ data: { caseId: c.id, kind: agencyId ? 'AGENCY' : 'BANK', agencyId, collectorId, startsAt: placedAt } });
    }
    for (const p of spec.payments) {
      const pay = await prisma.payment.create({
        data: { caseId: c.id, agencyId: agencyOf(p.era), amount: p.amount, currency: spec.currency, receivedAt: at(p.hoursAgo), channel: 'BANK_TRANSFER', idempotencyKey: `w-${process.pid}-${++seq}`, requestHash: 'h' },
      });
      if (p.reversed) {
        await prisma.paymentReversal.create({ data: { paymentId: pay.id, caseId: c.id, agencyId: pay.agencyId, amount: p.amount, currency: spec.currency, reason: 'test', createdAt: now } });
      }
    }
    for (const t of spec.promises) {
      await prisma.promiseToPay.create({
        data: {
          caseId: c.id,
          agencyId: agencyOf(t.era),
          amount: t.amount,
          paidAmount: (t.amount * BigInt(t.paidPermille)) / 1000n,
          currency: spec.currency,
          promisedFor: new Date(now.getTime() + DAY_MS),
          status: t.status,
          capturedById: people[t.capturer]!.id,
          createdAt: at(t.hoursAgo),
        },
      });
    }
    for (const a of spec.attempts) {
      await prisma.contactAttempt.create({
        data: {
          caseId: c.id,
          debtorId: debtor.id,
          agencyId: agencyOf(a.era),
          channel: a.channel,
          attemptedAt: at(a.hoursAgo),
          status: a.blocked ? 'BLOCKED' : 'COMPLETED',
          connected: a.connected && !a.blocked,
          violation: a.violation && !a.blocked,
          rule: a.blocked || a.violation ? (a.rule ?? 'CONTACT_HOURS') : null,
          actorId: people[a.actor]!.id,
        },
      });
    }
    for (const h of spec.history) await prisma.bucketHistory.create({ data: { caseId: c.id, bucket: h.bucket, enteredAt: at(h.hoursAgo) } });
    for (const k of spec.complaints) {
      const receivedAt = at(k.hoursAgo);
      const decided = k.status === 'UPHELD' || k.status === 'NOT_UPHELD';
      await prisma.complaint.create({
        data: {
          caseId: c.id,
          agencyId: agencyOf(k.era),
          channel: 'PHONE',
          category: 'HARASSMENT',
          against: k.against === 'BANK' ? 'BANK' : 'AGENCY',
          againstAgencyId: k.against === 'BANK' ? null : agencyOf(k.against),
          description: 'test',
          status: k.status,
          receivedAt,
          responseDueAt: new Date(receivedAt.getTime() + 5 * DAY_MS),
          resolutionDueAt: new Date(receivedAt.getTime() + 15 * DAY_MS),
          decidedAt: decided ? at(k.decidedHoursAgo) : null,
          createdAt: receivedAt,
        },
      });
    }
    if (spec.visit) {
      await prisma.visit.create({
        data: {
          caseId: c.id,
          agencyId: agencyOf(spec.visit.era),
          addressId: debtor.addresses[0]!.id,
          purpose: 'test',
          dossier: {},
          status: 'COMPLETED',
          outcome: spec.visit.outcome,
          completedAt: at(spec.visit.hoursAgo),
        },
      });
    }
  }
}
