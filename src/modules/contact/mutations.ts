import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import { DomainError, type UserError } from '../../lib/errors.ts';
import type { Case as CaseShape, ContactAttempt as AttemptShape, Reminder as ReminderShape } from '../../generated/prisma/client.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { ContactChannel, ContactDirection, ContactOutcome } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { ContactAttemptRef, ReminderRef } from './schema.ts';
import { RULE_ERROR, cancelReminder, contactPermission, logContactAttempt, scheduleReminder } from './service.ts';
import type { PolicyDecision } from '../policy/engine.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const CONTACTERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

// ---------------------------------------------------------------- may I dial?

const ContactPermissionRef = builder.objectRef<PolicyDecision>('ContactPermission').implement({
  description: 'The contact policy’s answer for a contact at an instant: allowed, or the rule that refuses and when it would be allowed.',
  fields: (t) => ({
    allowed: t.boolean({ resolve: (d) => d.allowed }),
    rule: t.string({ nullable: true, description: 'The refusing rule, e.g. CONTACT_HOURS.', resolve: (d) => (d.allowed ? null : d.rule) }),
    code: t.string({ nullable: true, description: 'The user error a contact now would get.', resolve: (d) => (d.allowed ? null : RULE_ERROR[d.rule]) }),
    message: t.string({ nullable: true, resolve: (d) => (d.allowed ? null : d.message) }),
    nextAllowedAt: t.field({ type: 'DateTime', nullable: true, description: 'Null: not by waiting (do-not-contact, cease, an open hold).', resolve: (d) => (d.allowed ? null : d.nextAllowedAt) }),
  }),
});

builder.queryField('contactPermission', (t) =>
  t.field({
    type: ContactPermissionRef,
    description: 'Check before dialling: would this contact be lawful now (or at `at`)?',
    authScopes: { authenticated: true },
    args: {
      caseId: t.arg.globalID({ for: [CaseRef] }),
      channel: t.arg({ type: ContactChannel }),
      contactPointId: t.arg.globalID(),
      at: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (_r, args, ctx) => {
      try {
        return await contactPermission(ctx, actorOf(ctx), { caseId: args.caseId.id, channel: args.channel, contactPointId: args.contactPointId.id, at: args.at ?? null });
      } catch (err) {
        // A query has no userErrors: a bad case or contact point reads as "not found", never a hint.
        if (err instanceof DomainError) throw new (await import('graphql')).GraphQLError(err.message, { extensions: { code: err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'BAD_USER_INPUT', field: err.field } });
        throw err;
      }
    },
  }),
);

// ---------------------------------------------------------------- contact attempts

const LogContactAttemptInput = builder.inputType('LogContactAttemptInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    contactPointId: t.globalID({ required: false, description: 'Required but for letters.' }),
    channel: t.field({ type: ContactChannel }),
    direction: t.field({ type: ContactDirection, required: false, description: 'Default OUTBOUND.' }),
    occurredAt: t.field({
      type: 'DateTime',
      required: false,
      description: 'When it happened, by the device (a field app offline): default now; at most 72 hours back, at most 5 minutes ahead. The contact policy is judged at this time; the server keeps its own time of recording (recordedAt).',
    }),
    attemptedAt: t.field({ type: 'DateTime', required: false, deprecationReason: 'Use occurredAt (the same, at most 72 hours back).' }),
    outcome: t.field({ type: ContactOutcome }),
    notes: t.string({ required: false }),
    recordingEvidenceId: t.globalID({ required: false, description: 'The call recording, kept as evidence.' }),
  }),
});

type AttemptResult = { attempt?: AttemptShape | null; case?: CaseShape | null; violation?: PolicyDecision | null; userErrors: UserError[] };
const LogContactAttemptPayload = builder.objectRef<AttemptResult>('LogContactAttemptPayload').implement({
  fields: (t) => ({
    contactAttempt: t.field({ type: ContactAttemptRef, nullable: true, resolve: (p) => p.attempt ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    policyViolation: t.field({
      type: ContactPermissionRef,
      nullable: true,
      description: 'Set when the attempt broke the contact policy: it is recorded, flagged, and in the audit log.',
      resolve: (p) => (p.violation && !p.violation.allowed ? p.violation : null),
    }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

// ---------------------------------------------------------------- reminders

const ScheduleReminderInput = builder.inputType('ScheduleReminderInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    contactPointId: t.globalID(),
    channel: t.field({ type: ContactChannel }),
    templateKey: t.string(),
    scheduledAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string({ description: 'One key sends at most once.' }),
  }),
});
const CancelReminderInput = builder.inputType('CancelReminderInput', {
  fields: (t) => ({ reminderId: t.globalID({ for: [ReminderRef] }), reason: t.string({ required: false }) }),
});

type ReminderResult = { reminder?: ReminderShape | null; case?: CaseShape | null; userErrors: UserError[] };
function reminderPayload(name: string) {
  return builder.objectRef<ReminderResult>(name).implement({
    fields: (t) => ({
      reminder: t.field({ type: ReminderRef, nullable: true, resolve: (p) => p.reminder ?? null }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

builder.mutationFields((t) => ({
  logContactAttempt: t.field({
    type: LogContactAttemptPayload,
    description: 'Records what a person did on a channel. An attempt the policy would have refused is kept, flagged, and audited.',
    authScopes: { role: CONTACTERS },
    args: { input: t.arg({ type: LogContactAttemptInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        logContactAttempt(ctx, actorOf(ctx), {
          ...input,
          caseId: input.caseId.id,
          contactPointId: input.contactPointId?.id ?? null,
          recordingEvidenceId: input.recordingEvidenceId?.id ?? null,
        }),
      ),
  }),
  scheduleReminder: t.field({
    type: reminderPayload('ScheduleReminderPayload'),
    description: 'Puts a message in the outbox. A reminder the policy refuses is recorded as BLOCKED and the refusal returned.',
    authScopes: { role: CONTACTERS },
    args: { input: t.arg({ type: ScheduleReminderInput }) },
    resolve: async (_r, { input }, ctx) => {
      const out = await withUserErrors(() =>
        scheduleReminder(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id, contactPointId: input.contactPointId.id }),
      );
      // A blocked reminder is kept (it is the record of the refusal) and the caller gets the typed error.
      if (out.refusal && !out.refusal.allowed) {
        return { ...out, userErrors: [{ code: RULE_ERROR[out.refusal.rule], field: ['scheduledAt'], message: out.refusal.message }] };
      }
      return out;
    },
  }),
  cancelReminder: t.field({
    type: reminderPayload('CancelReminderPayload'),
    authScopes: { role: CONTACTERS },
    args: { input: t.arg({ type: CancelReminderInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => cancelReminder(ctx, actorOf(ctx), { reminderId: input.reminderId.id, reason: input.reason ?? null })),
  }),
}));
