import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import { money } from '../../lib/money.ts';
import { agencyEra, visibleRecords } from '../../auth/scopes.ts';
import type { Case as CaseShape, Evidence as EvidenceShape, LetterDispatch as LetterShape } from '../../generated/prisma/client.ts';
import { MoneyRef, UserErrorRef, withUserErrors } from '../common/schema.ts';
import { Language, LetterStatus } from '../common/enums.ts';
import { AddressRef, CaseRef } from '../cases/schema.ts';
import { EvidenceRef } from '../evidence/schema.ts';
import { sendLetter } from './service.ts';

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });
const SENDERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

export const LetterRef = builder.prismaNode('LetterDispatch', {
  name: 'Letter',
  nullable: true,
  id: { field: 'id' },
  description: 'A letter sent to the debtor: the active LETTER template rendered to PDF, kept as evidence with its SHA-256.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.LetterDispatch(ctx.viewer)] }),
  fields: (t) => ({
    status: t.expose('status', { type: LetterStatus }),
    templateKey: t.exposeString('templateKey'),
    templateVersion: t.exposeInt('templateVersion', { description: 'The version of the template that was active when it was sent.' }),
    language: t.expose('language', { type: Language }),
    text: t.exposeString('renderedText', { description: 'The letter as rendered: the PDF holds the same words.' }),
    amount: t.field({ type: MoneyRef, description: 'The overdue amount it states (as the SMS does).', resolve: (l) => money(l.amount, l.currency) }),
    deadline: t.expose('deadline', { type: 'Date', description: 'The repayment deadline it states (as the SMS does).' }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 of the PDF kept as evidence.' }),
    dispatchedAt: t.expose('dispatchedAt', { type: 'DateTime' }),
    address: t.field({ type: AddressRef, nullable: true, resolve: (l, _a, ctx) => ctx.prisma.address.findFirst({ where: { id: l.addressId, ...agencyEra(ctx.viewer) } }) }),
    evidence: t.relation('evidence', { description: 'The PDF: download it through Evidence.downloadUrl.' }),
    case: t.relation('case'),
  }),
});

builder.prismaObjectField(CaseRef, 'letters', (t) =>
  t.relatedConnection('letters', {
    cursor: 'id',
    totalCount: true,
    description: 'Letters sent, newest first.',
    query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ dispatchedAt: 'desc' }, { id: 'desc' }] }),
  }),
);

const SendLetterInput = builder.inputType('SendLetterInput', {
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    addressId: t.globalID({ for: [AddressRef], description: "One of the debtor's addresses (not moved away from)." }),
    templateKey: t.string({ required: false, description: 'A LETTER template; default overdue-letter. Rendered in the debtor’s language.' }),
    expectedVersion: t.int({ required: false }),
    idempotencyKey: t.string({ required: false, description: 'The same key sends the letter once.' }),
  }),
});

type Sent = { letter?: LetterShape | null; evidence?: EvidenceShape | null; case?: CaseShape | null; userErrors: UserError[] };
const SendLetterPayload = builder.objectRef<Sent>('SendLetterPayload').implement({
  fields: (t) => ({
    letter: t.field({ type: LetterRef, nullable: true, resolve: (p) => p.letter ?? null }),
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (p) => p.evidence ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('sendLetter', (t) =>
  t.field({
    type: SendLetterPayload,
    description: 'A letter (通知书) to one of the debtor’s addresses: the contact policy first, then the active LETTER template rendered to PDF, kept as evidence with its SHA-256, with a dispatch record.',
    authScopes: { role: SENDERS },
    args: { input: t.arg({ type: SendLetterInput }) },
    resolve: (_r, { input }, ctx) => {
      const evidence = ctx.evidence;
      if (!evidence) throw new Error('Evidence is not configured: AppDeps.evidence is set by bootstrap');
      return withUserErrors(() =>
        sendLetter({ prisma: ctx.prisma, clock: ctx.clock, events: ctx.events, blobs: evidence.blobs, logger: ctx.logger }, actorOf(ctx), {
          caseId: input.caseId.id,
          addressId: input.addressId.id,
          templateKey: input.templateKey ?? null,
          expectedVersion: input.expectedVersion ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
        }),
      );
    },
  }),
);
