/**
 * `Visit.dossier` as a typed object (issue 18, point 2). The resolver only maps: the reader in
 * dossier.ts applies the agency form and the viewer's era to whatever is stored.
 */
import { builder } from '../../builder.ts';
import { money } from '../../lib/money.ts';
import { MoneyRef } from '../common/schema.ts';
import { AddressKind, ContactChannel, ContactOutcome, ContactPointKind, HoldReason, Jurisdiction, Language, PlanKind, PlanStatus, PromiseStatus } from '../common/enums.ts';
import { ComplaintCategory, ComplaintStatus } from '../care/schema.ts';
import type { Dossier } from './dossier.ts';

type D = Dossier;
const big = (v: string | undefined) => (v === undefined ? null : BigInt(v));
const m = (v: string | undefined, currency: string) => (v === undefined ? null : money(BigInt(v), currency));
// The enums are checked by the reader (dossier.ts oneOf): the casts only name their types.
type En<T> = T extends { $inferType: infer U } ? U : never;

export const DossierForm = builder.enumType('DossierForm', {
  description: "BANK: everything the bank's staff may read. AGENCY: what an agency's collectors need at the door (no credit limit, no breakdown of the debt, no e-mail).",
  values: ['BANK', 'AGENCY'] as const,
});

const DossierDebtor = builder.objectRef<D['debtor']>('DossierDebtor').implement({
  fields: (t) => ({
    fullName: t.exposeString('fullName'),
    nationalIdMasked: t.exposeString('nationalIdMasked', { description: 'Always masked: the full number only through revealDebtorIdentity.' }),
    language: t.field({ type: Language, resolve: (d) => d.language as En<typeof Language> }),
    timeZone: t.exposeString('timeZone'),
    jurisdiction: t.field({ type: Jurisdiction, resolve: (d) => d.jurisdiction as En<typeof Jurisdiction> }),
  }),
});

const DossierCard = builder.objectRef<D['card']>('DossierCard').implement({
  fields: (t) => ({
    last4: t.exposeString('last4'),
    product: t.exposeString('product'),
    creditLimit: t.field({ type: MoneyRef, nullable: true, description: 'Null in the agency form.', resolve: (c) => m(c.creditLimit, c.currency) }),
  }),
});

const DossierAmounts = builder.objectRef<D['overdue']>('DossierAmounts').implement({
  description: 'The overdue amount when the visit was planned, with its breakdown (bank form only).',
  fields: (t) => ({
    total: t.field({ type: MoneyRef, resolve: (o) => money(BigInt(o.total), o.currency) }),
    principal: t.field({ type: MoneyRef, nullable: true, resolve: (o) => m(o.principal, o.currency) }),
    interest: t.field({ type: MoneyRef, nullable: true, resolve: (o) => m(o.interest, o.currency) }),
    fees: t.field({ type: MoneyRef, nullable: true, resolve: (o) => m(o.fees, o.currency) }),
    firstMissedDueDate: t.string({ resolve: (o) => o.firstMissedDueDate, description: 'YYYY-MM-DD.' }),
    daysPastDue: t.exposeInt('daysPastDue'),
  }),
});

const DossierContactPoint = builder.objectRef<D['contactPoints'][number]>('DossierContactPoint').implement({
  fields: (t) => ({ kind: t.field({ type: ContactPointKind, resolve: (c) => c.kind as En<typeof ContactPointKind> }), value: t.exposeString('value') }),
});

const DossierAddress = builder.objectRef<D['address']>('DossierAddress').implement({
  fields: (t) => ({
    kind: t.field({ type: AddressKind, resolve: (a) => a.kind as En<typeof AddressKind> }),
    line1: t.exposeString('line1'),
    line2: t.exposeString('line2', { nullable: true }),
    city: t.exposeString('city'),
    region: t.exposeString('region'),
    postalCode: t.exposeString('postalCode', { nullable: true }),
    country: t.exposeString('country'),
  }),
});

type WithCurrency<T> = T & { currency: string };
const DossierStatement = builder.objectRef<WithCurrency<D['statements'][number]>>('DossierStatement').implement({
  fields: (t) => ({
    periodStart: t.exposeString('periodStart'),
    periodEnd: t.exposeString('periodEnd'),
    statementBalance: t.field({ type: MoneyRef, resolve: (s) => money(big(s.statementBalance)!, s.currency) }),
    minimumDue: t.field({ type: MoneyRef, resolve: (s) => money(big(s.minimumDue)!, s.currency) }),
    amountPaid: t.field({ type: MoneyRef, resolve: (s) => money(big(s.amountPaid)!, s.currency) }),
    dueDate: t.exposeString('dueDate'),
  }),
});

const DossierTransaction = builder.objectRef<WithCurrency<D['transactions'][number]>>('DossierTransaction').implement({
  fields: (t) => ({
    postedOn: t.exposeString('postedOn'),
    merchantCategory: t.exposeString('merchantCategory'),
    merchantName: t.exposeString('merchantName', { nullable: true }),
    amount: t.field({ type: MoneyRef, resolve: (s) => money(big(s.amount)!, s.currency) }),
  }),
});

const DossierPromise = builder.objectRef<WithCurrency<D['promises'][number]>>('DossierPromise').implement({
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, resolve: (p) => money(big(p.amount)!, p.currency) }),
    promisedFor: t.exposeString('promisedFor'),
    status: t.field({ type: PromiseStatus, resolve: (p) => p.status as En<typeof PromiseStatus> }),
    paidAmount: t.field({ type: MoneyRef, resolve: (p) => money(big(p.paidAmount)!, p.currency) }),
  }),
});

const DossierPlan = builder.objectRef<WithCurrency<D['plans'][number]>>('DossierPlan').implement({
  fields: (t) => ({
    kind: t.field({ type: PlanKind, resolve: (p) => p.kind as En<typeof PlanKind> }),
    status: t.field({ type: PlanStatus, resolve: (p) => p.status as En<typeof PlanStatus> }),
    totalAmount: t.field({ type: MoneyRef, resolve: (p) => money(big(p.totalAmount)!, p.currency) }),
    paidAmount: t.field({ type: MoneyRef, resolve: (p) => money(big(p.paidAmount)!, p.currency) }),
    instalmentCount: t.exposeInt('instalmentCount'),
    firstDueDate: t.exposeString('firstDueDate'),
  }),
});

const DossierChannelCount = builder.objectRef<{ channel: string; attempts: number }>('DossierChannelCount').implement({
  fields: (t) => ({ channel: t.field({ type: ContactChannel, resolve: (c) => c.channel as En<typeof ContactChannel> }), attempts: t.exposeInt('attempts') }),
});

const DossierContactHistory = builder.objectRef<D['contactHistory']>('DossierContactHistory').implement({
  description: 'The contact history when the visit was planned, in the eras the reader may see (blocked attempts left out).',
  fields: (t) => ({
    totalAttempts: t.exposeInt('totalAttempts'),
    connected: t.exposeInt('connected'),
    lastAttemptAt: t.string({ nullable: true, resolve: (h) => h.lastAttemptAt, description: 'ISO 8601.' }),
    lastOutcome: t.field({ type: ContactOutcome, nullable: true, resolve: (h) => h.lastOutcome as En<typeof ContactOutcome> | null }),
    byChannel: t.field({ type: [DossierChannelCount], resolve: (h) => h.byChannel }),
  }),
});

const DossierHold = builder.objectRef<D['holds'][number]>('DossierHold').implement({
  fields: (t) => ({
    reason: t.field({ type: HoldReason, resolve: (h) => h.reason as En<typeof HoldReason> }),
    startsAt: t.exposeString('startsAt'),
    endsAt: t.exposeString('endsAt', { nullable: true }),
    releasedAt: t.exposeString('releasedAt', { nullable: true }),
  }),
});

const DossierComplaint = builder.objectRef<D['complaints'][number]>('DossierComplaint').implement({
  fields: (t) => ({
    category: t.field({ type: ComplaintCategory, resolve: (k) => k.category as En<typeof ComplaintCategory> }),
    status: t.field({ type: ComplaintStatus, resolve: (k) => k.status as En<typeof ComplaintStatus> }),
    receivedAt: t.exposeString('receivedAt'),
  }),
});

export const VisitDossierRef = builder.objectRef<D>('VisitDossier').implement({
  description: 'Step 1 of a visit: what the collectors carry, compiled from the case when the visit was planned and frozen with it.',
  fields: (t) => ({
    form: t.field({ type: DossierForm, resolve: (d) => d.form }),
    compiledAt: t.string({ resolve: (d) => d.compiledAt, description: 'ISO 8601: when the visit was planned.' }),
    caseNumber: t.exposeString('caseNumber'),
    debtor: t.field({ type: DossierDebtor, resolve: (d) => d.debtor }),
    card: t.field({ type: DossierCard, resolve: (d) => d.card }),
    amounts: t.field({ type: DossierAmounts, resolve: (d) => d.overdue }),
    contactPoints: t.field({ type: [DossierContactPoint], description: "The debtor's own reachable contact points.", resolve: (d) => d.contactPoints }),
    address: t.field({ type: DossierAddress, description: 'The address to visit.', resolve: (d) => d.address }),
    statements: t.field({ type: [DossierStatement], description: 'Card usage: the recent statements, newest first (at most 12).', resolve: (d) => d.statements.map((s) => ({ ...s, currency: d.card.currency })) }),
    recentTransactions: t.field({ type: [DossierTransaction], description: 'Card usage: the newest transactions (at most 20).', resolve: (d) => d.transactions.map((s) => ({ ...s, currency: d.card.currency })) }),
    promises: t.field({ type: [DossierPromise], resolve: (d) => d.promises.map((p) => ({ ...p, currency: d.overdue.currency })) }),
    plans: t.field({ type: [DossierPlan], resolve: (d) => d.plans.map((p) => ({ ...p, currency: d.overdue.currency })) }),
    contactHistory: t.field({ type: DossierContactHistory, resolve: (d) => d.contactHistory }),
    holds: t.field({ type: [DossierHold], resolve: (d) => d.holds }),
    complaints: t.field({ type: [DossierComplaint], resolve: (d) => d.complaints }),
  }),
});
