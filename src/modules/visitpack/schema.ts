/**
 * The visit pack in GraphQL (issue 18, points 3 and 4): `Visit.documents` (the materials printed:
 * what, by whom, when) and `Visit.signatures`, `printVisitDocuments` and `signVisitDocument`.
 * Resolvers map; the rules are in service.ts. Every record is read in the viewer's scope and era.
 */
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Case as CaseShape, Evidence as EvidenceShape, Visit as VisitShape, VisitDocument as DocShape, VisitSignature as SigShape } from '../../generated/prisma/client.ts';
import * as E from '../../generated/prisma/enums.ts';
import { agencyEra, visibleRecords } from '../../auth/scopes.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { Jurisdiction, Language } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { UserRef } from '../agencies/schema.ts';
import { EvidenceRef } from '../evidence/schema.ts';
import { MAX_LINK_TTL_MS, evidenceDownloadUrl } from '../evidence/download.ts';
import { PromiseRef, RepaymentPlanRef } from '../repayment/schema.ts';
import { VisitRef } from '../visits/schema.ts';
import { MAX_CANVAS, MAX_SIGNATURE_IMAGE_BYTES, MAX_SIGNED_PHOTO_BYTES, MAX_STROKE_POINTS, MAX_STROKES, printVisitDocuments, signVisitDocument, type PackDeps } from './service.ts';

const FIELD: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];
const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });

function depsOf(ctx: Context): PackDeps {
  if (!ctx.evidence) throw new Error('Evidence is not configured: AppDeps.evidence is set by bootstrap');
  return { prisma: ctx.prisma, clock: ctx.clock, events: ctx.events, blobs: ctx.evidence.blobs, pii: ctx.pii, logger: ctx.logger };
}

function downloadUrl(ctx: Context, evidenceId: string): string {
  if (!ctx.evidence) throw new Error('Evidence is not configured: AppDeps.evidence is set by bootstrap');
  return evidenceDownloadUrl(ctx.evidence.publicUrl, ctx.evidence.signingKey, evidenceId, ctx.viewer.userId, ctx.clock.now(), MAX_LINK_TTL_MS);
}

export const VisitDocumentKind = builder.enumType(E.VisitDocumentKind, { name: 'VisitDocumentKind' });
export const SignatureMethod = builder.enumType(E.SignatureMethod, { name: 'SignatureMethod' });
export const SignedDocumentStatus = builder.enumType(E.SignedDocumentStatus, { name: 'SignedDocumentStatus' });

/** A related record by id, in the viewer's scope and era (null when it is not there for the viewer). */
const evidenceOf = (ctx: Context, id: string) => ctx.prisma.evidence.findFirst({ where: { id, AND: [visibleRecords.Evidence(ctx.viewer)] } });
const planOf = (ctx: Context, id: string | null) => (id ? ctx.prisma.repaymentPlan.findFirst({ where: { id, AND: [visibleRecords.RepaymentPlan(ctx.viewer)] } }) : null);
const promiseOf = (ctx: Context, id: string | null) => (id ? ctx.prisma.promiseToPay.findFirst({ where: { id, AND: [visibleRecords.PromiseToPay(ctx.viewer)] } }) : null);
const userOf = (ctx: Context, id: string) => ctx.prisma.user.findFirst({ where: { id, AND: [visibleRecords.User(ctx.viewer)] } });

export const VisitDocumentRef = builder.prismaNode('VisitDocument', {
  nullable: true,
  id: { field: 'id' },
  description: 'A document printed for a visit (the pack the collectors carry): a PDF kept as evidence of the visit with its SHA-256.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.VisitDocument(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: VisitDocumentKind }),
    language: t.expose('language', { type: Language }),
    jurisdiction: t.expose('jurisdiction', { type: Jurisdiction, description: "The debtor's: what the notice says follows it." }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 of the PDF.' }),
    nationalIdRevealed: t.exposeBoolean('nationalIdRevealed', { description: 'The full national ID number is printed: downloadable by roles that may reveal it only.' }),
    printedAt: t.expose('printedAt', { type: 'DateTime' }),
    printedBy: t.field({ type: UserRef, nullable: true, description: 'Null when the printer is of another agency than the viewer’s.', resolve: (d, _a, ctx) => userOf(ctx, d.printedById) }),
    visit: t.relation('visit'),
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (d, _a, ctx) => evidenceOf(ctx, d.evidenceId) }),
    downloadUrl: t.string({ description: `A signed link to the PDF, for this viewer only, valid ${MAX_LINK_TTL_MS / 60_000} minutes (the evidence download).`, resolve: (d, _a, ctx) => downloadUrl(ctx, d.evidenceId) }),
    plan: t.field({ type: RepaymentPlanRef, nullable: true, description: 'The plan an agreement is filled from.', resolve: (d, _a, ctx) => planOf(ctx, d.planId) }),
    promise: t.field({ type: PromiseRef, nullable: true, description: 'The promise a promise letter states.', resolve: (d, _a, ctx) => promiseOf(ctx, d.promiseId) }),
    signatures: t.relation('signatures', { description: 'The signatures taken on it, oldest first.', query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ signedAt: 'asc' }, { id: 'asc' }] }) }),
  }),
});

export const VisitSignatureRef = builder.prismaNode('VisitSignature', {
  nullable: true,
  id: { field: 'id' },
  description: 'The debtor’s signature on an agreement or promise letter, taken on site: the signed document is evidence tied to the plan or promise.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.VisitSignature(ctx.viewer)] }),
  fields: (t) => ({
    method: t.expose('method', { type: SignatureMethod }),
    status: t.expose('status', { type: SignedDocumentStatus, description: 'PENDING_APPROVAL: an agreement signed before its plan was approved, never binding.' }),
    signedAt: t.expose('signedAt', { type: 'DateTime', description: 'When it was signed, by the device.' }),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
    place: t.exposeString('place'),
    latitude: t.exposeFloat('latitude', { nullable: true }),
    longitude: t.exposeFloat('longitude', { nullable: true }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 of the signed document (PDF, or the photo of the signed paper).' }),
    collector: t.field({ type: UserRef, nullable: true, description: 'The collector who took it.', resolve: (s, _a, ctx) => userOf(ctx, s.collectorId) }),
    document: t.relation('document'),
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (s, _a, ctx) => evidenceOf(ctx, s.evidenceId) }),
    downloadUrl: t.string({ description: 'A signed link to the signed document, for this viewer only.', resolve: (s, _a, ctx) => downloadUrl(ctx, s.evidenceId) }),
    plan: t.field({ type: RepaymentPlanRef, nullable: true, resolve: (s, _a, ctx) => planOf(ctx, s.planId) }),
    promise: t.field({ type: PromiseRef, nullable: true, resolve: (s, _a, ctx) => promiseOf(ctx, s.promiseId) }),
  }),
});

builder.prismaObjectFields(VisitRef, (t) => ({
  documents: t.relatedConnection('documents', {
    cursor: 'id',
    totalCount: true,
    description: 'The materials printed for the visit: what, by whom, when; newest first.',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ printedAt: 'desc' }, { id: 'desc' }] }),
  }),
  signatures: t.relatedConnection('signatures', {
    cursor: 'id',
    totalCount: true,
    description: 'Signatures taken on site, newest first.',
    query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ signedAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

const PrintVisitDocumentsInput = builder.inputType('PrintVisitDocumentsInput', {
  fields: (t) => ({
    visitId: t.globalID({ for: [VisitRef] }),
    documents: t.field({ type: [VisitDocumentKind], description: 'Each at most once.' }),
    language: t.field({ type: Language, required: false, description: "Default: the debtor's language." }),
    planId: t.globalID({ for: [RepaymentPlanRef], required: false, description: 'REPAYMENT_AGREEMENT: the plan it is filled from (PROPOSED, APPROVED or ACTIVE).' }),
    promiseId: t.globalID({ for: [PromiseRef], required: false, description: 'PROMISE_LETTER: the promise it states (OPEN).' }),
    revealNationalId: t.boolean({ required: false, description: 'Print the full national ID number: supervisors and admins only, with a reason; audited. Default: masked.' }),
    revealReason: t.string({ required: false }),
  }),
});

type PrintedShape = { documents?: DocShape[]; visit?: VisitShape | null; userErrors: UserError[] };
const PrintVisitDocumentsPayload = builder.objectRef<PrintedShape>('PrintVisitDocumentsPayload').implement({
  fields: (t) => ({
    documents: t.field({ type: [VisitDocumentRef], nullable: true, resolve: (p) => p.documents ?? null }),
    visit: t.field({ type: VisitRef, nullable: true, resolve: (p) => p.visit ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

const SignaturePointInput = builder.inputType('SignaturePointInput', { fields: (t) => ({ x: t.float(), y: t.float() }) });
const SignatureStrokeInput = builder.inputType('SignatureStrokeInput', { fields: (t) => ({ points: t.field({ type: [SignaturePointInput] }) }) });

const SignVisitDocumentInput = builder.inputType('SignVisitDocumentInput', {
  description: 'IMAGE and PHOTO are sent with the GraphQL multipart request spec (`file`); STROKES as points.',
  fields: (t) => ({
    documentId: t.globalID({ for: [VisitDocumentRef], description: 'A printed REPAYMENT_AGREEMENT or PROMISE_LETTER of the visit.' }),
    method: t.field({ type: SignatureMethod }),
    strokes: t.field({ type: [SignatureStrokeInput], required: false, description: `STROKES: at most ${MAX_STROKES} strokes and ${MAX_STROKE_POINTS} points, inside the canvas.` }),
    canvasWidth: t.int({ required: false, description: `STROKES: the canvas, at most ${MAX_CANVAS} units.` }),
    canvasHeight: t.int({ required: false }),
    file: t.field({ type: 'File', required: false, description: `IMAGE: the signature, PNG or JPEG, at most ${MAX_SIGNATURE_IMAGE_BYTES / 1024} KiB. PHOTO: the signed paper, PNG or JPEG, at most ${MAX_SIGNED_PHOTO_BYTES / 1024 / 1024} MiB.` }),
    signedAt: t.field({ type: 'DateTime', required: false, description: 'When it was signed, by the device (recorded offline): default now; at most 72 hours back.' }),
    place: t.string({ description: 'Where it was signed, as the collector describes it.' }),
    latitude: t.float({ required: false }),
    longitude: t.float({ required: false }),
  }),
});

type SignedShape = { signature?: SigShape | null; evidence?: EvidenceShape | null; case?: CaseShape | null; userErrors: UserError[] };
const SignVisitDocumentPayload = builder.objectRef<SignedShape>('SignVisitDocumentPayload').implement({
  fields: (t) => ({
    signature: t.field({ type: VisitSignatureRef, nullable: true, resolve: (p) => p.signature ?? null }),
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (p) => p.evidence ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  printVisitDocuments: t.field({
    type: PrintVisitDocumentsPayload,
    description: 'Prints documents for a visit (dossier, overdue statement, notice, repayment agreement, promise letter) as PDF in zh-CN or en, each kept as evidence of the visit with its SHA-256.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: PrintVisitDocumentsInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        printVisitDocuments(depsOf(ctx), actorOf(ctx), {
          visitId: input.visitId.id,
          documents: input.documents,
          language: input.language ?? null,
          planId: input.planId?.id ?? null,
          promiseId: input.promiseId?.id ?? null,
          revealNationalId: input.revealNationalId ?? null,
          revealReason: input.revealReason ?? null,
        }),
      ),
  }),
  signVisitDocument: t.field({
    type: SignVisitDocumentPayload,
    description: 'The debtor signs a printed agreement or promise letter on site: the signed document becomes evidence tied to the plan or promise. An agreement signed before its plan is approved is PENDING_APPROVAL.',
    authScopes: { role: FIELD },
    args: { input: t.arg({ type: SignVisitDocumentInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(async () => {
        const out = await signVisitDocument(depsOf(ctx), actorOf(ctx), {
          documentId: input.documentId.id,
          method: input.method,
          strokes: input.strokes ?? null,
          canvasWidth: input.canvasWidth ?? null,
          canvasHeight: input.canvasHeight ?? null,
          file: input.file ?? null,
          signedAt: input.signedAt ?? null,
          place: input.place,
          latitude: input.latitude ?? null,
          longitude: input.longitude ?? null,
        });
        const c = await ctx.prisma.case.findUniqueOrThrow({ where: { id: out.signature.caseId } });
        return { ...out, case: c };
      }),
  }),
}));
