import { builder } from '../../builder.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { readDossier } from '../visitpack/dossier.ts';
import { VisitDossierRef } from '../visitpack/dossier-schema.ts';
import { agencyEra, inAgencyEra, viaCase, visibleRecords } from '../../auth/scopes.ts';
import { ContactAttemptRef } from '../contact/schema.ts';
import { DelinquencyReason, PlanKind, VisitDecision, VisitMaterial, VisitOutcome, VisitStatus } from '../common/enums.ts';

export const VisitRef = builder.prismaNode('Visit', {
  nullable: true,
  id: { field: 'id' },
  description: 'A home or work visit, in the five steps of the source: dossier, preparation, on site, evidence, follow-up.',
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.Visit(ctx.viewer)] }),
  fields: (t) => ({
    status: t.expose('status', { type: VisitStatus }),
    address: t.relation('address'),
    purpose: t.exposeString('purpose'),
    dossier: t.field({
      type: VisitDossierRef,
      description: 'Step 1: what the visit needs, compiled from the case when planned and frozen with the visit. An agency reads the agency form, in its era.',
      resolve: (v, _a, ctx) => readDossier(v.dossier, { agency: isAgencyRole(ctx.viewer.role), agencyId: ctx.viewer.agencyId }),
    }),
    // A consent another agency recorded on this (bank-era) visit is not there for this viewer.
    consent: t.field({
      type: VisitConsentRef,
      nullable: true,
      select: (_a, _c, nested) => ({ consent: nested(true) }),
      resolve: (v, _a, ctx) => inAgencyEra(ctx.viewer, v.consent),
    }),
    windowStart: t.expose('windowStart', { type: 'DateTime', nullable: true }),
    windowEnd: t.expose('windowEnd', { type: 'DateTime', nullable: true }),
    materials: t.field({ type: [VisitMaterial], description: 'What the collectors bring.', resolve: (v) => v.materials }),
    participants: t.relation('participants', {
      description: 'Collectors named for the visit: those named in the viewer’s era.',
      query: (_a, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: { id: 'asc' } }),
    }),
    checkedInAt: t.expose('checkedInAt', { type: 'DateTime', nullable: true, description: 'When the collectors checked in (the field device’s time when recorded offline).' }),
    checkInRecordedAt: t.expose('checkInRecordedAt', { type: 'DateTime', nullable: true, description: 'When the server recorded the check-in.' }),
    delinquencyReason: t.expose('delinquencyReason', { type: DelinquencyReason, nullable: true }),
    delinquencyReasonText: t.exposeString('delinquencyReasonText', { nullable: true }),
    consequencesExplained: t.exposeBoolean('consequencesExplained', { nullable: true }),
    plansOffered: t.field({ type: [PlanKind], resolve: (v) => v.plansOffered }),
    outcome: t.expose('outcome', { type: VisitOutcome, nullable: true }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When the outcome happened (the field device’s time when recorded offline).' }),
    completionRecordedAt: t.expose('completionRecordedAt', { type: 'DateTime', nullable: true, description: 'When the server recorded the outcome.' }),
    report: t.exposeString('report', { nullable: true }),
    reportedAt: t.expose('reportedAt', { type: 'DateTime', nullable: true }),
    decision: t.expose('decision', { type: VisitDecision, nullable: true }),
    graceUntil: t.expose('graceUntil', { type: 'Date', nullable: true }),
    decisionNote: t.exposeString('decisionNote', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    cancelReason: t.exposeString('cancelReason', { nullable: true }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    version: t.exposeInt('version'),
    evidence: t.relatedConnection('evidence', { cursor: 'id', totalCount: true, query: (_args, ctx) => ({ where: agencyEra(ctx.viewer), orderBy: [{ uploadedAt: 'desc' }, { id: 'desc' }] }) }),
  }),
});

builder.prismaObject('VisitParticipant', {
  description: 'A collector named for a visit, with the work credential checked at scheduling and shown on site.',
  fields: (t) => ({
    user: t.relation('user'),
    credentialNumber: t.exposeString('credentialNumber'),
    credentialExpiresOn: t.expose('credentialExpiresOn', { type: 'Date' }),
    credentialShownAt: t.expose('credentialShownAt', { type: 'DateTime', nullable: true }),
    credentialShownNumber: t.exposeString('credentialShownNumber', { nullable: true }),
  }),
});

export const VisitConsentRef = builder.prismaNode('VisitConsent', {
  nullable: true,
  id: { field: 'id' },
  description: "The debtor's consent to a visit, obtained through a contact attempt, for a window.",
  findUnique: (id, ctx) => ({ id, AND: [visibleRecords.VisitConsent(ctx.viewer)] }),
  fields: (t) => ({
    contactAttempt: t.field({
      type: ContactAttemptRef,
      nullable: true,
      description: 'The contact that obtained it; null when of another agency’s era.',
      select: (_a, _c, nested) => ({ contactAttempt: nested(true) }),
      resolve: (c, _a, ctx) => inAgencyEra(ctx.viewer, c.contactAttempt),
    }),
    windowStart: t.expose('windowStart', { type: 'DateTime' }),
    windowEnd: t.expose('windowEnd', { type: 'DateTime' }),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
    withdrawnAt: t.expose('withdrawnAt', { type: 'DateTime', nullable: true }),
  }),
});
