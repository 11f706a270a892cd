import type { Case, Evidence } from '../../generated/prisma/client.ts';
import type { EvidenceKind, VisitStatus } from '../../generated/prisma/enums.ts';
import { DomainError, unavailable } from '../../lib/errors.ts';
import { idempotencyKeyOf, isUniqueViolation, requestHash } from '../../lib/idempotency.ts';
import type { Actor } from '../../lib/actor.ts';
import { agencyEra, viaCase } from '../../auth/scopes.ts';
import { writeCase, type CaseWriteDeps } from '../cases/write.ts';
import type { Tx } from '../../db/store.ts';
import { BlobInterruptedError, BlobTooLargeError, storeFault, type BlobStore, type StagedBlob } from './blob-store.ts';
import { accepts, acceptedNames, describeRefused, safeFileName, sniff } from './sniff.ts';

/**
 * Evidence (DOMAIN.md "Evidence", "Home visits" step 4): a file tied to a case and optionally
 * a visit; its type sniffed from the bytes, its size limited, its SHA-256 computed while it
 * streams, its bytes stored content-addressed; immutable, a correction supersedes it.
 */

export interface EvidenceDeps extends CaseWriteDeps {
  blobs: BlobStore;
  /** The largest file accepted, in bytes (config `evidenceMaxBytes`). */
  maxBytes: number;
  /** Where store faults are reported, with their cause. */
  logger?: { error(obj: object, msg: string): void } | undefined;
}

/** Seconds a client waits before sending an upload again after a store fault. */
export const STORE_RETRY_AFTER_SECONDS = 30;

/**
 * The store is full or unwritable: the operator must know (logged with the cause), the client
 * is told to try again later (UNAVAILABLE, 503, Retry-After), and nothing was recorded. Never
 * FILE_REJECTED: the file was fine.
 */
function storeUnavailable(deps: EvidenceDeps, err: unknown, errno: string) {
  deps.logger?.error({ err, errno }, 'evidence store unavailable: an upload was refused');
  return unavailable(
    `The evidence store cannot take files right now (${errno}${errno === 'ENOSPC' || errno === 'EDQUOT' ? ': full' : ': not writable'}); nothing was recorded. Send the file again later.`,
    STORE_RETRY_AFTER_SECONDS,
  );
}

/** What the evidence module needs from the process, besides the store and the clock. */
export interface EvidenceSettings {
  blobs: BlobStore;
  maxBytes: number;
  /** The HMAC key of download links (see download.ts `evidenceSigningKey`). */
  signingKey: string | Uint8Array;
  /** How clients reach this server: download links are built on it. */
  publicUrl: string;
}

/** An uploaded file: the Fetch API `File` that Yoga gives for a multipart upload has this shape. */
export interface UploadedFile {
  readonly name?: string;
  stream(): ReadableStream<Uint8Array>;
}

export interface UploadEvidenceInput {
  caseId: string;
  visitId?: string | null;
  /** The dispute of this case the document supports (DISPUTE_DOCUMENT) or verifies (DEBT_VERIFICATION). */
  disputeId?: string | null;
  kind: EvidenceKind;
  file: UploadedFile;
  capturedAt?: Date | null;
  description?: string | null;
  /** The record this one corrects (see supersedeEvidence). */
  supersedesId?: string | null;
  expectedVersion?: number | null;
  /** Optional: the same key stores the upload once; a retry (same file and fields) replays it. */
  idempotencyKey?: string | null;
}

export interface SupersedeEvidenceInput {
  /** The record that this upload corrects. */
  evidenceId: string;
  file: UploadedFile;
  /** Default: the description of the record corrected. */
  description?: string | null;
  capturedAt?: Date | null;
  expectedVersion?: number | null;
}

/** The new record, the one it corrects (if any), and the case after the write (its version moved on). */
export interface EvidenceWritten {
  evidence: Evidence;
  superseded: Evidence | null;
  case: Case;
}

export const MAX_DESCRIPTION_LENGTH = 2000;
/** A capture time may be this much ahead of the server's clock (a phone's clock drifts); more is an error. */
export const CAPTURE_CLOCK_SKEW_MS = 5 * 60_000;
/** Documents of a dispute: the debtor's, and the bank's verification (only the bank sends one). */
const DISPUTE_KINDS: readonly EvidenceKind[] = ['DISPUTE_DOCUMENT', 'DEBT_VERIFICATION'];
const VERIFIERS: readonly string[] = ['BANK_ADMIN', 'BANK_SUPERVISOR'];
/** Evidence of a visit comes from a visit that took place: checked in, or later. */
const VISIT_STATUSES_WITH_EVIDENCE: readonly VisitStatus[] = ['IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DECIDED'];

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB` : `${bytes} bytes`;
}

/** Uploads a file as evidence of a case (and a visit). */
export async function uploadEvidence(deps: EvidenceDeps, actor: Actor, input: UploadEvidenceInput): Promise<EvidenceWritten> {
  return storeEvidence(deps, actor, input, { caseField: 'caseId', supersedesField: 'supersedesId' });
}

/**
 * Adds a corrected version of a record: same case, same kind, same visit. The old record stays
 * (immutable) and its `supersededBy` points to the new one; a record is superseded at most once
 * (correct the correction instead).
 */
export async function supersedeEvidence(
  deps: EvidenceDeps,
  actor: Actor,
  input: SupersedeEvidenceInput,
): Promise<EvidenceWritten> {
  const old = await deps.prisma.evidence.findFirst({
    where: { id: input.evidenceId, ...viaCase(actor.viewer), ...agencyEra(actor.viewer) },
    select: { id: true, caseId: true, kind: true, visitId: true, disputeId: true, description: true },
  });
  if (!old) throw new DomainError('NOT_FOUND', 'No such evidence', 'evidenceId');
  return storeEvidence(
    deps,
    actor,
    {
      caseId: old.caseId,
      visitId: old.visitId,
      disputeId: old.disputeId,
      kind: old.kind,
      file: input.file,
      capturedAt: input.capturedAt ?? null,
      description: input.description ?? old.description,
      supersedesId: old.id,
      expectedVersion: input.expectedVersion ?? null,
    },
    { caseField: 'evidenceId', supersedesField: 'evidenceId' },
  );
}

async function storeEvidence(
  deps: EvidenceDeps,
  actor: Actor,
  input: UploadEvidenceInput,
  fields: { caseField: string; supersedesField: string },
): Promise<EvidenceWritten> {
  const now = deps.clock.now();
  if (input.kind === 'LETTER') throw new DomainError('VALIDATION', 'A letter is rendered and kept by sendLetter, not uploaded', 'kind');
  if (input.kind === 'DOSSIER' || input.kind === 'NOTICE') throw new DomainError('VALIDATION', 'A visit document is printed by printVisitDocuments, not uploaded', 'kind');
  const description = (input.description ?? '').trim();
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new DomainError('VALIDATION', `The description is longer than ${MAX_DESCRIPTION_LENGTH} characters`, 'description');
  }
  if (input.capturedAt && input.capturedAt.getTime() > now.getTime() + CAPTURE_CLOCK_SKEW_MS) {
    throw new DomainError('VALIDATION', 'The capture time is in the future', 'capturedAt');
  }
  if (!input.file || typeof input.file.stream !== 'function') {
    throw new DomainError('FILE_REJECTED', 'Send the file as a multipart upload (GraphQL multipart request spec)', 'file');
  }
  const key = input.idempotencyKey == null ? null : idempotencyKeyOf(input.idempotencyKey);

  // The bytes first: hashed, counted and sniffed while they stream, staged out of sight.
  const staged = await stage(deps, input.file);
  // A retry of an upload is known by its key, and the same once its bytes are hashed.
  const hash = key ? requestHash([input.caseId, input.visitId ?? null, input.disputeId ?? null, input.kind, staged.sha256, input.capturedAt ?? null, description, input.supersedesId ?? null]) : null;
  const replay = async (): Promise<EvidenceWritten | null> => {
    if (!key) return null;
    const existing = await deps.prisma.evidence.findUnique({ where: { idempotencyKey: key } });
    if (!existing) return null;
    await staged.discard(); // only the staged copy: the stored blob is the existing record's
    const visible = await deps.prisma.evidence.count({ where: { id: existing.id, ...viaCase(actor.viewer), ...agencyEra(actor.viewer) } });
    if (existing.requestHash !== hash || !visible) throw new DomainError('DUPLICATE', 'This idempotency key was used for another upload', 'idempotencyKey');
    const superseded = existing.supersedesId ? await deps.prisma.evidence.findUnique({ where: { id: existing.supersedesId } }) : null;
    return { evidence: existing, superseded, case: await deps.prisma.case.findUniqueOrThrow({ where: { id: existing.caseId } }) };
  };
  const first = await replay().catch(async (err) => {
    await staged.discard();
    throw err;
  });
  if (first) return first;
  let committed: { created: boolean } | null = null;
  try {
    if (staged.size === 0) throw new DomainError('FILE_REJECTED', 'The file is empty', 'file');
    const type = sniff(staged.head);
    if (!type) {
      const seen = describeRefused(staged.head);
      throw new DomainError(
        'FILE_REJECTED',
        `The file is ${seen ?? 'of an unknown type'}: evidence must be one of ${acceptedNames()} (the type is read from the content, not the name)`,
        'file',
      );
    }
    if (!accepts(input.kind, type.contentType)) {
      throw new DomainError('FILE_REJECTED', `The file is ${type.label} (${type.contentType}); ${input.kind} evidence must be ${acceptedNames(input.kind)}`, 'file');
    }
    const fileName = safeFileName(input.file.name, type);

    const out = await writeCase(
      deps,
      actor,
      input.caseId,
      { expectedVersion: input.expectedVersion, action: input.supersedesId ? 'evidence.supersede' : 'evidence.upload', field: fields.caseField },
      async ({ tx, now: at, before }) => {
        if (input.visitId) {
          const visit = await tx.visit.findFirst({ where: { id: input.visitId, caseId: before.id, ...agencyEra(actor.viewer) }, select: { status: true } });
          if (!visit) throw new DomainError('NOT_FOUND', 'No such visit on this case', 'visitId');
          if (!VISIT_STATUSES_WITH_EVIDENCE.includes(visit.status)) {
            throw new DomainError('INVALID_TRANSITION', `The visit is ${visit.status.toLowerCase()}: evidence attaches to a visit once it has been checked in`, 'visitId');
          }
        }
        const dispute = await disputeOf(tx, actor, before.id, input);
        let old: Evidence | null = null;
        if (input.supersedesId) {
          old = await tx.evidence.findFirst({ where: { id: input.supersedesId, caseId: before.id, ...agencyEra(actor.viewer) } });
          if (!old) throw new DomainError('NOT_FOUND', 'No such evidence on this case', fields.supersedesField);
          const already = await tx.evidence.findUnique({ where: { supersedesId: old.id }, select: { id: true } });
          if (already) throw new DomainError('INVALID_TRANSITION', 'This evidence has already been superseded: correct its latest version', fields.supersedesField);
          if (old.kind !== input.kind) throw new DomainError('VALIDATION', `A correction of ${old.kind} evidence is ${old.kind} evidence`, 'kind');
          if ((old.visitId ?? null) !== (input.visitId ?? null)) throw new DomainError('VALIDATION', 'A correction belongs to the same visit as the record it corrects', 'visitId');
          if ((old.disputeId ?? null) !== (input.disputeId ?? null)) throw new DomainError('VALIDATION', 'A correction belongs to the same dispute as the record it corrects', 'disputeId');
          if (old.sha256 === staged.sha256) throw new DomainError('VALIDATION', 'The file is identical to the one it would correct', 'file');
        }
        const evidence = await tx.evidence.create({
          data: {
            caseId: before.id,
            agencyId: before.assignedAgencyId,
            visitId: input.visitId ?? null,
            disputeId: dispute?.id ?? null,
            kind: input.kind,
            sha256: staged.sha256,
            sizeBytes: staged.size,
            contentType: type.contentType,
            fileName,
            description,
            capturedAt: input.capturedAt ?? null,
            uploadedById: actor.viewer.userId,
            uploadedAt: at,
            supersedesId: old?.id ?? null,
            idempotencyKey: key,
            requestHash: hash,
          },
        });
        const custody = { actorId: actor.viewer.userId, agencyId: before.assignedAgencyId, at, requestId: actor.requestId };
        await tx.evidenceCustody.create({
          data: { ...custody, evidenceId: evidence.id, action: 'UPLOADED', detail: `${fileName} (${type.contentType}, ${staged.size} bytes) uploaded by ${actor.viewer.role}` },
        });
        if (old) {
          await tx.evidenceCustody.create({
            data: { ...custody, evidenceId: old.id, action: 'SUPERSEDED', detail: `Superseded by ${fileName} (evidence ${evidence.id})` },
          });
        }
        const events: { type: string; summary: string; data: Record<string, string | null> }[] = [];
        if (dispute && input.kind === 'DEBT_VERIFICATION' && !dispute.verifiedAt) {
          // Regulation F: the verification is on the record; a written US dispute may now be resolved.
          await tx.dispute.update({ where: { id: dispute.id }, data: { verifiedAt: at, verificationEvidenceId: evidence.id } });
          events.push({ type: 'DISPUTE_VERIFIED', summary: 'Verification of the disputed debt recorded', data: { disputeId: dispute.id, evidenceId: evidence.id } });
        }
        // Last step of the transaction: a failure to store the bytes rolls the record back, so
        // there is never a record without its file.
        committed = await staged.commit();
        const event = old
          ? {
              type: 'EVIDENCE_SUPERSEDED',
              summary: `Evidence corrected: ${fileName} supersedes an earlier ${input.kind.toLowerCase().replace(/_/g, ' ')}.`,
              data: { evidenceId: evidence.id, supersedes: old.id, kind: input.kind },
            }
          : { type: 'EVIDENCE_UPLOADED', summary: `Evidence uploaded: ${fileName} (${input.kind}).`, data: { evidenceId: evidence.id, kind: input.kind } };
        return {
          result: { evidence, superseded: old },
          events: [event, ...events],
          auditData: {
            evidenceId: evidence.id,
            kind: input.kind,
            visitId: input.visitId ?? null,
            disputeId: dispute?.id ?? null,
            sha256: staged.sha256,
            sizeBytes: staged.size,
            contentType: type.contentType,
            supersedes: old?.id ?? null,
          },
        };
      },
    );
    return { evidence: out.evidence, superseded: out.superseded, case: out.case };
  } catch (err) {
    await undo(deps, staged, committed).catch((undoErr) => deps.logger?.error({ err: undoErr }, 'evidence: could not remove the bytes of a refused upload'));
    const errno = storeFault(err);
    if (errno) throw storeUnavailable(deps, err, errno);
    if (key && isUniqueViolation(err)) {
      // Two sends of one upload raced: the loser answers with the winner's record.
      const again = await replay();
      if (again) return again;
    }
    if ((err as { code?: string }).code === 'P2002' && input.supersedesId) {
      // Two corrections of one record raced: the unique supersedesId let one through.
      throw new DomainError('INVALID_TRANSITION', 'This evidence has already been superseded: correct its latest version', fields.supersedesField);
    }
    throw err;
  }
}

/**
 * The dispute a document belongs to: one of this case, of the viewer's era, still open. Dispute
 * documents need their dispute; a verification is the bank's (supervisor or admin) to record.
 */
async function disputeOf(tx: Tx, actor: Actor, caseId: string, input: Pick<UploadEvidenceInput, 'disputeId' | 'kind' | 'supersedesId'>) {
  const isDisputeKind = DISPUTE_KINDS.includes(input.kind);
  if (!input.disputeId) {
    if (isDisputeKind) throw new DomainError('VALIDATION', `${input.kind} evidence names its dispute`, 'disputeId');
    return null;
  }
  if (!isDisputeKind) throw new DomainError('VALIDATION', `A dispute's documents are DISPUTE_DOCUMENT or DEBT_VERIFICATION, not ${input.kind}`, 'kind');
  const dispute = await tx.dispute.findFirst({ where: { id: input.disputeId, caseId, ...agencyEra(actor.viewer) } });
  if (!dispute) throw new DomainError('NOT_FOUND', 'No such dispute on this case', 'disputeId');
  if (dispute.status !== 'OPEN' && !input.supersedesId) throw new DomainError('INVALID_TRANSITION', 'The dispute is resolved: documents attach to an open dispute', 'disputeId');
  if (input.kind === 'DEBT_VERIFICATION' && !VERIFIERS.includes(actor.viewer.role)) {
    throw new DomainError('FORBIDDEN_ACTION', 'Only the bank (a supervisor or admin) records the verification of a debt', 'kind');
  }
  return dispute;
}

/** Streams the upload into the store; a refusal there is a user error and leaves nothing behind. */
async function stage(deps: EvidenceDeps, file: UploadedFile): Promise<StagedBlob> {
  try {
    return await deps.blobs.put(file.stream(), { maxBytes: deps.maxBytes });
  } catch (err) {
    if (err instanceof BlobTooLargeError) {
      throw new DomainError('FILE_REJECTED', `The file is larger than the limit of ${megabytes(deps.maxBytes)}`, 'file', { maxBytes: deps.maxBytes });
    }
    if (err instanceof BlobInterruptedError) {
      throw new DomainError('FILE_REJECTED', 'The upload was interrupted before the end of the file; nothing was stored. Send it again.', 'file');
    }
    const errno = storeFault(err);
    if (errno) throw storeUnavailable(deps, err, errno);
    throw err;
  }
}

/**
 * After a refusal or a failure: the staged bytes go. If the transaction failed after the bytes
 * were moved under their key, they go too, unless the content was already there (shared by
 * another record: content-addressed) or a committed record now refers to it.
 */
async function undo(deps: EvidenceDeps, staged: StagedBlob, committed: { created: boolean } | null): Promise<void> {
  if (committed === null) {
    await staged.discard();
    return;
  }
  if (!committed.created) return;
  const referenced = await deps.prisma.evidence.count({ where: { sha256: staged.sha256 } }).catch(() => 1);
  if (referenced === 0) await staged.discard();
}
