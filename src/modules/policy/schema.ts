import { builder } from '../../builder.ts';
import { Jurisdiction } from '../common/enums.ts';
import { getContactPolicy, updateContactPolicy } from './service.ts';
import { mutationPayload, withUserErrors } from '../common/schema.ts';

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const ContactPolicyRef = builder.prismaNode('ContactPolicy', {
  nullable: true,
  id: { field: 'id' },
  description: 'The contact policy of one jurisdiction: data that bank admins change, every change audited.',
  fields: (t) => ({
    jurisdiction: t.expose('jurisdiction', { type: Jurisdiction }),
    contactHoursStart: t.string({ description: "Local time in the debtor's zone, HH:MM.", resolve: (p) => hhmm(p.contactHoursStart) }),
    contactHoursEnd: t.string({ description: "Local time in the debtor's zone, HH:MM.", resolve: (p) => hhmm(p.contactHoursEnd) }),
    maxConnectedCallsPerDay: t.exposeInt('maxConnectedCallsPerDay', { nullable: true }),
    maxAttemptsPerNumberPerDay: t.exposeInt('maxAttemptsPerNumberPerDay', { nullable: true }),
    maxCallAttemptsPer7Days: t.exposeInt('maxCallAttemptsPer7Days', { nullable: true }),
    quietDaysAfterConversation: t.exposeInt('quietDaysAfterConversation', { nullable: true }),
    optOutLineRequired: t.exposeBoolean('optOutLineRequired'),
    promiseGraceDays: t.exposeInt('promiseGraceDays'),
    instalmentGraceDays: t.exposeInt('instalmentGraceDays'),
    maxPromiseDays: t.exposeInt('maxPromiseDays'),
    maxDeferralDays: t.exposeInt('maxDeferralDays'),
    settlementDiscountThresholdBps: t.exposeInt('settlementDiscountThresholdBps'),
    complaintResponseDays: t.exposeInt('complaintResponseDays', { description: 'Days to answer a complaint.' }),
    complaintResolutionDays: t.exposeInt('complaintResolutionDays', { description: 'Days to close a complaint (upheld or not).' }),
    retentionYears: t.exposeInt('retentionYears'),
    version: t.exposeInt('version'),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('contactPolicy', (t) =>
  t.prismaField({
    type: 'ContactPolicy',
    description: 'The contact policy in force for a jurisdiction (default CN).',
    args: { jurisdiction: t.arg({ type: Jurisdiction, defaultValue: 'CN' }) },
    resolve: (query, _root, args, ctx) => getContactPolicy(ctx.prisma, args.jurisdiction, query),
  }),
);

const UpdateContactPolicyInput = builder.inputType('UpdateContactPolicyInput', {
  fields: (t) => ({
    jurisdiction: t.field({ type: Jurisdiction }),
    reason: t.string({ description: 'Why: kept in the audit log with the figures before and after.' }),
    expectedVersion: t.int({ required: false }),
    contactHoursStart: t.string({ required: false, description: 'HH:MM' }),
    contactHoursEnd: t.string({ required: false, description: 'HH:MM' }),
    maxConnectedCallsPerDay: t.int({ required: false }),
    maxAttemptsPerNumberPerDay: t.int({ required: false }),
    maxCallAttemptsPer7Days: t.int({ required: false }),
    quietDaysAfterConversation: t.int({ required: false }),
    optOutLineRequired: t.boolean({ required: false }),
    promiseGraceDays: t.int({ required: false }),
    instalmentGraceDays: t.int({ required: false }),
    maxPromiseDays: t.int({ required: false }),
    maxDeferralDays: t.int({ required: false }),
    settlementDiscountThresholdBps: t.int({ required: false }),
    complaintResponseDays: t.int({ required: false }),
    complaintResolutionDays: t.int({ required: false }),
    retentionYears: t.int({ required: false }),
    disable: t.stringList({ required: false, description: 'Figures to turn off: maxConnectedCallsPerDay, maxAttemptsPerNumberPerDay, maxCallAttemptsPer7Days, quietDaysAfterConversation.' }),
  }),
});

builder.mutationField('updateContactPolicy', (t) =>
  t.field({
    type: mutationPayload('UpdateContactPolicyPayload', 'contactPolicy', ContactPolicyRef),
    description: 'Changes the figures of a jurisdiction’s contact policy (bank admin); audited.',
    authScopes: { role: ['BANK_ADMIN'] },
    args: { input: t.arg({ type: UpdateContactPolicyInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(async () => {
        const { policy } = await updateContactPolicy(ctx, { viewer: ctx.viewer, requestId: ctx.requestId }, input);
        return { contactPolicy: policy };
      }),
  }),
);
