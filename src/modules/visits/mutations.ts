import { idempotencyKeyOf, once, requestHash } from '../../lib/idempotency.ts';
import { caseVisibility } from '../../auth/scopes.ts';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Case as CaseShape, Visit as VisitShape } from '../../generated/prisma/client.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { CloseReason, DelinquencyReason, PlanKind, VisitDecision, VisitMaterial, VisitOutcome } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { UserRef } from '../agencies/schema.ts';
import { ContactAttemptRef } from '../contact/schema.ts';
import { VisitRef } from './schema.ts';
import * as service from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const FIELD: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];
const DECIDERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR'];

type VisitResult = { visit?: VisitShape | null; case?: CaseShape | null; userErrors: UserError[] };
function visitPayload(name: string) {
  return builder.objectRef<VisitResult>(name).implement({
    fields: (t) => ({
      visit: t.field({ type: VisitRef, nullable: true, resolve: (p) => p.visit ?? null }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}


const PlanVisitInput = builder.inputType('PlanVisitInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    addressId: t.globalID({ description: "One of the debtor's addresses." }),
    purpose: t.string(),
    expectedVersion: t.int({ required: false, description: "The case's version as last read." }),
    idempotencyKey: t.string({ required: false, description: 'Optional: the same key plans the visit once, however often it is sent.' }),
  }),
});
const RecordVisitConsentInput = builder.inputType('RecordVisitConsentInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    contactAttemptId: t.globalID({ for: [ContactAttemptRef], description: 'The contact attempt whose outcome was VISIT_CONSENT_GIVEN.' }),
    windowStart: t.field({ type: 'DateTime' }),
    windowEnd: t.field({ type: 'DateTime' }),
    expectedVersion: t.int({ required: false, description: "The visit's version as last read." }),
  }),
});
const ScheduleVisitInput = builder.inputType('ScheduleVisitInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    collectorIds: t.globalIDList({ for: [UserRef], description: 'At least two, each with a valid work credential.' }),
    windowStart: t.field({ type: 'DateTime' }),
    windowEnd: t.field({ type: 'DateTime' }),
    materials: t.field({ type: [VisitMaterial], required: false, description: 'Default: overdue statement, repayment agreement, notice letter.' }),
    expectedVersion: t.int({ required: false, description: "The visit's version as last read." }),
  }),
});
const CredentialShownInput = builder.inputType('CredentialShownInput', {
  fields: (t) => ({ userId: t.globalID({ for: [UserRef] }), credentialNumber: t.string() }),
});
const CheckInVisitInput = builder.inputType('CheckInVisitInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    credentialsShown: t.field({ type: [CredentialShownInput] }),
    occurredAt: t.field({
      type: 'DateTime',
      required: false,
      description: 'When it happened, by the field device (recorded offline): default now; at most 72 hours back. Every rule is judged at this time.',
    }),
    expectedVersion: t.int({ required: false, description: "The visit's version as last read." }),
  }),
});
const CompleteVisitInput = builder.inputType('CompleteVisitInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    outcome: t.field({ type: VisitOutcome, description: 'CONSENT_WITHDRAWN ends the visit at once.' }),
    delinquencyReason: t.field({ type: DelinquencyReason, required: false }),
    delinquencyReasonText: t.string({ required: false }),
    consequencesExplained: t.boolean({ required: false }),
    plansOffered: t.field({ type: [PlanKind], required: false }),
    occurredAt: t.field({
      type: 'DateTime',
      required: false,
      description: 'When it happened, by the field device (recorded offline): default now; at most 72 hours back. Every rule is judged at this time.',
    }),
    expectedVersion: t.int({ required: false, description: "The visit's version as last read." }),
  }),
});
const ReportVisitInput = builder.inputType('ReportVisitInput', {
  fields: (t) => ({ visitId: t.globalID({ for: [VisitRef] }), report: t.string(), expectedVersion: t.int({ required: false }) }),
});
const DecideVisitInput = builder.inputType('DecideVisitInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    decision: t.field({ type: VisitDecision }),
    graceUntil: t.field({ type: 'Date', required: false, description: 'GRACE_PERIOD: no contact until this date.' }),
    closeReason: t.field({ type: CloseReason, required: false, description: 'CLOSE: why.' }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false, description: "The visit's version as last read." }),
  }),
});
const CancelVisitInput = builder.inputType('CancelVisitInput', {
  fields: (t) => ({ visitId: t.globalID({ for: [VisitRef] }), reason: t.string(), expectedVersion: t.int({ required: false }) }),
});

builder.mutationFields((t) => ({
  planVisit: t.field({
    type: visitPayload('PlanVisitPayload'),
    description: 'Step 1: the dossier, compiled from the case.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: PlanVisitInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => {
        const actor = actorOf(ctx);
        const plan = { caseId: input.caseId.id, addressId: input.addressId.id, purpose: input.purpose, expectedVersion: input.expectedVersion ?? null };
        if (input.idempotencyKey == null) return service.planVisit(ctx, actor, plan);
        const key = idempotencyKeyOf(input.idempotencyKey);
        const hash = requestHash([plan.caseId, plan.addressId, plan.purpose.trim()]);
        return once({
          what: 'another visit',
          hash,
          find: () => ctx.prisma.visit.findUnique({ where: { idempotencyKey: key } }),
          visible: async (v) => (await ctx.prisma.case.count({ where: { id: v.caseId, ...caseVisibility(ctx.viewer) } })) > 0,
          replay: async (visit) => ({ visit, case: await ctx.prisma.case.findUniqueOrThrow({ where: { id: visit.caseId } }) }),
          write: () => service.planVisit(ctx, actor, plan, { key, hash }),
        });
      }),
  }),
  recordVisitConsent: t.field({
    type: visitPayload('RecordVisitConsentPayload'),
    description: "The debtor's consent, obtained through a contact attempt: no visit is scheduled without it.",
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: RecordVisitConsentInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.recordVisitConsent(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id, contactAttemptId: input.contactAttemptId.id })),
  }),
  scheduleVisit: t.field({
    type: visitPayload('ScheduleVisitPayload'),
    description: 'Step 2: two or more collectors with valid credentials, a window inside consent and contact hours, the materials.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: ScheduleVisitInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.scheduleVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id, collectorIds: input.collectorIds.map((c) => c.id) })),
  }),
  checkInVisit: t.field({
    type: visitPayload('CheckInVisitPayload'),
    description: 'Step 3: on site, inside the window; each credential shown is recorded and checked again.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: CheckInVisitInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        service.checkInVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id, credentialsShown: input.credentialsShown.map((c) => ({ userId: c.userId.id, credentialNumber: c.credentialNumber })) }),
      ),
  }),
  completeVisit: t.field({
    type: visitPayload('CompleteVisitPayload'),
    description: 'Step 4: the reason for the delinquency, the consequences explained, the plans offered, the outcome.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: CompleteVisitInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.completeVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id })),
  }),
  reportVisit: t.field({
    type: visitPayload('ReportVisitPayload'),
    description: "Step 5: the collector's report, with the visit's evidence.",
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: ReportVisitInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.reportVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id })),
  }),
  decideVisit: t.field({
    type: visitPayload('DecideVisitPayload'),
    description: "The bank's decision: continue, a grace period, legal, or close.",
    authScopes: { role: DECIDERS },
    args: { input: t.arg({ type: DecideVisitInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.decideVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id })),
  }),
  cancelVisit: t.field({
    type: visitPayload('CancelVisitPayload'),
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: CancelVisitInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.cancelVisit(ctx, actorOf(ctx), { ...input, visitId: input.visitId.id })),
  }),
}));
