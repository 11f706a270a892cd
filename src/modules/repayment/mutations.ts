import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import { CurrencyCode, withUserErrors, UserErrorRef } from '../common/schema.ts';
import { PaymentChannel, PlanFrequency, PlanKind } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { ContactAttemptRef } from '../contact/schema.ts';
import { VisitRef } from '../visits/schema.ts';
import { PaymentRef, PaymentReversalRef, PromiseRef, RepaymentPlanRef } from './schema.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Case as CaseShape, Payment as PaymentShape, PaymentReversal as PaymentReversalShape } from '../../generated/prisma/client.ts';
import * as service from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const WRITERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];
const DECIDERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR'];
// DOMAIN.md: bank collectors record payments; agencies do not.
const PAYMENT_RECORDERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR'];

const RecordPromiseToPayInput = builder.inputType('RecordPromiseToPayInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    amount: t.field({ type: 'SafeInt', description: 'Minor units.' }),
    currency: t.field({ type: CurrencyCode }),
    promisedFor: t.field({ type: 'Date' }),
    contactAttemptId: t.globalID({ for: [ContactAttemptRef], required: false, description: 'The call in which it was promised.' }),
    visitId: t.globalID({ for: [VisitRef], required: false, description: 'The visit in which it was promised.' }),
    expectedVersion: t.int({ required: false }),
    idempotencyKey: t.string({ required: false, description: 'Optional: the same key records the promise once, however often it is sent.' }),
  }),
});

const ProposeRepaymentPlanInput = builder.inputType('ProposeRepaymentPlanInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    kind: t.field({ type: PlanKind }),
    currency: t.field({ type: CurrencyCode }),
    totalAmount: t.field({ type: 'SafeInt', required: false, description: 'Default: the whole overdue amount. A settlement: the reduced lump sum.' }),
    instalmentCount: t.int({ required: false, description: 'Instalments only: 2 or more, within 60 months.' }),
    frequency: t.field({ type: PlanFrequency, required: false }),
    firstDueDate: t.field({ type: 'Date' }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});

const ApproveRepaymentPlanInput = builder.inputType('ApproveRepaymentPlanInput', {
  fields: (t) => ({ planId: t.globalID({ for: [RepaymentPlanRef] }), note: t.string({ required: false }), expectedVersion: t.int({ required: false }) }),
});
const RejectRepaymentPlanInput = builder.inputType('RejectRepaymentPlanInput', {
  fields: (t) => ({ planId: t.globalID({ for: [RepaymentPlanRef] }), reason: t.string(), expectedVersion: t.int({ required: false }) }),
});
const CancelRepaymentPlanInput = builder.inputType('CancelRepaymentPlanInput', {
  fields: (t) => ({ planId: t.globalID({ for: [RepaymentPlanRef] }), reason: t.string(), expectedVersion: t.int({ required: false }) }),
});

const RecordPaymentInput = builder.inputType('RecordPaymentInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    amount: t.field({ type: 'SafeInt', description: 'Minor units.' }),
    currency: t.field({ type: CurrencyCode }),
    receivedAt: t.field({ type: 'DateTime' }),
    channel: t.field({ type: PaymentChannel }),
    externalReference: t.string({ required: false }),
    idempotencyKey: t.string({ description: 'The same key records the payment once, however often it is sent.' }),
  }),
});

const ReversePaymentInput = builder.inputType('ReversePaymentInput', {
  fields: (t) => ({
    paymentId: t.globalID({ for: [PaymentRef] }),
    reason: t.string({ description: 'Why the payment was wrong (a bounced transfer, the wrong case).' }),
    expectedVersion: t.int({ description: "The case's version as last read." }),
  }),
});

function withCase<K extends string, T extends object>(name: string, key: K, ref: import('@pothos/core').ObjectRef<any, T>) {
  type Shape = { case?: CaseShape | null; userErrors: UserError[] } & { [P in K]?: T | null };
  return builder.objectRef<Shape>(name).implement({
    fields: (t) => ({
      [key]: t.field({ type: ref, nullable: true, resolve: (p: Shape) => (p[key] ?? null) as never }),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p: Shape) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p: Shape) => p.userErrors }),
    }),
  });
}

const RecordPromiseToPayPayload = withCase('RecordPromiseToPayPayload', 'promise', PromiseRef);
const ProposeRepaymentPlanPayload = withCase('ProposeRepaymentPlanPayload', 'plan', RepaymentPlanRef);
const ApproveRepaymentPlanPayload = withCase('ApproveRepaymentPlanPayload', 'plan', RepaymentPlanRef);
const RejectRepaymentPlanPayload = withCase('RejectRepaymentPlanPayload', 'plan', RepaymentPlanRef);
const CancelRepaymentPlanPayload = withCase('CancelRepaymentPlanPayload', 'plan', RepaymentPlanRef);

type PaymentResult = { payment?: PaymentShape | null; case?: CaseShape | null; replayed?: boolean; userErrors: UserError[] };
const RecordPaymentPayload = builder.objectRef<PaymentResult>('RecordPaymentPayload').implement({
  fields: (t) => ({
    payment: t.field({ type: PaymentRef, nullable: true, resolve: (p) => p.payment ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    replayed: t.boolean({ description: 'True when this key had already recorded the payment: nothing new was written.', resolve: (p) => p.replayed ?? false }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

type ReversalResult = { payment?: PaymentShape | null; reversal?: PaymentReversalShape | null; case?: CaseShape | null; userErrors: UserError[] };
const ReversePaymentPayload = builder.objectRef<ReversalResult>('ReversePaymentPayload').implement({
  fields: (t) => ({
    payment: t.field({ type: PaymentRef, nullable: true, resolve: (p) => p.payment ?? null }),
    reversal: t.field({ type: PaymentReversalRef, nullable: true, resolve: (p) => p.reversal ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  recordPromiseToPay: t.field({
    type: RecordPromiseToPayPayload,
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordPromiseToPayInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        service.recordPromiseToPay(ctx, actorOf(ctx), {
          ...input,
          caseId: input.caseId.id,
          contactAttemptId: input.contactAttemptId?.id ?? null,
          visitId: input.visitId?.id ?? null,
        }),
      ),
  }),
  proposeRepaymentPlan: t.field({
    type: ProposeRepaymentPlanPayload,
    description: 'Instalments (at most 60 months), a deferral or a settlement; a supervisor who did not propose it approves it.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: ProposeRepaymentPlanInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.proposeRepaymentPlan(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  approveRepaymentPlan: t.field({
    type: ApproveRepaymentPlanPayload,
    authScopes: { role: DECIDERS },
    args: { input: t.arg({ type: ApproveRepaymentPlanInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.approveRepaymentPlan(ctx, actorOf(ctx), { ...input, planId: input.planId.id })),
  }),
  rejectRepaymentPlan: t.field({
    type: RejectRepaymentPlanPayload,
    authScopes: { role: DECIDERS },
    args: { input: t.arg({ type: RejectRepaymentPlanInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.rejectRepaymentPlan(ctx, actorOf(ctx), { ...input, planId: input.planId.id })),
  }),
  cancelRepaymentPlan: t.field({
    type: CancelRepaymentPlanPayload,
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: CancelRepaymentPlanInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.cancelRepaymentPlan(ctx, actorOf(ctx), { ...input, planId: input.planId.id })),
  }),
  reversePayment: t.field({
    type: ReversePaymentPayload,
    description:
      'Undoes a wrong payment exactly (never changing it): what it covered is owed again, a case it resolved re-opens. A supervisor may reverse any payment; a collector one within the settlement threshold of what the case owes.',
    authScopes: { role: PAYMENT_RECORDERS },
    args: { input: t.arg({ type: ReversePaymentInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.reversePayment(ctx, actorOf(ctx), { ...input, paymentId: input.paymentId.id })),
  }),
  recordPayment: t.field({
    type: RecordPaymentPayload,
    description: 'Records money received, exactly once per idempotency key.',
    authScopes: { role: PAYMENT_RECORDERS },
    args: { input: t.arg({ type: RecordPaymentInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.recordPayment(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
}));
