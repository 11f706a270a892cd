import { builder } from '../../builder.ts';
import { agencyEra, viaCase, visibleRecords } from '../../auth/scopes.ts';
import { ContactAttemptStatus, ContactChannel, ContactDirection, ContactOutcome, Language, ReminderStatus } from '../common/enums.ts';

export const ReminderRef = builder.prismaNode('Reminder', {
  nullable: true,
  id: { field: 'id' },
  description: 'A message the system sends through the outbox (SMS, e-mail, letter, automated call).',
  // Select mode: a page reads the columns asked for; the era is always read (the era rules need it).
  select: { id: true, agencyId: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Reminder(ctx.viewer)] }),
  fields: (t) => ({
    channel: t.expose('channel', { type: ContactChannel }),
    contactPoint: t.relation('contactPoint'),
    templateKey: t.exposeString('templateKey', { nullable: true }),
    language: t.expose('language', { type: Language }),
    scheduledAt: t.expose('scheduledAt', { type: 'DateTime' }),
    status: t.expose('status', { type: ReminderStatus }),
    renderedMessage: t.exposeString('renderedMessage', { nullable: true }),
    automatic: t.exposeBoolean('automatic'),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
    blockedRule: t.exposeString('blockedRule', { nullable: true, description: 'The contact-policy rule that refused it.' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const ContactAttemptRef = builder.prismaNode('ContactAttempt', {
  nullable: true,
  id: { field: 'id' },
  description: 'What happened on a channel: a call, a message, with its outcome. Refused attempts are kept as BLOCKED.',
  select: { id: true, agencyId: true },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.ContactAttempt(ctx.viewer)] }),
  fields: (t) => ({
    channel: t.expose('channel', { type: ContactChannel }),
    contactPoint: t.relation('contactPoint', { nullable: true }),
    direction: t.expose('direction', { type: ContactDirection }),
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime', description: 'When it happened (the same as occurredAt).' }),
    occurredAt: t.expose('attemptedAt', { type: 'DateTime', description: 'When it happened: the device time of a step recorded offline.' }),
    recordedAt: t.field({
      type: 'DateTime',
      description: 'When the server recorded it (later than occurredAt for a step recorded offline).',
      select: { recordedAt: true, createdAt: true },
      resolve: (a) => a.recordedAt ?? a.createdAt,
    }),
    status: t.expose('status', { type: ContactAttemptStatus }),
    outcome: t.expose('outcome', { type: ContactOutcome, nullable: true }),
    connected: t.exposeBoolean('connected', { description: 'A conversation with the debtor took place.' }),
    rule: t.exposeString('rule', { nullable: true }),
    violation: t.exposeBoolean('violation', { description: 'Recorded although the contact policy would have refused it.' }),
    notes: t.exposeString('notes'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
