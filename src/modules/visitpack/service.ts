/**
 * The visit pack (issue 18, points 3 and 4): documents printed for a visit and signed on site.
 *
 * printVisitDocuments renders the dossier, the overdue statement, the notice, a repayment
 * agreement filled from a plan and a promise letter stating a promise (documents.ts), each kept
 * as evidence of the visit with its SHA-256 and listed as a VisitDocument (what, by whom, when).
 * The full national ID is printed only when asked by a role that may reveal it, and the reveal is
 * audited in the same transaction; such a document is downloadable by those roles only
 * (evidence/download.ts).
 *
 * signVisitDocument records the debtor's signature on a printed agreement or promise letter: drawn
 * strokes or a signature image rendered into the signed PDF with the time, the place and the
 * collector, or a photo of the signed paper kept as it is; the signed document is evidence of the
 * visit tied to the plan or promise, its hash recorded. An agreement signed before its plan is
 * approved is PENDING_APPROVAL, never BINDING.
 *
 * Rendering takes a good part of a second a document, so it never runs inside the case's
 * transaction (which holds the case's lock and has a 5 s budget): the facts are read and the PDFs
 * rendered and staged first; then one case write (lock, version, timeline, audit) checks that the
 * facts still hold (STALE_VERSION when the plan, the promise or the collectors changed meanwhile),
 * records the rows and commits the bytes as its last step. A failure discards the staged bytes.
 */
import { Readable } from 'node:stream';
import type { Evidence, Visit, VisitDocument, VisitSignature } from '../../generated/prisma/client.ts';
import type { Language, SignatureMethod, SignedDocumentStatus, VisitDocumentKind } from '../../generated/prisma/enums.ts';
import { DomainError, unavailable } from '../../lib/errors.ts';
import type { Actor } from '../../lib/actor.ts';
import { auditActor } from '../../lib/actor.ts';
import type { Pii } from '../../lib/pii.ts';
import { dateOnly, localDate } from '../../lib/time.ts';
import { stepTime } from '../../lib/field-time.ts';
import type { PdfBlock } from '../../lib/pdf.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { agencyEra, caseVisibility, visibleRecords } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import { writeCase, type CaseWriteDeps } from '../cases/write.ts';
import { REVEAL_ROLES } from '../cases/service.ts';
import { recordAudit } from '../audit/service.ts';
import { storeFault, type BlobStore, type StagedBlob } from '../evidence/blob-store.ts';
import { sniff } from '../evidence/sniff.ts';
import { STORE_RETRY_AFTER_SECONDS } from '../evidence/service.ts';
import { readDossier } from './dossier.ts';
import { documentTitle, renderVisitDocument, LANG_TAG, type DocumentFacts, type PlanFacts, type PromiseFacts, type SignatureFacts } from './documents.ts';

/** Reads before the write (rendering is slow: it never runs inside the case's transaction) or inside it. */
type Reader = Pick<Tx, 'repaymentPlan' | 'promiseToPay' | 'visitParticipant'>;

export interface PackDeps extends CaseWriteDeps {
  blobs: BlobStore;
  pii: Pii;
  logger?: { error(obj: object, msg: string): void } | undefined;
}

export const DOCUMENT_KINDS: readonly VisitDocumentKind[] = ['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE', 'REPAYMENT_AGREEMENT', 'PROMISE_LETTER'];
/** Printed before the visit or on site; not once it is reported, decided or cancelled. */
const PRINTABLE: Visit['status'][] = ['PREPARING', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED'];
/** Signed on site: during the visit, or recorded when completing it (offline, within 72 hours). */
const SIGNABLE: Visit['status'][] = ['IN_PROGRESS', 'COMPLETED'];
const SIGNED_KINDS: readonly VisitDocumentKind[] = ['REPAYMENT_AGREEMENT', 'PROMISE_LETTER'];

/** Bounds of a drawn signature: enough for any hand, too little to smuggle a drawing. */
export const MAX_STROKES = 64;
export const MAX_STROKE_POINTS = 4000;
export const MAX_CANVAS = 2000;
/** A signature image is small; a photo of a signed page is not. */
export const MAX_SIGNATURE_IMAGE_BYTES = 512 * 1024;
export const MAX_SIGNED_PHOTO_BYTES = 10 * 1024 * 1024;

export interface PrintInput {
  visitId: string;
  documents: VisitDocumentKind[];
  /** Default: the debtor's language. */
  language?: Language | null;
  /** The plan a repayment agreement is filled from (PROPOSED, APPROVED or ACTIVE). */
  planId?: string | null;
  /** The promise a promise letter states (OPEN). */
  promiseId?: string | null;
  /** Print the full national ID: roles that may reveal only, with a reason; audited. */
  revealNationalId?: boolean | null;
  revealReason?: string | null;
}

export interface Printed {
  documents: VisitDocument[];
  visit: Visit;
}

async function visibleVisit(deps: CaseWriteDeps, actor: Actor, visitId: string): Promise<Visit> {
  const visit = await deps.prisma.visit.findFirst({ where: { id: visitId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) } });
  if (!visit) throw new DomainError('NOT_FOUND', 'No such visit', 'visitId');
  return visit;
}

/** The plan, promise and collectors a document states, read in the writing transaction and the viewer's era. */
async function documentContext(tx: Reader, actor: Actor, visit: Visit, caseId: string, ids: { planId?: string | null; promiseId?: string | null }) {
  let plan: PlanFacts | null = null;
  if (ids.planId) {
    const p = await tx.repaymentPlan.findFirst({ where: { id: ids.planId, caseId, ...agencyEra(actor.viewer) }, include: { instalments: { orderBy: { seq: 'asc' } } } });
    if (!p) throw new DomainError('NOT_FOUND', 'No such repayment plan of this case', 'planId');
    plan = {
      id: p.id,
      kind: p.kind,
      status: p.status,
      currency: p.currency,
      totalAmount: p.totalAmount,
      discountAmount: p.discountAmount,
      frequency: p.frequency,
      instalments: p.instalments.map((i) => ({ seq: i.seq, dueDate: dateOnly(i.dueDate), amount: i.amount })),
    };
  }
  let promise: PromiseFacts | null = null;
  let promiseStatus: string | null = null;
  if (ids.promiseId) {
    const p = await tx.promiseToPay.findFirst({ where: { id: ids.promiseId, caseId, ...agencyEra(actor.viewer) } });
    if (!p) throw new DomainError('NOT_FOUND', 'No such promise to pay of this case', 'promiseId');
    promise = { id: p.id, amount: p.amount, currency: p.currency, promisedFor: dateOnly(p.promisedFor) };
    promiseStatus = p.status;
  }
  const participants = await tx.visitParticipant.findMany({ where: { visitId: visit.id, ...agencyEra(actor.viewer) }, include: { user: true }, orderBy: { id: 'asc' } });
  const collectors = participants.map((p) => ({ fullName: p.user.fullName, credentialNumber: p.credentialNumber }));
  return { plan, promise, promiseStatus, collectors };
}

function requireStatus(visit: Visit, allowed: Visit['status'][], what: string) {
  if (!allowed.includes(visit.status)) throw new DomainError('INVALID_TRANSITION', `Cannot ${what} for a ${visit.status} visit`, 'visitId');
}

async function stage(deps: PackDeps, bytes: Buffer, staged: StagedBlob[]): Promise<StagedBlob> {
  const blob = await deps.blobs.put(Readable.from([bytes]), { maxBytes: bytes.length });
  staged.push(blob);
  return blob;
}

/** The bytes of a write that failed go (unless a record shares them); a store fault is UNAVAILABLE. */
async function cleanUp(deps: PackDeps, staged: StagedBlob[], committed: boolean, err: unknown, what: string): Promise<never> {
  for (const blob of staged) {
    if (!committed || (await deps.prisma.evidence.count({ where: { sha256: blob.sha256 } }).catch(() => 1)) === 0) {
      await blob.discard().catch((e: unknown) => deps.logger?.error({ err: e }, `visit pack: could not remove the bytes of ${what}`));
    }
  }
  const errno = storeFault(err);
  if (errno) {
    deps.logger?.error({ err, errno }, `evidence store unavailable: ${what} failed`);
    throw unavailable(`The evidence store cannot take files right now (${errno}); nothing was kept. Try again later.`, STORE_RETRY_AFTER_SECONDS);
  }
  throw err;
}

/** Prints documents for a visit (see the file's comment). */
export async function printVisitDocuments(deps: PackDeps, actor: Actor, input: PrintInput): Promise<Printed> {
  const kinds = input.documents;
  if (kinds.length === 0) throw new DomainError('VALIDATION', 'Name the documents to print', 'documents');
  if (new Set(kinds).size !== kinds.length) throw new DomainError('VALIDATION', 'A document is named twice', 'documents');
  if (kinds.includes('REPAYMENT_AGREEMENT') && !input.planId) throw new DomainError('VALIDATION', 'A repayment agreement is filled from a plan: name it', 'planId');
  if (kinds.includes('PROMISE_LETTER') && !input.promiseId) throw new DomainError('VALIDATION', 'A promise letter states a promise: name it', 'promiseId');
  const reveal = input.revealNationalId === true;
  const reason = input.revealReason?.trim() ?? '';
  if (reveal && !(REVEAL_ROLES as readonly string[]).includes(actor.viewer.role)) {
    throw new DomainError('FORBIDDEN_ACTION', 'Your role may not print the full national ID number: documents show it masked', 'revealNationalId');
  }
  if (reveal && (reason.length < 10 || reason.length > 500)) throw new DomainError('VALIDATION', 'State the reason for printing the full ID number (10 to 500 characters)', 'revealReason');
  const found = await visibleVisit(deps, actor, input.visitId);
  const staged: StagedBlob[] = [];
  let committed = false;
  try {
    // Read and render first, outside the case's transaction (a PDF takes a good part of a second);
    // the write then checks that what was rendered still holds.
    requireStatus(found, PRINTABLE, 'print documents');
    const c = await deps.prisma.case.findUniqueOrThrow({ where: { id: found.caseId } });
    const debtor = await deps.prisma.debtor.findUniqueOrThrow({ where: { id: c.debtorId } });
    const ctx = await documentContext(deps.prisma, actor, found, c.id, input);
    if (ctx.plan && !['PROPOSED', 'APPROVED', 'ACTIVE'].includes(ctx.plan.status)) {
      throw new DomainError('INVALID_TRANSITION', `An agreement is not printed for a ${ctx.plan.status} plan`, 'planId');
    }
    if (ctx.promise && ctx.promiseStatus !== 'OPEN') throw new DomainError('INVALID_TRANSITION', `A promise letter is not printed for a ${ctx.promiseStatus} promise`, 'promiseId');
    const dossier = readDossier(found.dossier, { agency: isAgencyRole(actor.viewer.role), agencyId: actor.viewer.agencyId });
    const nationalId = reveal ? deps.pii.decrypt(debtor.nationalIdCiphertext) : dossier.debtor.nationalIdMasked || debtor.nationalIdMasked;
    const printer = await deps.prisma.user.findUniqueOrThrow({ where: { id: actor.viewer.userId }, select: { fullName: true } });
    const language = input.language ?? debtor.language;
    const now = deps.clock.now();
    const rendered: { kind: VisitDocumentKind; blob: StagedBlob; planId: string | null; promiseId: string | null }[] = [];
    for (const kind of kinds) {
      const facts: DocumentFacts = {
        kind,
        language,
        jurisdiction: debtor.jurisdiction,
        printedAt: now,
        printedOn: localDate(now, debtor.timeZone),
        printedBy: printer.fullName,
        dossier,
        nationalId,
        collectors: ctx.collectors,
        plan: kind === 'REPAYMENT_AGREEMENT' ? ctx.plan : null,
        promise: kind === 'PROMISE_LETTER' ? ctx.promise : null,
      };
      rendered.push({ kind, blob: await stage(deps, await renderVisitDocument(facts), staged), planId: facts.plan?.id ?? null, promiseId: facts.promise?.id ?? null });
    }

    const out = await writeCase(deps, actor, found.caseId, { action: 'visit.printDocuments', field: 'visitId' }, async ({ tx, now: at, before }) => {
      const visit = await tx.visit.findUniqueOrThrow({ where: { id: found.id } });
      requireStatus(visit, PRINTABLE, 'print documents');
      const again = await documentContext(tx, actor, visit, before.id, input);
      if (again.plan?.status !== ctx.plan?.status || again.promiseStatus !== ctx.promiseStatus || again.collectors.length !== ctx.collectors.length) {
        throw new DomainError('STALE_VERSION', 'The plan, the promise or the collectors changed while the documents were printed: print them again', 'visitId');
      }
      if (reveal) {
        await recordAudit(tx, auditActor(actor), at, {
          action: 'debtor.revealIdentity',
          entityType: 'Debtor',
          entityId: debtor.id,
          caseId: before.id,
          reason,
          data: { field: 'nationalId', visitId: visit.id, printed: kinds },
        });
      }
      const documents: VisitDocument[] = [];
      for (const { kind, blob, planId, promiseId } of rendered) {
        const fileName = `${kind.toLowerCase().replace(/_/g, '-')}-${dossier.caseNumber || 'case'}-${dateOnly(now)}-${LANG_TAG[language]}.pdf`;
        const evidence = await tx.evidence.create({
          data: {
            caseId: before.id,
            agencyId: before.assignedAgencyId,
            visitId: visit.id,
            kind: kind === 'DOSSIER' ? 'DOSSIER' : kind === 'NOTICE' ? 'NOTICE' : kind,
            sha256: blob.sha256,
            sizeBytes: blob.size,
            contentType: 'application/pdf',
            fileName,
            description: `${documentTitle(kind, language)} (printed for the visit${reveal ? ', full ID number' : ''})`,
            capturedAt: now,
            uploadedById: actor.viewer.userId,
            uploadedAt: at,
          },
        });
        await tx.evidenceCustody.create({
          data: { evidenceId: evidence.id, agencyId: before.assignedAgencyId, action: 'UPLOADED', actorId: actor.viewer.userId, at, requestId: actor.requestId, detail: `${fileName} (application/pdf, ${blob.size} bytes) printed by printVisitDocuments` },
        });
        documents.push(
          await tx.visitDocument.create({
            data: {
              visitId: visit.id,
              caseId: before.id,
              agencyId: before.assignedAgencyId,
              kind,
              language,
              jurisdiction: debtor.jurisdiction,
              evidenceId: evidence.id,
              sha256: blob.sha256,
              planId,
              promiseId,
              nationalIdRevealed: reveal,
              printedById: actor.viewer.userId,
              printedAt: now,
            },
          }),
        );
      }
      for (const { blob } of rendered) await blob.commit();
      committed = true;
      return {
        result: { documents, visit },
        events: [{ type: 'VISIT_DOCUMENTS_PRINTED', summary: `Printed for the visit: ${kinds.map((k) => documentTitle(k, 'EN').toLowerCase()).join(', ')}`, data: { visitId: visit.id, documents: documents.map((d) => ({ id: d.id, kind: d.kind, sha256: d.sha256 })) } }],
        auditData: { visitId: visit.id, documents: documents.map((d) => ({ id: d.id, kind: d.kind, sha256: d.sha256, evidenceId: d.evidenceId })), language, nationalIdRevealed: reveal },
      };
    });
    return { documents: out.documents, visit: out.visit };
  } catch (err) {
    return cleanUp(deps, staged, committed, err, 'printed documents');
  }
}

export interface Stroke {
  points: { x: number; y: number }[];
}

/** A file part of the request: Yoga's `File`. */
export interface SignatureFile {
  readonly name?: string;
  stream(): ReadableStream<Uint8Array>;
}

export interface SignInput {
  documentId: string;
  method: SignatureMethod;
  /** STROKES: the strokes, points in a canvas of `canvasWidth` × `canvasHeight`. */
  strokes?: Stroke[] | null;
  canvasWidth?: number | null;
  canvasHeight?: number | null;
  /** IMAGE (PNG or JPEG of the signature) or PHOTO (of the signed paper). */
  file?: SignatureFile | null;
  /** When it was signed, by the device: default now; at most 72 hours back. */
  signedAt?: Date | null;
  place: string;
  latitude?: number | null;
  longitude?: number | null;
}

export interface Signed {
  signature: VisitSignature;
  evidence: Evidence;
  document: VisitDocument;
}

async function readFile(file: SignatureFile, max: number, field: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file.stream() as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new DomainError('FILE_REJECTED', `The file is larger than ${max} bytes`, field);
    chunks.push(Buffer.from(chunk));
  }
  if (size === 0) throw new DomainError('FILE_REJECTED', 'The file is empty', field);
  return Buffer.concat(chunks);
}

/** Checks a drawn signature against its bounds; the strokes as the PDF draws them. */
export function checkStrokes(input: Pick<SignInput, 'strokes' | 'canvasWidth' | 'canvasHeight'>): { strokes: { x: number; y: number }[][]; width: number; height: number } {
  const width = input.canvasWidth ?? 0;
  const height = input.canvasHeight ?? 0;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_CANVAS || height > MAX_CANVAS) {
    throw new DomainError('VALIDATION', `The canvas is 1 to ${MAX_CANVAS} units wide and high`, 'canvasWidth');
  }
  const strokes = input.strokes ?? [];
  if (strokes.length === 0) throw new DomainError('VALIDATION', 'A drawn signature has at least one stroke', 'strokes');
  if (strokes.length > MAX_STROKES) throw new DomainError('LIMIT_EXCEEDED', `At most ${MAX_STROKES} strokes`, 'strokes');
  const points = strokes.reduce((n, s) => n + s.points.length, 0);
  if (points > MAX_STROKE_POINTS) throw new DomainError('LIMIT_EXCEEDED', `At most ${MAX_STROKE_POINTS} points in all`, 'strokes');
  if (strokes.some((s) => s.points.length === 0)) throw new DomainError('VALIDATION', 'A stroke has at least one point', 'strokes');
  for (const s of strokes) {
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y) || p.x < 0 || p.y < 0 || p.x > width || p.y > height) {
        throw new DomainError('VALIDATION', `Every point lies inside the ${width} × ${height} canvas`, 'strokes');
      }
    }
  }
  return { strokes: strokes.map((s) => s.points.map((p) => ({ x: p.x, y: p.y }))), width, height };
}

/** Records the debtor's signature on a printed agreement or promise letter (see the file's comment). */
export async function signVisitDocument(deps: PackDeps, actor: Actor, input: SignInput): Promise<Signed> {
  const now = deps.clock.now();
  const signedAt = stepTime(input.signedAt ?? null, now, 'signedAt');
  const place = input.place.trim();
  if (!place) throw new DomainError('VALIDATION', 'Say where it was signed', 'place');
  if (place.length > 200) throw new DomainError('VALIDATION', 'place is longer than 200 characters', 'place');
  const lat = input.latitude ?? null;
  const lon = input.longitude ?? null;
  if ((lat === null) !== (lon === null)) throw new DomainError('VALIDATION', 'Give both latitude and longitude, or neither', 'latitude');
  if (lat !== null && (!Number.isFinite(lat) || lat < -90 || lat > 90)) throw new DomainError('VALIDATION', 'latitude is from -90 to 90', 'latitude');
  if (lon !== null && (!Number.isFinite(lon) || lon < -180 || lon > 180)) throw new DomainError('VALIDATION', 'longitude is from -180 to 180', 'longitude');

  let mark: PdfBlock | null = null;
  let photo: { bytes: Buffer; contentType: string; extension: string } | null = null;
  if (input.method === 'STROKES') {
    if (input.file) throw new DomainError('VALIDATION', 'Drawn strokes come without a file', 'file');
    const s = checkStrokes(input);
    mark = { kind: 'strokes', strokes: s.strokes, width: s.width, height: s.height, boxHeight: 80 };
  } else {
    if (input.strokes?.length) throw new DomainError('VALIDATION', `${input.method} comes with a file, not strokes`, 'strokes');
    if (!input.file) throw new DomainError('VALIDATION', `${input.method} needs the file`, 'file');
    const bytes = await readFile(input.file, input.method === 'IMAGE' ? MAX_SIGNATURE_IMAGE_BYTES : MAX_SIGNED_PHOTO_BYTES, 'file');
    const type = sniff(bytes.subarray(0, 512));
    if (!type || (type.contentType !== 'image/png' && type.contentType !== 'image/jpeg')) throw new DomainError('FILE_REJECTED', 'A signature image or photo is a PNG or JPEG', 'file');
    if (input.method === 'IMAGE') mark = { kind: 'image', data: bytes, height: 80 };
    else photo = { bytes, contentType: type.contentType, extension: type.extension };
  }

  const doc = await deps.prisma.visitDocument.findFirst({ where: { id: input.documentId, AND: [visibleRecords.VisitDocument(actor.viewer)] } });
  if (!doc) throw new DomainError('NOT_FOUND', 'No such visit document', 'documentId');
  if (!SIGNED_KINDS.includes(doc.kind)) throw new DomainError('VALIDATION', 'Only a repayment agreement or a promise letter is signed', 'documentId');

  const staged: StagedBlob[] = [];
  let committed = false;
  try {
    // What the signature stands on, read and rendered before the case's transaction; the write checks it again.
    const stands = async (reader: Reader & Pick<Tx, 'visit'>) => {
      const visit = await reader.visit.findUniqueOrThrow({ where: { id: doc.visitId } });
      requireStatus(visit, SIGNABLE, 'sign a document');
      if (visit.checkedInAt && signedAt < visit.checkedInAt) throw new DomainError('VALIDATION', 'A document is signed on site: not before the check-in', 'signedAt');
      // The witness is one of the collectors named for the visit, who is on site.
      const witness = await reader.visitParticipant.findFirst({ where: { visitId: visit.id, userId: actor.viewer.userId }, include: { user: true } });
      if (!witness) throw new DomainError('FORBIDDEN_ACTION', 'Only a collector named for the visit takes a signature on site', 'documentId');
      const ctx = await documentContext(reader, actor, visit, doc.caseId, { planId: doc.planId, promiseId: doc.promiseId });
      let status: SignedDocumentStatus = 'SIGNED';
      if (doc.kind === 'REPAYMENT_AGREEMENT') {
        const plan = ctx.plan;
        if (!plan) throw new DomainError('NOT_FOUND', 'The plan of this agreement is not there', 'documentId');
        if (plan.status === 'PROPOSED') status = 'PENDING_APPROVAL';
        else if (plan.status === 'APPROVED' || plan.status === 'ACTIVE') status = 'BINDING';
        else throw new DomainError('INVALID_TRANSITION', `The plan is ${plan.status}: its agreement is not signed`, 'documentId');
      } else if (!ctx.promise || !['OPEN', 'KEPT', 'PARTIAL'].includes(ctx.promiseStatus ?? '')) {
        throw new DomainError('INVALID_TRANSITION', `The promise is ${ctx.promiseStatus ?? 'not there'}: its letter is not signed`, 'documentId');
      }
      return { visit, witness, ctx, status };
    };
    const first = await stands(deps.prisma);
    const { visit, witness, ctx, status } = first;
    const c = await deps.prisma.case.findUniqueOrThrow({ where: { id: doc.caseId }, select: { debtorId: true } });
    const debtor = await deps.prisma.debtor.findUniqueOrThrow({ where: { id: c.debtorId } });
    const dossier = readDossier(visit.dossier, { agency: isAgencyRole(actor.viewer.role), agencyId: actor.viewer.agencyId });
    let bytes: Buffer;
    let contentType = 'application/pdf';
    let extension = 'pdf';
    if (mark) {
      const signature: SignatureFacts = {
        mark,
        signedAt,
        place,
        latitude: lat,
        longitude: lon,
        collector: { fullName: witness.user.fullName, credentialNumber: witness.credentialNumber },
        pendingApproval: status === 'PENDING_APPROVAL',
      };
      bytes = await renderVisitDocument({
        kind: doc.kind,
        language: doc.language,
        jurisdiction: doc.jurisdiction,
        printedAt: doc.printedAt,
        printedOn: localDate(doc.printedAt, debtor.timeZone),
        printedBy: witness.user.fullName,
        dossier,
        // The signed copy never carries the full number, whoever printed the original.
        nationalId: dossier.debtor.nationalIdMasked || debtor.nationalIdMasked,
        collectors: ctx.collectors,
        plan: ctx.plan,
        promise: ctx.promise,
        signature,
      });
    } else {
      bytes = photo!.bytes;
      contentType = photo!.contentType;
      extension = photo!.extension;
    }
    const blob = await stage(deps, bytes, staged);

    const out = await writeCase(deps, actor, doc.caseId, { action: 'visit.signDocument', field: 'documentId' }, async ({ tx, now: at, before }) => {
      const again = await stands(tx);
      if (again.status !== status) throw new DomainError('STALE_VERSION', `The plan changed while the signature was recorded (now ${again.ctx.plan?.status}): sign again`, 'documentId');
      const fileName = `signed-${doc.kind.toLowerCase().replace(/_/g, '-')}-${dossier.caseNumber || 'case'}-${dateOnly(signedAt)}.${extension}`;
      const evidence = await tx.evidence.create({
        data: {
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          visitId: visit.id,
          kind: doc.kind === 'REPAYMENT_AGREEMENT' ? 'REPAYMENT_AGREEMENT' : 'PROMISE_LETTER',
          sha256: blob.sha256,
          sizeBytes: blob.size,
          contentType,
          fileName,
          description: `${documentTitle(doc.kind, doc.language)}, signed (${input.method.toLowerCase()}; ${status})`,
          capturedAt: signedAt,
          uploadedById: actor.viewer.userId,
          uploadedAt: at,
        },
      });
      await tx.evidenceCustody.create({
        data: { evidenceId: evidence.id, agencyId: before.assignedAgencyId, action: 'UPLOADED', actorId: actor.viewer.userId, at, requestId: actor.requestId, detail: `${fileName} (${contentType}, ${blob.size} bytes) signed on site, recorded by signVisitDocument` },
      });
      const signature = await tx.visitSignature.create({
        data: {
          visitId: visit.id,
          caseId: before.id,
          agencyId: before.assignedAgencyId,
          documentId: doc.id,
          method: input.method,
          status,
          planId: doc.planId,
          promiseId: doc.promiseId,
          signedAt,
          recordedAt: at,
          place,
          latitude: lat,
          longitude: lon,
          collectorId: actor.viewer.userId,
          evidenceId: evidence.id,
          sha256: blob.sha256,
        },
      });
      await blob.commit();
      committed = true;
      return {
        result: { signature, evidence, document: doc },
        events: [
          {
            type: 'VISIT_DOCUMENT_SIGNED',
            summary: `${documentTitle(doc.kind, 'EN')} signed on site (${status === 'PENDING_APPROVAL' ? 'pending the plan’s approval: not binding' : status.toLowerCase()})${signedAt < at ? ' (recorded offline)' : ''}`,
            data: { visitId: visit.id, documentId: doc.id, signatureId: signature.id, evidenceId: evidence.id, sha256: blob.sha256, status },
            occurredAt: signedAt,
          },
        ],
        auditData: { visitId: visit.id, documentId: doc.id, signatureId: signature.id, evidenceId: evidence.id, sha256: blob.sha256, method: input.method, status, planId: doc.planId, promiseId: doc.promiseId },
      };
    });
    return { signature: out.signature, evidence: out.evidence, document: out.document };
  } catch (err) {
    return cleanUp(deps, staged, committed, err, 'a signed document');
  }
}
