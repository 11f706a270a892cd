import { builder } from '../../builder.ts';
import { agencyEra, viaCase } from '../../auth/scopes.ts';
import { CustodyAction, EvidenceKind } from '../common/enums.ts';

// Uploads, corrections and `downloadUrl` are in mutations.ts (they need the blob store and the link key).
export const EvidenceRef = builder.prismaNode('Evidence', {
  nullable: true,
  id: { field: 'id' },
  description: 'A file tied to a case (and a visit): content-addressed, immutable; a correction supersedes it.',
  findUnique: (id, ctx) => ({ id, AND: [viaCase(ctx.viewer), agencyEra(ctx.viewer)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: EvidenceKind }),
    sha256: t.exposeString('sha256'),
    sizeBytes: t.exposeInt('sizeBytes'),
    contentType: t.exposeString('contentType'),
    fileName: t.exposeString('fileName'),
    description: t.exposeString('description'),
    capturedAt: t.expose('capturedAt', { type: 'DateTime', nullable: true }),
    uploadedAt: t.expose('uploadedAt', { type: 'DateTime' }),
    visit: t.relation('visit', { nullable: true }),
    supersedes: t.relation('supersedes', { nullable: true }),
    supersededBy: t.relation('supersededBy', { nullable: true }),
    custody: t.relation('custody', { description: 'Chain of custody: upload, supersession, every download.', query: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } }),
  }),
});

builder.prismaObject('EvidenceCustody', {
  fields: (t) => ({
    action: t.expose('action', { type: CustodyAction }),
    at: t.expose('at', { type: 'DateTime' }),
    detail: t.exposeString('detail'),
  }),
});
