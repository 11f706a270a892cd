import { builder } from '../../builder.ts';
import * as E from '../../generated/prisma/enums.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { UserError } from '../../lib/errors.ts';
import { money } from '../../lib/money.ts';
import { agencyEra, visibleRecords } from '../../auth/scopes.ts';
import type { Case as CaseShape } from '../../generated/prisma/client.ts';
import { CurrencyCode, MoneyRef, UserErrorRef, withUserErrors } from '../common/schema.ts';
import { PaymentChannel } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { EvidenceRef } from '../evidence/schema.ts';
import * as service from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const depsOf = (ctx: Context): service.LegalDeps => ({ prisma: ctx.prisma, clock: ctx.clock, events: ctx.events });

export const LegalReferralStatus = builder.enumType(E.LegalReferralStatus, { name: 'LegalReferralStatus' });
export const JudgmentResult = builder.enumType(E.JudgmentResult, { name: 'JudgmentResult' });
export const LegalOutcome = builder.enumType(E.LegalOutcome, { name: 'LegalOutcome' });
export const WriteOffStatus = builder.enumType(E.WriteOffStatus, { name: 'WriteOffStatus' });
export const WriteOffReason = builder.enumType(E.WriteOffReason, { name: 'WriteOffReason' });

const amount = (field: 'principal' | 'interest' | 'fees' | 'total') => (o: Record<typeof field, bigint> & { currency: string }) => money(o[field], o.currency);

export const LegalHearingRef = builder.prismaNode('LegalHearing', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.LegalHearing(ctx.viewer)] }),
  fields: (t) => ({
    heldAt: t.expose('heldAt', { type: 'DateTime' }),
    kind: t.exposeString('kind'),
    result: t.exposeString('result'),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
  }),
});

export const LegalReferralRef = builder.prismaNode('LegalReferral', {
  nullable: true,
  id: { field: 'id' },
  description: 'A case handed to a law firm (LEGAL stage): amounts at referral, the document package, the court case and its outcome.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.LegalReferral(ctx.viewer)] }),
  fields: (t) => ({
    case: t.relation('case'),
    lawFirm: t.exposeString('lawFirm'),
    lawFirmReference: t.exposeString('lawFirmReference', { nullable: true }),
    principal: t.field({ type: MoneyRef, description: 'At referral.', select: { principal: true, currency: true }, resolve: amount('principal') }),
    interest: t.field({ type: MoneyRef, select: { interest: true, currency: true }, resolve: amount('interest') }),
    fees: t.field({ type: MoneyRef, select: { fees: true, currency: true }, resolve: amount('fees') }),
    total: t.field({ type: MoneyRef, select: { total: true, currency: true }, resolve: amount('total') }),
    status: t.expose('status', { type: LegalReferralStatus }),
    note: t.exposeString('note'),
    referredAt: t.expose('referredAt', { type: 'DateTime' }),
    court: t.exposeString('court', { nullable: true }),
    courtReference: t.exposeString('courtReference', { nullable: true }),
    filedOn: t.expose('filedOn', { type: 'Date', nullable: true }),
    judgmentOn: t.expose('judgmentOn', { type: 'Date', nullable: true }),
    judgmentResult: t.expose('judgmentResult', { type: JudgmentResult, nullable: true }),
    judgmentAmount: t.field({ type: MoneyRef, nullable: true, select: { judgmentAmount: true, currency: true }, resolve: (r) => (r.judgmentAmount === null ? null : money(r.judgmentAmount, r.currency)) }),
    enforcementStartedOn: t.expose('enforcementStartedOn', { type: 'Date', nullable: true }),
    enforcementMethod: t.exposeString('enforcementMethod', { nullable: true }),
    outcome: t.expose('outcome', { type: LegalOutcome, nullable: true }),
    outcomeNote: t.exposeString('outcomeNote', { nullable: true }),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true }),
    documents: t.field({
      type: [EvidenceRef],
      description: 'The document package: evidence of the case, in the order added (those of the viewer’s era).',
      select: { documentIds: true },
      resolve: async (r, _a, ctx) => {
        const rows = await ctx.prisma.evidence.findMany({ where: { id: { in: r.documentIds }, AND: [visibleRecords.Evidence(ctx.viewer)] } });
        return r.documentIds.map((id) => rows.find((e) => e.id === id)).filter((e): e is NonNullable<typeof e> => e !== undefined);
      },
    }),
    hearings: t.relation('hearings', { query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ heldAt: 'asc' }, { id: 'asc' }] }) }),
  }),
});

export const RecoveryRef = builder.prismaNode('Recovery', {
  nullable: true,
  id: { field: 'id' },
  description: 'Money received on a written-off case: it reduces the loss, goes back on no book and earns no commission.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Recovery(ctx.viewer)] }),
  fields: (t) => ({
    amount: t.field({ type: MoneyRef, select: { amount: true, currency: true }, resolve: (r) => money(r.amount, r.currency) }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    channel: t.expose('channel', { type: PaymentChannel }),
    externalReference: t.exposeString('externalReference', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const WriteOffRef = builder.prismaNode('WriteOff', {
  nullable: true,
  id: { field: 'id' },
  description: 'Maker-checker write-off: proposed, then approved by another person within their role’s limit; approved, the balance leaves the book.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.WriteOff(ctx.viewer)] }),
  fields: (t) => ({
    case: t.relation('case'),
    principal: t.field({ type: MoneyRef, select: { principal: true, currency: true }, resolve: amount('principal') }),
    interest: t.field({ type: MoneyRef, select: { interest: true, currency: true }, resolve: amount('interest') }),
    fees: t.field({ type: MoneyRef, select: { fees: true, currency: true }, resolve: amount('fees') }),
    total: t.field({ type: MoneyRef, select: { total: true, currency: true }, resolve: amount('total') }),
    reason: t.expose('reason', { type: WriteOffReason }),
    note: t.exposeString('note'),
    status: t.expose('status', { type: WriteOffStatus }),
    proposedAt: t.expose('proposedAt', { type: 'DateTime' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    decisionNote: t.exposeString('decisionNote', { nullable: true }),
    recovered: t.field({ type: MoneyRef, select: { recoveredAmount: true, currency: true }, resolve: (w) => money(w.recoveredAmount, w.currency) }),
    recoveries: t.relatedConnection('recoveries', { cursor: 'id', totalCount: true, query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: { id: 'asc' } }) }),
  }),
});

builder.prismaObjectFields(CaseRef, (t) => ({
  legalReferrals: t.relatedConnection('legalReferrals', {
    cursor: 'id',
    totalCount: true,
    description: 'Legal referrals of the case, newest first (of the viewer’s era).',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ referredAt: 'desc' }, { id: 'desc' }] }),
  }),
  writeOffs: t.relatedConnection('writeOffs', {
    cursor: 'id',
    totalCount: true,
    description: 'Write-offs proposed for the case, newest first (of the viewer’s era).',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ proposedAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

builder.queryFields((t) => ({
  writeOffs: t.prismaConnection(
    {
      type: 'WriteOff',
      cursor: 'id',
      description: 'Write-offs, oldest first: the checkers’ queue with status PROPOSED. Bank staff (a collector: on own cases).',
      authScopes: { bank: true },
      args: { status: t.arg({ type: WriteOffStatus, required: false }) },
      totalCount: (_p, args, ctx) => ctx.prisma.writeOff.count({ where: { AND: [visibleRecords.WriteOff(ctx.viewer), args.status ? { status: args.status } : {}] } }),
      resolve: (query, _r, args, ctx) => ctx.prisma.writeOff.findMany({ ...query, where: { AND: [visibleRecords.WriteOff(ctx.viewer), args.status ? { status: args.status } : {}] }, orderBy: { id: 'asc' } }),
    },
    { name: 'WriteOffConnection' },
  ),
}));

// ---------------------------------------------------------------- mutations

const WRITERS: Role[] = [...service.LEGAL_WRITERS];

type Shape = { case?: CaseShape | null; userErrors: UserError[]; referral?: object | null; hearing?: object | null; writeOff?: object | null; recovery?: object | null };
function payload(name: string, keys: ('referral' | 'hearing' | 'writeOff' | 'recovery')[]) {
  const refs = { referral: LegalReferralRef, hearing: LegalHearingRef, writeOff: WriteOffRef, recovery: RecoveryRef } as const;
  return builder.objectRef<Shape>(name).implement({
    fields: (t) => ({
      ...Object.fromEntries(keys.map((k) => [k, t.field({ type: refs[k] as typeof LegalReferralRef, nullable: true, resolve: (p: Shape) => (p[k] ?? null) as never })])),
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

const ReferCaseToLegalInput = builder.inputType('ReferCaseToLegalInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    lawFirm: t.string(),
    lawFirmReference: t.string({ required: false }),
    documentIds: t.globalIDList({ for: [EvidenceRef], required: false, description: 'The document package: evidence of the case (at most 50).' }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});
const AddLegalDocumentsInput = builder.inputType('AddLegalDocumentsInput', {
  fields: (t) => ({ referralId: t.globalID({ for: [LegalReferralRef] }), documentIds: t.globalIDList({ for: [EvidenceRef] }) }),
});
const RecordLegalFilingInput = builder.inputType('RecordLegalFilingInput', {
  fields: (t) => ({ referralId: t.globalID({ for: [LegalReferralRef] }), court: t.string(), courtReference: t.string(), filedOn: t.field({ type: 'Date' }) }),
});
const RecordLegalHearingInput = builder.inputType('RecordLegalHearingInput', {
  fields: (t) => ({ referralId: t.globalID({ for: [LegalReferralRef] }), heldAt: t.field({ type: 'DateTime' }), kind: t.string(), result: t.string({ required: false }) }),
});
const RecordLegalJudgmentInput = builder.inputType('RecordLegalJudgmentInput', {
  fields: (t) => ({
    referralId: t.globalID({ for: [LegalReferralRef] }),
    judgmentOn: t.field({ type: 'Date' }),
    result: t.field({ type: JudgmentResult }),
    amount: t.field({ type: 'SafeInt', required: false, description: 'Awarded, minor units (not for AGAINST_BANK).' }),
    currency: t.field({ type: CurrencyCode, required: false }),
  }),
});
const RecordLegalEnforcementInput = builder.inputType('RecordLegalEnforcementInput', {
  fields: (t) => ({ referralId: t.globalID({ for: [LegalReferralRef] }), startedOn: t.field({ type: 'Date' }), method: t.string() }),
});
const CloseLegalReferralInput = builder.inputType('CloseLegalReferralInput', {
  fields: (t) => ({ referralId: t.globalID({ for: [LegalReferralRef] }), outcome: t.field({ type: LegalOutcome }), note: t.string() }),
});
const ProposeWriteOffInput = builder.inputType('ProposeWriteOffInput', {
  fields: (t) => ({ caseId: t.globalID({ for: [CaseRef] }), reason: t.field({ type: WriteOffReason }), note: t.string(), expectedVersion: t.int({ required: false }) }),
});
const ApproveWriteOffInput = builder.inputType('ApproveWriteOffInput', {
  fields: (t) => ({ writeOffId: t.globalID({ for: [WriteOffRef] }), note: t.string({ required: false }), expectedVersion: t.int({ required: false }) }),
});
const RejectWriteOffInput = builder.inputType('RejectWriteOffInput', {
  fields: (t) => ({ writeOffId: t.globalID({ for: [WriteOffRef] }), note: t.string(), expectedVersion: t.int({ required: false }) }),
});
const RecordRecoveryInput = builder.inputType('RecordRecoveryInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    amount: t.field({ type: 'SafeInt' }),
    currency: t.field({ type: CurrencyCode }),
    receivedAt: t.field({ type: 'DateTime' }),
    channel: t.field({ type: PaymentChannel }),
    externalReference: t.string({ required: false }),
    idempotencyKey: t.string(),
  }),
});

builder.mutationFields((t) => ({
  referCaseToLegal: t.field({
    type: payload('ReferCaseToLegalPayload', ['referral']),
    description: 'Hands a case to a law firm: from FIELD_VISIT (the stage moves to LEGAL) or a case already in LEGAL without an open referral. Bank supervisors and admins.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: ReferCaseToLegalInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        service.referCaseToLegal(depsOf(ctx), actorOf(ctx), {
          caseId: input.caseId.id,
          lawFirm: input.lawFirm,
          lawFirmReference: input.lawFirmReference ?? null,
          documentIds: (input.documentIds ?? []).map((d) => d.id),
          note: input.note ?? null,
          expectedVersion: input.expectedVersion ?? null,
        }),
      ),
  }),
  addLegalDocuments: t.field({
    type: payload('AddLegalDocumentsPayload', ['referral']),
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: AddLegalDocumentsInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.addLegalDocuments(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, documentIds: input.documentIds.map((d) => d.id) })),
  }),
  recordLegalFiling: t.field({
    type: payload('RecordLegalFilingPayload', ['referral']),
    description: 'REFERRED → FILED.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordLegalFilingInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.recordLegalFiling(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, court: input.court, courtReference: input.courtReference, filedOn: input.filedOn })),
  }),
  recordLegalHearing: t.field({
    type: payload('RecordLegalHearingPayload', ['referral', 'hearing']),
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordLegalHearingInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.recordLegalHearing(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, heldAt: input.heldAt, kind: input.kind, result: input.result ?? null })),
  }),
  recordLegalJudgment: t.field({
    type: payload('RecordLegalJudgmentPayload', ['referral']),
    description: 'FILED → JUDGMENT.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordLegalJudgmentInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() => service.recordLegalJudgment(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, judgmentOn: input.judgmentOn, result: input.result, amount: input.amount ?? null, currency: input.currency ?? null })),
  }),
  recordLegalEnforcement: t.field({
    type: payload('RecordLegalEnforcementPayload', ['referral']),
    description: 'JUDGMENT (for the bank) → ENFORCEMENT.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RecordLegalEnforcementInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.recordLegalEnforcement(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, startedOn: input.startedOn, method: input.method })),
  }),
  closeLegalReferral: t.field({
    type: payload('CloseLegalReferralPayload', ['referral']),
    description: 'Ends a referral with its outcome.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: CloseLegalReferralInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.closeLegalReferral(depsOf(ctx), actorOf(ctx), { referralId: input.referralId.id, outcome: input.outcome, note: input.note })),
  }),
  proposeWriteOff: t.field({
    type: payload('ProposeWriteOffPayload', ['writeOff']),
    description: 'Proposes writing off what the case owes (bank collectors, supervisors, admins); another person approves.',
    authScopes: { role: [...service.WRITE_OFF_PROPOSERS] },
    args: { input: t.arg({ type: ProposeWriteOffInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.proposeWriteOff(depsOf(ctx), actorOf(ctx), { caseId: input.caseId.id, reason: input.reason, note: input.note, expectedVersion: input.expectedVersion ?? null })),
  }),
  approveWriteOff: t.field({
    type: payload('ApproveWriteOffPayload', ['writeOff']),
    description: 'Approves a proposed write-off: not its proposer; a supervisor up to 5 000 000 minor units, above that an admin. The case closes WRITTEN_OFF.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: ApproveWriteOffInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.approveWriteOff(depsOf(ctx), actorOf(ctx), { writeOffId: input.writeOffId.id, note: input.note ?? null, expectedVersion: input.expectedVersion ?? null })),
  }),
  rejectWriteOff: t.field({
    type: payload('RejectWriteOffPayload', ['writeOff']),
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: RejectWriteOffInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => service.rejectWriteOff(depsOf(ctx), actorOf(ctx), { writeOffId: input.writeOffId.id, note: input.note, expectedVersion: input.expectedVersion ?? null })),
  }),
  recordRecovery: t.field({
    type: payload('RecordRecoveryPayload', ['recovery', 'writeOff']),
    description: 'Money received on a written-off case (idempotent by key): a recovery against the write-off, not a payment.',
    authScopes: { role: ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR'] },
    args: { input: t.arg({ type: RecordRecoveryInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        service.recordRecovery(depsOf(ctx), actorOf(ctx), {
          caseId: input.caseId.id,
          amount: input.amount,
          currency: input.currency,
          receivedAt: input.receivedAt,
          channel: input.channel,
          externalReference: input.externalReference ?? null,
          idempotencyKey: input.idempotencyKey,
        }),
      ),
  }),
}));
