import { builder } from '../../builder.ts';
import { Jurisdiction } from '../common/enums.ts';
import { getContactPolicy } from './service.ts';

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

builder.prismaNode('ContactPolicy', {
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
