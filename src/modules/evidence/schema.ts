import { builder } from '../../builder.ts';
import { agencyEra, inAgencyEra, viaCase, visibleRecords } from '../../auth/scopes.ts';
import { VisitRef } from '../visits/schema.ts';
import { CustodyAction, EvidenceKind } from '../common/enums.ts';

// Uploads, corrections and `downloadUrl` are in mutations.ts (they need the blob store and the link key).
export const EvidenceRef = builder.prismaNode('Evidence', {
  nullable: true,
  id: { field: 'id' },
  description: 'A file tied to a case (and a visit): content-addressed, immutable; a correction supersedes it.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Evidence(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: EvidenceKind }),
    sha256: t.exposeString('sha256'),
    sizeBytes: t.exposeInt('sizeBytes'),
    contentType: t.exposeString('contentType'),
    fileName: t.exposeString('fileName'),
    description: t.exposeString('description'),
    capturedAt: t.expose('capturedAt', { type: 'DateTime', nullable: true }),
    uploadedAt: t.expose('uploadedAt', { type: 'DateTime' }),
    // Links to records of another agency's era answer null: as if nothing were there.
    visit: t.field({
      type: VisitRef,
      nullable: true,
      select: (_a, _c, nested) => ({ visit: nested(true) }),
      resolve: (e, _a, ctx) => inAgencyEra(ctx.viewer, e.visit),
    }),
    custody: t.relation('custody', {
      description: 'Chain of custody: upload, supersession, every download (those of the viewer’s era).',
      query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ at: 'asc' }, { id: 'asc' }] }),
    }),
  }),
});

// The corrections, apart: fields typed by the type they are declared on.
builder.prismaObjectFields(EvidenceRef, (t) => ({
  supersedes: t.field({
    type: EvidenceRef,
    nullable: true,
    select: (_a, _c, nested) => ({ supersedes: nested(true) }),
    resolve: (e, _a, ctx) => inAgencyEra(ctx.viewer, e.supersedes),
  }),
  supersededBy: t.field({
    type: EvidenceRef,
    nullable: true,
    select: (_a, _c, nested) => ({ supersededBy: nested(true) }),
    resolve: (e, _a, ctx) => inAgencyEra(ctx.viewer, e.supersededBy),
  }),
}));

builder.prismaObject('EvidenceCustody', {
  fields: (t) => ({
    action: t.expose('action', { type: CustodyAction }),
    at: t.expose('at', { type: 'DateTime' }),
    detail: t.exposeString('detail'),
  }),
});
