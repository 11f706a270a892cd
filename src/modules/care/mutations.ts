import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { ContactChannel } from '../common/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Case as CaseShape } from '../../generated/prisma/client.ts';
import { CaseRef, ContactPointRef, DebtorRef } from '../cases/schema.ts';
import { UserRef } from '../agencies/schema.ts';
import { CLEARERS, clearCeaseContact, clearDoNotContact, setCeaseContact, setContactPreferences, setDoNotContact, type CareDeps } from './optouts.ts';
import { COMPLAINT_HANDLERS, decideComplaint, recordComplaint, startComplaintInvestigation } from './complaints.ts';
import { DISPUTE_RESOLVERS, openDispute, resolveDispute } from './disputes.ts';
import { ComplaintAgainst, ComplaintCategory, ComplaintChannel, ComplaintRef, ContactOptOutRef, DisputeOutcome, DisputeReason, DisputeRef, OptOutSource } from './schema.ts';
import { CurrencyCode } from '../common/schema.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const depsOf = (ctx: Context): CareDeps => ({ prisma: ctx.prisma, clock: ctx.clock, events: ctx.events });
// Every role but the auditor records what a debtor asks for, on debtors and cases it sees.
const WRITERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

// ---------------------------------------------------------------- opt-outs and preferences

const SetDoNotContactInput = builder.inputType('SetDoNotContactInput', {
  fields: (t) => ({
    contactPointId: t.globalID({ for: [ContactPointRef] }),
    channel: t.field({ type: ContactChannel, required: false, description: 'One channel of the contact point; default every channel.' }),
    reason: t.string({ description: 'What the debtor asked, in their words where possible.' }),
    source: t.field({ type: OptOutSource }),
  }),
});
const ClearDoNotContactInput = builder.inputType('ClearDoNotContactInput', {
  fields: (t) => ({
    contactPointId: t.globalID({ for: [ContactPointRef] }),
    channel: t.field({ type: ContactChannel, required: false, description: 'Lift only the opt-out of this channel; default all of them.' }),
    reason: t.string({ description: 'Why contact may resume (the debtor’s renewed consent): kept in the audit log.' }),
  }),
});
const SetCeaseContactInput = builder.inputType('SetCeaseContactInput', {
  fields: (t) => ({ debtorId: t.globalID({ for: [DebtorRef] }), reason: t.string(), source: t.field({ type: OptOutSource }) }),
});
const ClearCeaseContactInput = builder.inputType('ClearCeaseContactInput', {
  fields: (t) => ({ debtorId: t.globalID({ for: [DebtorRef] }), reason: t.string() }),
});
const SetContactPreferencesInput = builder.inputType('SetContactPreferencesInput', {
  fields: (t) => ({
    debtorId: t.globalID({ for: [DebtorRef] }),
    preferredChannel: t.field({ type: ContactChannel, required: false, description: 'Null or absent: no preference.' }),
    preferredHoursStart: t.string({ required: false, description: 'HH:MM in the debtor’s zone, inside the policy’s contact hours; with preferredHoursEnd.' }),
    preferredHoursEnd: t.string({ required: false, description: 'HH:MM' }),
    reason: t.string({ required: false }),
  }),
});

type OptOutShape = { optOut?: object | null; contactPoint?: object | null; debtor?: object | null; userErrors: UserError[] };
const optOutPayload = (name: string, withOptOut: boolean, subject: 'contactPoint' | 'debtor') =>
  builder.objectRef<OptOutShape>(name).implement({
    fields: (t) => ({
      ...(withOptOut ? { optOut: t.field({ type: ContactOptOutRef, nullable: true, resolve: (p) => (p.optOut ?? null) as never }) } : {}),
      ...(subject === 'contactPoint'
        ? { contactPoint: t.field({ type: ContactPointRef, nullable: true, resolve: (p) => (p.contactPoint ?? null) as never }) }
        : { debtor: t.field({ type: DebtorRef, nullable: true, resolve: (p) => (p.debtor ?? null) as never }) }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  setDoNotContact: t.field({
    type: optOutPayload('SetDoNotContactPayload', true, 'contactPoint'),
    description: 'The debtor asked not to be contacted on this contact point (or one channel of it): in force at once; audited, on the timeline.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: SetDoNotContactInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => setDoNotContact(depsOf(ctx), actorOf(ctx), { contactPointId: input.contactPointId.id, channel: input.channel ?? null, reason: input.reason, source: input.source })),
  }),
  clearDoNotContact: t.field({
    type: optOutPayload('ClearDoNotContactPayload', false, 'contactPoint'),
    description: 'Lifts a do-not-contact (bank supervisors and admins), with a reason; audited with before and after.',
    authScopes: { role: [...CLEARERS] },
    args: { input: t.arg({ type: ClearDoNotContactInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => clearDoNotContact(depsOf(ctx), actorOf(ctx), { contactPointId: input.contactPointId.id, channel: input.channel ?? null, reason: input.reason })),
  }),
  setCeaseContact: t.field({
    type: optOutPayload('SetCeaseContactPayload', true, 'debtor'),
    description: 'The debtor asked for all contact to cease: none of any kind, on any case, from now on.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: SetCeaseContactInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => setCeaseContact(depsOf(ctx), actorOf(ctx), { debtorId: input.debtorId.id, reason: input.reason, source: input.source })),
  }),
  clearCeaseContact: t.field({
    type: optOutPayload('ClearCeaseContactPayload', false, 'debtor'),
    description: 'Lifts a cease-contact (bank supervisors and admins only), with a reason.',
    authScopes: { role: [...CLEARERS] },
    args: { input: t.arg({ type: ClearCeaseContactInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => clearCeaseContact(depsOf(ctx), actorOf(ctx), { debtorId: input.debtorId.id, reason: input.reason })),
  }),
  setContactPreferences: t.field({
    type: optOutPayload('SetContactPreferencesPayload', false, 'debtor'),
    description: 'The channel and hours the debtor prefers (replaces the previous ones); audited with before and after.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: SetContactPreferencesInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        setContactPreferences(depsOf(ctx), actorOf(ctx), {
          debtorId: input.debtorId.id,
          preferredChannel: input.preferredChannel ?? null,
          preferredHoursStart: input.preferredHoursStart ?? null,
          preferredHoursEnd: input.preferredHoursEnd ?? null,
          reason: input.reason ?? null,
        }),
      ),
  }),
}));

// ---------------------------------------------------------------- complaints

const RecordComplaintInput = builder.inputType('RecordComplaintInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    channel: t.field({ type: ComplaintChannel, description: 'How the complaint reached us.' }),
    category: t.field({ type: ComplaintCategory }),
    against: t.field({ type: ComplaintAgainst }),
    collectorId: t.globalID({ for: [UserRef], required: false, description: 'COLLECTOR: who; default the case’s collector.' }),
    description: t.string({ description: 'At most 4000 characters.' }),
    receivedAt: t.field({ type: 'DateTime', required: false, description: 'When it reached us (within 90 days); default now. The deadlines count from it.' }),
  }),
});
const StartComplaintInvestigationInput = builder.inputType('StartComplaintInvestigationInput', {
  fields: (t) => ({ complaintId: t.globalID({ for: [ComplaintRef] }), response: t.string({ description: 'The first response given to the complainant.' }) }),
});
const DecideComplaintInput = builder.inputType('DecideComplaintInput', {
  fields: (t) => ({ complaintId: t.globalID({ for: [ComplaintRef] }), upheld: t.boolean(), findings: t.string() }),
});

type WithCase<K extends string> = { case?: CaseShape | null; userErrors: UserError[] } & { [P in K]?: object | null };
function withCase<K extends string>(name: string, key: K, ref: typeof ComplaintRef | typeof DisputeRef) {
  return builder.objectRef<WithCase<K>>(name).implement({
    fields: (t) => ({
      [key]: t.field({ type: ref as typeof ComplaintRef, nullable: true, resolve: (p: WithCase<K>) => (p[key] ?? null) as never }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

builder.mutationFields((t) => ({
  recordComplaint: t.field({
    type: withCase('RecordComplaintPayload', 'complaint', ComplaintRef),
    description: 'Records a complaint against the agency, a collector or the bank; its deadlines come from the contact policy of the debtor’s jurisdiction.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordComplaintInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        recordComplaint(depsOf(ctx), actorOf(ctx), {
          caseId: input.caseId.id,
          channel: input.channel,
          category: input.category,
          against: input.against,
          collectorId: input.collectorId?.id ?? null,
          description: input.description,
          receivedAt: input.receivedAt ?? null,
        }),
      ),
  }),
  startComplaintInvestigation: t.field({
    type: withCase('StartComplaintInvestigationPayload', 'complaint', ComplaintRef),
    description: 'OPEN → INVESTIGATING, with the first response (bank supervisors and admins).',
    authScopes: { role: [...COMPLAINT_HANDLERS] },
    args: { input: t.arg({ type: StartComplaintInvestigationInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => startComplaintInvestigation(depsOf(ctx), actorOf(ctx), { complaintId: input.complaintId.id, response: input.response })),
  }),
  decideComplaint: t.field({
    type: withCase('DecideComplaintPayload', 'complaint', ComplaintRef),
    description: 'INVESTIGATING → UPHELD or NOT_UPHELD, with the findings (bank supervisors and admins).',
    authScopes: { role: [...COMPLAINT_HANDLERS] },
    args: { input: t.arg({ type: DecideComplaintInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => decideComplaint(depsOf(ctx), actorOf(ctx), { complaintId: input.complaintId.id, upheld: input.upheld, findings: input.findings })),
  }),
}));

// ---------------------------------------------------------------- disputes

const OpenDisputeInput = builder.inputType('OpenDisputeInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    reason: t.field({ type: DisputeReason }),
    description: t.string(),
    amountDisputed: t.field({ type: 'SafeInt', required: false, description: 'Minor units; default all of the debt.' }),
    currency: t.field({ type: CurrencyCode, required: false }),
    inWriting: t.boolean({ required: false, description: 'Received in writing: for a US debtor, collection stops until the bank records its verification.' }),
    expectedVersion: t.int({ required: false }),
  }),
});
const ResolveDisputeInput = builder.inputType('ResolveDisputeInput', {
  fields: (t) => ({
    disputeId: t.globalID({ for: [DisputeRef] }),
    outcome: t.field({ type: DisputeOutcome }),
    adjustment: t.field({ type: 'SafeInt', required: false, description: 'ADJUSTED: minor units taken off the debt (fees, then interest, then principal).' }),
    note: t.string(),
    expectedVersion: t.int({ required: false }),
  }),
});

builder.mutationFields((t) => ({
  openDispute: t.field({
    type: withCase('OpenDisputePayload', 'dispute', DisputeRef),
    description: 'Records a dispute of the debt or its amount: the case is held (no contact, no visit) until resolveDispute. Documents: uploadEvidence with disputeId.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: OpenDisputeInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        openDispute(depsOf(ctx), actorOf(ctx), {
          caseId: input.caseId.id,
          reason: input.reason,
          description: input.description,
          amountDisputed: input.amountDisputed ?? null,
          currency: input.currency ?? null,
          inWriting: input.inWriting ?? null,
          expectedVersion: input.expectedVersion ?? null,
        }),
      ),
  }),
  resolveDispute: t.field({
    type: withCase('ResolveDisputePayload', 'dispute', DisputeRef),
    description: 'The bank resolves a dispute (supervisors and admins): the hold is released; ADJUSTED reduces the debt. Audited with the amounts before and after.',
    authScopes: { role: [...DISPUTE_RESOLVERS] },
    args: { input: t.arg({ type: ResolveDisputeInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        resolveDispute(depsOf(ctx), actorOf(ctx), {
          disputeId: input.disputeId.id,
          outcome: input.outcome,
          adjustment: input.adjustment ?? null,
          note: input.note,
          expectedVersion: input.expectedVersion ?? null,
        }),
      ),
  }),
}));

