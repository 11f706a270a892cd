import { builder } from '../../builder.ts';
import { agencyEra, viaCase } from '../../auth/scopes.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef } from '../common/schema.ts';
import { AllocationTarget, InstalmentStatus, PaymentChannel, PlanFrequency, PlanKind, PlanStatus, PromiseStatus } from '../common/enums.ts';

export const PromiseRef = builder.prismaNode('PromiseToPay', {
  nullable: true,
  id: { field: 'id' },
  description: 'An amount the debtor promised to pay by a date.',
  findUnique: (id, ctx) => ({ id, AND: [viaCase(ctx.viewer), agencyEra(ctx.viewer)] }),
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.currency) }),
    paid: t.field({ type: MoneyRef, resolve: (p) => money(p.paidAmount, p.currency) }),
    promisedFor: t.expose('promisedFor', { type: 'Date' }),
    status: t.expose('status', { type: PromiseStatus }),
    contactAttempt: t.relation('contactAttempt', { nullable: true }),
    visit: t.relation('visit', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
  }),
});

export const RepaymentPlanRef = builder.prismaNode('RepaymentPlan', {
  nullable: true,
  id: { field: 'id' },
  description: 'Instalments, a deferral or a settlement: proposed by a collector, approved by the bank.',
  findUnique: (id, ctx) => ({ id, AND: [viaCase(ctx.viewer), agencyEra(ctx.viewer)] }),
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
    instalments: t.relation('instalments', { query: { orderBy: { seq: 'asc' } } }),
  }),
});

builder.prismaNode('Instalment', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, plan: { AND: [viaCase(ctx.viewer), agencyEra(ctx.viewer)] } }),
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
  findUnique: (id, ctx) => ({ id, AND: [viaCase(ctx.viewer), agencyEra(ctx.viewer)] }),
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (p) => money(p.amount, p.currency) }),
    credit: t.field({ type: MoneyRef, description: 'Left over after every debt: kept as a credit.', resolve: (p) => money(p.creditAmount, p.currency) }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    channel: t.expose('channel', { type: PaymentChannel }),
    externalReference: t.exposeString('externalReference', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey'),
    allocations: t.relation('allocations', { description: "The payment's own lines (a reversal's negative lines are under `reversal`).", query: { where: { reversalId: null } } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    reversal: t.relation('reversal', { nullable: true, description: 'Set when the payment was reversed: it then counts for nothing.' }),
  }),
});

export const PaymentReversalRef = builder.prismaObject('PaymentReversal', {
  description: 'Undoes a wrong payment exactly, with a negative line for each of its lines. Append-only.',
  fields: (t) => ({
    id: t.exposeID('id'),
    amount: t.field({ type: MoneyRef, resolve: (r) => money(r.amount, r.currency) }),
    reason: t.exposeString('reason'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lines: t.relation('lines'),
  }),
});

builder.prismaObject('PaymentAllocation', {
  fields: (t) => ({
    target: t.expose('target', { type: AllocationTarget }),
    amount: t.field({ type: MoneyRef, select: { payment: { select: { currency: true } } }, resolve: (a) => money(a.amount, a.payment.currency) }),
    promise: t.relation('promise', { nullable: true }),
    instalment: t.relation('instalment', { nullable: true }),
  }),
});
