import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Case as CaseShape, Hold as HoldShape, Placement as PlacementShape } from '../../generated/prisma/client.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import { UserErrorRef, mutationPayload, withUserErrors } from '../common/schema.ts';
import { AddressKind, CasePriority, CaseStage, CloseReason, ContactParty, ContactPointKind, HoldReason, Jurisdiction, Language, RecallReason } from '../common/enums.ts';
import { CurrencyCode } from '../common/schema.ts';
import { AgencyRef, UserRef } from '../agencies/schema.ts';
import { CaseRef } from './schema.ts';
import { MAX_IMPORT_ROWS, MAX_STATEMENTS, MAX_TRANSACTIONS, intakeBatch, openCase, type IntakeRow } from './intake.ts';
import { assignCase, changeCaseStage, closeCase, holdCase, recallCase, releaseCaseHold } from './lifecycle.ts';
import { badUserInput } from '../../lib/errors.ts';

const BANK_DECIDERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR'];
const WRITERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });

// ---------------------------------------------------------------- intake

const ContactPointInput = builder.inputType('ContactPointInput', {
  fields: (t) => ({
    kind: t.field({ type: ContactPointKind }),
    value: t.string(),
    party: t.field({ type: ContactParty, required: false, description: 'DEBTOR (default) or THIRD_PARTY (an emergency contact, never told of the debt).' }),
    relation: t.string({ required: false }),
    primary: t.boolean({ required: false }),
  }),
});

const AddressInput = builder.inputType('AddressInput', {
  fields: (t) => ({
    kind: t.field({ type: AddressKind }),
    line1: t.string(),
    line2: t.string({ required: false }),
    city: t.string(),
    region: t.string(),
    postalCode: t.string({ required: false }),
    country: t.string({ required: false, description: 'ISO 3166 alpha-2, default CN.' }),
  }),
});

const DebtorInput = builder.inputType('DebtorInput', {
  fields: (t) => ({
    externalRef: t.string({ description: "The bank's customer reference." }),
    fullName: t.string(),
    nationalId: t.string({ description: 'Stored encrypted; shown masked from then on.' }),
    timeZone: t.string({ required: false, description: 'IANA zone, default Asia/Shanghai.' }),
    jurisdiction: t.field({ type: Jurisdiction, required: false }),
    language: t.field({ type: Language, required: false }),
    contactPoints: t.field({ type: [ContactPointInput], required: false }),
    addresses: t.field({ type: [AddressInput], required: false }),
  }),
});

const CardAccountInput = builder.inputType('CardAccountInput', {
  fields: (t) => ({
    externalRef: t.string({ description: "The bank's account reference." }),
    cardLast4: t.string(),
    product: t.string(),
    creditLimit: t.field({ type: 'SafeInt', description: 'Minor units.' }),
    currency: t.field({ type: CurrencyCode }),
    openedOn: t.field({ type: 'Date', required: false }),
  }),
});

const CardStatementInput = builder.inputType('CardStatementInput', {
  description: "One monthly statement: amounts in minor units of the account's currency.",
  fields: (t) => ({
    periodStart: t.field({ type: 'Date' }),
    periodEnd: t.field({ type: 'Date' }),
    statementBalance: t.field({ type: 'SafeInt' }),
    minimumDue: t.field({ type: 'SafeInt' }),
    amountPaid: t.field({ type: 'SafeInt' }),
    dueDate: t.field({ type: 'Date' }),
  }),
});

const CardTransactionInput = builder.inputType('CardTransactionInput', {
  description: "One posted transaction: the amount in minor units of the account's currency, negative for a refund or credit.",
  fields: (t) => ({
    postedOn: t.field({ type: 'Date' }),
    merchantCategory: t.string(),
    merchantName: t.string({ required: false }),
    amount: t.field({ type: 'SafeInt' }),
  }),
});

const OpenCaseInput = builder.inputType('OpenCaseInput', {
  fields: (t) => ({
    account: t.field({ type: CardAccountInput }),
    debtor: t.field({ type: DebtorInput }),
    dueDate: t.field({ type: 'Date', description: 'The first missed due date.' }),
    principal: t.field({ type: 'SafeInt', description: "Minor units, in the account's currency." }),
    interest: t.field({ type: 'SafeInt' }),
    fees: t.field({ type: 'SafeInt' }),
    priority: t.field({ type: CasePriority, required: false }),
    statements: t.field({ type: [CardStatementInput], required: false, description: `Card usage: the account's recent statements, at most ${MAX_STATEMENTS} (LIMIT_EXCEEDED beyond). When sent, they replace those kept.` }),
    transactions: t.field({ type: [CardTransactionInput], required: false, description: `Card usage: the account's recent transactions, at most ${MAX_TRANSACTIONS} (LIMIT_EXCEEDED beyond). When sent, they replace those kept.` }),
  }),
});

const ImportCasesInput = builder.inputType('ImportCasesInput', {
  fields: (t) => ({
    rows: t.field({ type: [OpenCaseInput], description: `At most ${MAX_IMPORT_ROWS}. Idempotent by (account, first missed due date).` }),
    idempotencyKey: t.string({ required: false, description: 'Recorded with the import; re-sending a batch creates nothing new either way.' }),
  }),
});

const ImportRowStatus = builder.enumType('ImportRowStatus', { values: ['CREATED', 'UPDATED', 'UNCHANGED', 'REJECTED'] as const });

type ImportResultShape = { index: number; status: 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'REJECTED'; caseId: string | null; caseNumber: string | null; errors: UserError[] };
const ImportCaseResult = builder.objectRef<ImportResultShape>('ImportCaseResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The row, from 0.' }),
    status: t.field({ type: ImportRowStatus, resolve: (r) => r.status }),
    caseId: t.globalID({ nullable: true, resolve: (r) => (r.caseId ? { type: 'Case', id: r.caseId } : null) }),
    caseNumber: t.string({ nullable: true, resolve: (r) => r.caseNumber }),
    errors: t.field({ type: [UserErrorRef], resolve: (r) => r.errors }),
  }),
});

type ImportShape = { results?: ImportResultShape[]; userErrors: UserError[] };
const ImportCasesPayload = builder.objectRef<ImportShape>('ImportCasesPayload').implement({
  fields: (t) => ({
    created: t.int({ resolve: (p) => (p.results ?? []).filter((r) => r.status === 'CREATED').length }),
    updated: t.int({ resolve: (p) => (p.results ?? []).filter((r) => r.status === 'UPDATED').length }),
    unchanged: t.int({ resolve: (p) => (p.results ?? []).filter((r) => r.status === 'UNCHANGED').length }),
    rejected: t.int({ resolve: (p) => (p.results ?? []).filter((r) => r.status === 'REJECTED').length }),
    results: t.field({ type: [ImportCaseResult], resolve: (p) => p.results ?? [] }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

function toIntakeRow(input: typeof OpenCaseInput.$inferInput): IntakeRow {
  return {
    account: { ...input.account, currency: input.account.currency },
    debtor: { ...input.debtor },
    dueDate: input.dueDate,
    principal: input.principal,
    interest: input.interest,
    fees: input.fees,
    priority: input.priority ?? null,
    statements: input.statements ?? null,
    transactions: input.transactions ?? null,
  } as IntakeRow;
}

// ---------------------------------------------------------------- placement, stages, holds

const AssignCaseInput = builder.inputType('AssignCaseInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    agencyId: t.globalID({ for: [AgencyRef], required: false, description: 'Place with this agency (bank only).' }),
    collectorId: t.globalID({ for: [UserRef], required: false, description: "A collector of the agency, or a bank collector." }),
    startsAt: t.field({ type: 'DateTime', required: false }),
    endsAt: t.field({ type: 'DateTime', required: false, description: 'The agreed end: past it the case is recalled by a job.' }),
    expectedVersion: t.int({ required: false }),
  }),
});

const RecallCaseInput = builder.inputType('RecallCaseInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    reason: t.field({ type: RecallReason }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});

const ChangeCaseStageInput = builder.inputType('ChangeCaseStageInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    stage: t.field({ type: CaseStage }),
    reason: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});

const CloseCaseInput = builder.inputType('CloseCaseInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    reason: t.field({ type: CloseReason }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});

const HoldCaseInput = builder.inputType('HoldCaseInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    reason: t.field({ type: HoldReason }),
    note: t.string({ required: false }),
    endsAt: t.field({ type: 'DateTime', required: false, description: 'Without an end, the hold lasts until released.' }),
    expectedVersion: t.int({ required: false }),
  }),
});

const ReleaseCaseHoldInput = builder.inputType('ReleaseCaseHoldInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    note: t.string({ required: false }),
    expectedVersion: t.int({ required: false }),
  }),
});

const OpenCasePayload = mutationPayload('OpenCasePayload', 'case', CaseRef);
const RecallCasePayload = mutationPayload('RecallCasePayload', 'case', CaseRef);
const ChangeCaseStagePayload = mutationPayload('ChangeCaseStagePayload', 'case', CaseRef);
const CloseCasePayload = mutationPayload('CloseCasePayload', 'case', CaseRef);

type WithPlacement = { case?: CaseShape | null; placement?: PlacementShape | null; userErrors: UserError[] };
const AssignCasePayload = builder.objectRef<WithPlacement>('AssignCasePayload').implement({
  fields: (t) => ({
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    placement: t.prismaField({ type: 'Placement', nullable: true, resolve: (_q, p) => p.placement ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

type WithHold = { case?: CaseShape | null; hold?: HoldShape | null; userErrors: UserError[] };
function holdPayload(name: string) {
  return builder.objectRef<WithHold>(name).implement({
    fields: (t) => ({
      case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
      hold: t.prismaField({ type: 'Hold', nullable: true, resolve: (_q, p) => p.hold ?? null }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}
const HoldCasePayload = holdPayload('HoldCasePayload');
const ReleaseCaseHoldPayload = holdPayload('ReleaseCaseHoldPayload');

builder.mutationFields((t) => ({
  openCase: t.field({
    type: OpenCasePayload,
    description: 'Opens a case for one delinquent account (bank intake).',
    authScopes: { role: BANK_DECIDERS },
    args: { input: t.arg({ type: OpenCaseInput }) },
    // The CASE_OPENED event is in the outbox: the relay announces it now (not at its next poll).
    resolve: (_r, { input }, ctx) => withUserErrors(() => openCase(ctx, actorOf(ctx), toIntakeRow(input))).finally(() => ctx.events?.committed()),
  }),
  importCases: t.field({
    type: ImportCasesPayload,
    description: `Up to ${MAX_IMPORT_ROWS} accounts: created, amounts refreshed, or rejected with reasons per row.`,
    authScopes: { role: BANK_DECIDERS },
    args: { input: t.arg({ type: ImportCasesInput }) },
    resolve: async (_r, { input }, ctx) => {
      if (input.rows.length > MAX_IMPORT_ROWS) throw badUserInput(`At most ${MAX_IMPORT_ROWS} rows per call; use npm run import for files.`);
      const results = await intakeBatch(ctx, actorOf(ctx), input.rows.map(toIntakeRow), { source: input.idempotencyKey ? `import:${input.idempotencyKey}` : 'import' });
      ctx.events?.committed();
      return { results, userErrors: [] };
    },
  }),
  assignCase: t.field({
    type: AssignCasePayload,
    authScopes: { role: [...BANK_DECIDERS, 'AGENCY_MANAGER'] },
    args: { input: t.arg({ type: AssignCaseInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        assignCase(ctx, actorOf(ctx), {
          caseId: input.caseId.id,
          agencyId: input.agencyId?.id ?? null,
          collectorId: input.collectorId?.id ?? null,
          startsAt: input.startsAt ?? null,
          endsAt: input.endsAt ?? null,
          expectedVersion: input.expectedVersion ?? null,
        }),
      ),
  }),
  recallCase: t.field({
    type: RecallCasePayload,
    description: 'Takes the case back: the agency loses every path to it at once.',
    authScopes: { role: BANK_DECIDERS },
    args: { input: t.arg({ type: RecallCaseInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => recallCase(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  changeCaseStage: t.field({
    type: ChangeCaseStagePayload,
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: ChangeCaseStageInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => changeCaseStage(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  closeCase: t.field({
    type: CloseCasePayload,
    authScopes: { role: BANK_DECIDERS },
    args: { input: t.arg({ type: CloseCaseInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => closeCase(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  holdCase: t.field({
    type: HoldCasePayload,
    description: 'Pauses all contact on the case (dispute, hardship, legal, deceased).',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: HoldCaseInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => holdCase(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
  releaseCaseHold: t.field({
    type: ReleaseCaseHoldPayload,
    authScopes: { role: BANK_DECIDERS },
    args: { input: t.arg({ type: ReleaseCaseHoldInput }) },
    resolve: (_r, { input }, ctx) => withUserErrors(() => releaseCaseHold(ctx, actorOf(ctx), { ...input, caseId: input.caseId.id })),
  }),
}));
