import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import type { Actor } from '../../lib/actor.ts';
import type { UserError } from '../../lib/errors.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { Case as CaseShape, Evidence as EvidenceShape } from '../../generated/prisma/client.ts';
import { UserErrorRef, withUserErrors } from '../common/schema.ts';
import { EvidenceKind } from '../common/enums.ts';
import { CaseRef } from '../cases/schema.ts';
import { VisitRef } from '../visits/schema.ts';
import { EvidenceRef } from './schema.ts';
import { MAX_LINK_TTL_MS, evidenceDownloadUrl } from './download.ts';
import { MAX_DESCRIPTION_LENGTH, supersedeEvidence, uploadEvidence, type EvidenceDeps, type EvidenceSettings } from './service.ts';

// DOMAIN.md "The people": every role but the auditor may add evidence (visibility applies).
const WRITERS: Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

const actorOf = (ctx: Context): Actor => ({ viewer: ctx.viewer, requestId: ctx.requestId });

function settingsOf(ctx: Context): EvidenceSettings {
  if (!ctx.evidence) throw new Error('Evidence is not configured: AppDeps.evidence is set by bootstrap');
  return ctx.evidence;
}

function depsOf(ctx: Context): EvidenceDeps {
  const s = settingsOf(ctx);
  return { prisma: ctx.prisma, clock: ctx.clock, events: ctx.events, blobs: s.blobs, maxBytes: s.maxBytes, logger: ctx.logger };
}

builder.objectField(EvidenceRef, 'downloadUrl', (t) =>
  t.string({
    description: `A link that downloads the file, for this viewer only, valid ${MAX_LINK_TTL_MS / 60_000} minutes. Access is checked again when it is followed; every download is recorded in the custody.`,
    resolve: (evidence, _args, ctx) => {
      const s = settingsOf(ctx);
      return evidenceDownloadUrl(s.publicUrl, s.signingKey, evidence.id, ctx.viewer.userId, ctx.clock.now(), MAX_LINK_TTL_MS);
    },
  }),
);

const UploadEvidenceInput = builder.inputType('UploadEvidenceInput', {
  description: 'Sent with the GraphQL multipart request spec: `file` is a part of the request.',
  fields: (t) => ({
    caseId: t.globalID({ for: [CaseRef] }),
    visitId: t.globalID({ for: [VisitRef], required: false, description: 'A visit of this case (checked in or later) the evidence comes from.' }),
    disputeId: t.globalID({ required: false, description: 'An open dispute of this case: DISPUTE_DOCUMENT (the debtor\'s evidence) or DEBT_VERIFICATION (the bank\'s verification; supervisors and admins).' }),
    kind: t.field({ type: EvidenceKind }),
    file: t.field({
      type: 'File',
      description:
        'PDF, JPEG or PNG for letters, statements, agreements and notes; JPEG, PNG or WebP for photos; MP3, M4A or WAV for audio; MP4 for video. The type is read from the content. At most ARREARS_EVIDENCE_MAX_BYTES (25 MB by default).',
    }),
    capturedAt: t.field({ type: 'DateTime', required: false, description: 'When the photo, recording or signature was made; not in the future.' }),
    description: t.string({ required: false, description: `At most ${MAX_DESCRIPTION_LENGTH} characters.` }),
    expectedVersion: t.int({ required: false }),
    idempotencyKey: t.string({ required: false, description: 'Optional: the same key stores the upload once; a retry of the same file replays it.' }),
  }),
});

const SupersedeEvidenceInput = builder.inputType('SupersedeEvidenceInput', {
  description: 'A corrected version of a record: same case, kind and visit. The record corrected stays, linked to the new one.',
  fields: (t) => ({
    evidenceId: t.globalID({ for: [EvidenceRef], description: 'The record this one corrects; not already superseded.' }),
    file: t.field({ type: 'File' }),
    description: t.string({ required: false, description: 'Default: the description of the record corrected.' }),
    capturedAt: t.field({ type: 'DateTime', required: false }),
    expectedVersion: t.int({ required: false, description: "The case's version." }),
  }),
});

type Written = { evidence?: EvidenceShape | null; superseded?: EvidenceShape | null; case?: CaseShape | null; userErrors: UserError[] };

const UploadEvidencePayload = builder.objectRef<Written>('UploadEvidencePayload').implement({
  fields: (t) => ({
    evidence: t.field({ type: EvidenceRef, nullable: true, resolve: (p) => p.evidence ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

const SupersedeEvidencePayload = builder.objectRef<Written>('SupersedeEvidencePayload').implement({
  fields: (t) => ({
    evidence: t.field({ type: EvidenceRef, nullable: true, description: 'The new, corrected record.', resolve: (p) => p.evidence ?? null }),
    superseded: t.field({ type: EvidenceRef, nullable: true, description: 'The record corrected: unchanged, now superseded.', resolve: (p) => p.superseded ?? null }),
    case: t.field({ type: CaseRef, nullable: true, resolve: (p) => p.case ?? null }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  uploadEvidence: t.field({
    type: UploadEvidencePayload,
    description: 'Attaches a file to a case (and a visit of it): type read from the bytes, size limited, SHA-256 recorded, stored content-addressed and immutable.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: UploadEvidenceInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        uploadEvidence(depsOf(ctx), actorOf(ctx), {
          caseId: input.caseId.id,
          visitId: input.visitId?.id ?? null,
          disputeId: input.disputeId ? (input.disputeId.typename === 'Dispute' ? input.disputeId.id : '00000000-0000-0000-0000-000000000000') : null,
          kind: input.kind,
          file: input.file,
          capturedAt: input.capturedAt ?? null,
          description: input.description ?? null,
          expectedVersion: input.expectedVersion ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
        }),
      ),
  }),
  supersedeEvidence: t.field({
    type: SupersedeEvidencePayload,
    description: 'Adds a corrected version of a record; the record corrected stays, its `supersededBy` pointing to the new one.',
    authScopes: { role: WRITERS },
    args: { input: t.arg({ type: SupersedeEvidenceInput }) },
    resolve: (_r, { input }, ctx) =>
      withUserErrors(() =>
        supersedeEvidence(depsOf(ctx), actorOf(ctx), {
          evidenceId: input.evidenceId.id,
          file: input.file,
          description: input.description ?? null,
          capturedAt: input.capturedAt ?? null,
          expectedVersion: input.expectedVersion ?? null,
        }),
      ),
  }),
}));
