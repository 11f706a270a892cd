import { builder } from '../../builder.ts';
import { agencyEra, inAgencyEra, viaCase, visibleRecords } from '../../auth/scopes.ts';
import { ContactAttemptRef } from '../contact/schema.ts';
import { VisitRef } from '../visits/schema.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef } from '../common/schema.ts';
import { AllocationTarget, InstalmentStatus, PaymentChannel, PlanFrequency, PlanKind, PlanStatus, PromiseStatus } from '../common/enums.ts';

export const PromiseRef = builder.prismaNode('PromiseToPay', {
  nullable: true,
  id: { field: 'id' },
  description: 'An amount the debtor promised to pay by a date.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.PromiseToPay(ctx.viewer)] }),
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.currency) }),
    paid: t.field({ type: MoneyRef, resolve: (p) => money(p.paidAmount, p.currency) }),
    promisedFor: t.expose('promisedFor', { type: 'Date' }),
    status: t.expose('status', { type: PromiseStatus }),
    contactAttempt: t.field({
      type: ContactAttemptRef,
      nullable: true,
      select: (_a, _c, nested) => ({ contactAttempt: nested(true) }),
      resolve: (p, _a, ctx) => inAgencyEra(ctx.viewer, p.contactAttempt),
    }),
    visit: t.field({
      type: VisitRef,
      nullable: true,
      select: (_a, _c, nested) => ({ visit: nested(true) }),
      resolve: (p, _a, ctx) => inAgencyEra(ctx.viewer, p.visit),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
  }),
});

export const RepaymentPlanRef = builder.prismaNode('RepaymentPlan', {
  nullable: true,
  id: { field: 'id' },
  description: 'Instalments, a deferral or a settlement: proposed by a collector, approved by the bank.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.RepaymentPlan(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: PlanKind }),
    status: t.expose('status', { type: PlanStatus }),
    total: t.field({ type: MoneyRef, description: 'What the plan collects.', resolve: (p) => money(p.totalAmount, p.currency) }),
    discount: t.field({ type: MoneyRef, description: 'Forgiven by a settlement.', resolve: (p) => money(p.discountAmount, p.currency) }),
    paid: t.field({ type: MoneyRef, resolve: (p) => money(p.paidAmount, p.currency) }),
    instalmentCount: t.exposeInt('instalmentCount'),
    frequency: t.expose('frequency', { type: PlanFrequency, nullable: true }),
    firstDueDate: t.expose('firstDueDate', { type: 'Date' }),
    proposedAt: t.expose('proposedAt', { type: 'DateTime' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    decisionNote: t.exposeString('decisionNote', { nullable: true }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    brokenAt: t.expose('brokenAt', { type: 'DateTime', nullable: true }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    cancelReason: t.exposeString('cancelReason', { nullable: true }),
    // At most 60 (the five-year limit), so a list, not a connection.
    instalments: t.relation('instalments', { query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: { seq: 'asc' } }) }),
  }),
});

export const InstalmentRef = builder.prismaNode('Instalment', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Instalment(ctx.viewer)] }),
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    dueDate: t.expose('dueDate', { type: 'Date' }),
    amount: t.field({ type: MoneyRef, select: { plan: { select: { currency: true } } }, resolve: (i) => money(i.amount, i.plan.currency) }),
    paid: t.field({ type: MoneyRef, select: { plan: { select: { currency: true } } }, resolve: (i) => money(i.paidAmount, i.plan.currency) }),
    status: t.expose('status', { type: InstalmentStatus }),
    paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
  }),
});

export const PaymentRef = builder.prismaNode('Payment', {
  nullable: true,
  id: { field: 'id' },
  description: 'Money received: idempotent by key, applied first in first out.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Payment(ctx.viewer)] }),
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.currency) }),
    credit: t.field({ type: MoneyRef, description: 'Left over after every debt: kept as a credit.', resolve: (p) => money(p.creditAmount, p.currency) }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    channel: t.expose('channel', { type: PaymentChannel }),
    externalReference: t.exposeString('externalReference', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey'),
    allocations: t.relation('allocations', {
      description: "The payment's own lines (a reversal's negative lines are under `reversal`).",
      query: (_a, ctx) => ({ where: { AND: [{ reversalId: null }, agencyEra(ctx.viewer)] }, orderBy: { id: 'asc' } }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    // A reversal made while another agency held the case is of that agency's era: not there for this one.
    reversal: t.field({
      type: PaymentReversalRef,
      nullable: true,
      description: 'Set when the payment was reversed: it then counts for nothing.',
      select: (_a, _c, nested) => ({ reversal: nested(true) }),
      resolve: (p, _a, ctx) => inAgencyEra(ctx.viewer, p.reversal),
    }),
  }),
});

export const PaymentReversalRef = builder.prismaObject('PaymentReversal', {
  description: 'Undoes a wrong payment exactly, with a negative line for each of its lines. Append-only.',
  fields: (t) => ({
    id: t.exposeID('id'),
    amount: t.field({ type: MoneyRef, resolve: (r) => money(r.amount, r.currency) }),
    reason: t.exposeString('reason'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lines: t.relation('lines', { query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: { id: 'asc' } }) }),
  }),
});

builder.prismaObject('PaymentAllocation', {
  fields: (t) => ({
    target: t.expose('target', { type: AllocationTarget }),
    amount: t.field({ type: MoneyRef, select: { payment: { select: { currency: true } } }, resolve: (a) => money(a.amount, a.payment.currency) }),
    // A line of this era may pay an older promise or instalment of another agency's era: the
    // amount shows, the record it paid does not (null).
    promise: t.field({
      type: PromiseRef,
      nullable: true,
      select: (_a, _c, nested) => ({ promise: nested(true) }),
      resolve: (a, _a, ctx) => inAgencyEra(ctx.viewer, a.promise),
    }),
    instalment: t.field({
      type: InstalmentRef,
      nullable: true,
      select: (_a, _c, nested) => ({ instalment: nested(true) }),
      resolve: (a, _a, ctx) => inAgencyEra(ctx.viewer, a.instalment),
    }),
  }),
});
