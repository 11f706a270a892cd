import type { Prisma } from '../generated/prisma/client.ts';
import type { Role } from '../generated/prisma/enums.ts';
import { isAgencyRole, type Viewer } from './viewer.ts';

/**
 * Which cases a viewer sees (DOMAIN.md, "The people"). This one rule serves every path:
 * `caseVisibility` filters queries (connections, counts, node, search), `canSeeCase` checks a
 * loaded case (subscriptions, downloads, and the Case type's own guard).
 */
export function caseVisibility(viewer: Viewer): Prisma.CaseWhereInput {
  switch (viewer.role) {
    case 'BANK_ADMIN':
    case 'BANK_SUPERVISOR':
    case 'AUDITOR':
      return {};
    case 'BANK_COLLECTOR':
      return { assignedCollectorId: viewer.userId };
    case 'AGENCY_MANAGER':
      return { assignedAgencyId: requireAgency(viewer) };
    case 'AGENCY_COLLECTOR':
      return { assignedAgencyId: requireAgency(viewer), assignedCollectorId: viewer.userId };
  }
}

export function canSeeCase(
  viewer: Viewer,
  c: { assignedAgencyId: string | null; assignedCollectorId: string | null },
): boolean {
  switch (viewer.role) {
    case 'BANK_ADMIN':
    case 'BANK_SUPERVISOR':
    case 'AUDITOR':
      return true;
    case 'BANK_COLLECTOR':
      return c.assignedCollectorId === viewer.userId;
    case 'AGENCY_MANAGER':
      return viewer.agencyId !== null && c.assignedAgencyId === viewer.agencyId;
    case 'AGENCY_COLLECTOR':
      return viewer.agencyId !== null && c.assignedAgencyId === viewer.agencyId && c.assignedCollectorId === viewer.userId;
  }
}

/** Records that hang off a case are visible when their case is. */
export function viaCase(viewer: Viewer): { case: Prisma.CaseWhereInput } {
  return { case: caseVisibility(viewer) };
}

/** Agencies a viewer sees: the bank sees all; an agency principal only its own. */
export function agencyVisibility(viewer: Viewer): Prisma.AgencyWhereInput {
  return isAgencyRole(viewer.role) ? { id: requireAgency(viewer) } : {};
}

/** Users a viewer sees: the bank sees all; an agency principal only its own agency's people. */
export function userVisibility(viewer: Viewer): Prisma.UserWhereInput {
  return isAgencyRole(viewer.role) ? { agencyId: requireAgency(viewer) } : {};
}

/** Debtors a viewer sees: those with at least one case the viewer sees. */
export function debtorVisibility(viewer: Viewer): Prisma.DebtorWhereInput {
  const cases = caseVisibility(viewer);
  return Object.keys(cases).length === 0 ? {} : { cases: { some: cases } };
}

/**
 * The records of a case an agency sees: those made while the bank held it or while the agency
 * itself held it (each record keeps `agencyId`, the agency holding the case when it was made,
 * derived records included: consents, corrections, custody entries, allocation lines,
 * instalments, visit participants). Another agency's era of the same case never shows: an agency
 * does not learn that another agency worked the case. Bank staff see every era.
 *
 * One rule in two forms: `agencyEra` filters queries (connections, counts, node, writes that
 * name a record), `inAgencyEra` checks a loaded record (a to-one field pointing at a record of
 * another era answers null, as if nothing were there).
 */
export function agencyEra(viewer: Viewer): { OR?: ({ agencyId: null } | { agencyId: string })[] } {
  const own = eraAgency(viewer);
  return own === ALL_ERAS ? {} : { OR: [{ agencyId: null }, { agencyId: own }] };
}

/** Who reads strategies (src/modules/strategy): their segments, rules, assignments, risk scores and timeline entries are the bank's internals. */
export const STRATEGY_READERS: readonly Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'AUDITOR'];
/** Timeline entries a strategy writes: seen only by strategy readers. */
export const STRATEGY_EVENT_TYPES = ['STRATEGY_SEGMENT_ASSIGNED', 'STRATEGY_SEGMENT_ENDED'];

/** The timeline entries a viewer sees: those of its era, and strategy entries only for strategy readers. */
export function caseEventVisibility(viewer: Viewer): Prisma.CaseEventWhereInput {
  const era = agencyEra(viewer);
  return STRATEGY_READERS.includes(viewer.role) ? era : { AND: [era, { type: { notIn: STRATEGY_EVENT_TYPES } }] };
}

export function inAgencyEra<T extends { agencyId: string | null }>(viewer: Viewer, record: T | null | undefined): T | null {
  if (!record) return null;
  const own = eraAgency(viewer);
  return own === ALL_ERAS || record.agencyId === null || record.agencyId === own ? record : null;
}

/** The agency whose era a viewer sees besides the bank's; null for bank staff, who see every era. */
export function eraAgencyOf(viewer: Viewer): string | null {
  const own = eraAgency(viewer);
  return own === ALL_ERAS ? null : own;
}

const ALL_ERAS = Symbol('every era');

/** Whose era besides the bank's a viewer sees: an agency principal its agency's, bank staff all. */
function eraAgency(viewer: Viewer): string | typeof ALL_ERAS {
  return isAgencyRole(viewer.role) ? requireAgency(viewer) : ALL_ERAS;
}

function requireAgency(viewer: Viewer): string {
  // An agency principal without an agency sees nothing: an id that matches no row.
  return viewer.agencyId ?? '00000000-0000-0000-0000-000000000000';
}

/**
 * Which records of each kind a viewer may see: the rule behind `node(id)`, `nodes(ids)` and page
 * cursors alike (src/modules/common/cursors.ts), so that a record the viewer may not see is, by
 * every path, simply not there.
 */
export const visibleRecords = {
  Case: (v: Viewer): Prisma.CaseWhereInput => caseVisibility(v),
  Debtor: (v: Viewer): Prisma.DebtorWhereInput => debtorVisibility(v),
  // A contact point or address an agency traced is of its era: another agency never sees it.
  ContactPoint: (v: Viewer): Prisma.ContactPointWhereInput => ({ AND: [{ debtor: debtorVisibility(v) }, agencyEra(v)] }),
  Address: (v: Viewer): Prisma.AddressWhereInput => ({ AND: [{ debtor: debtorVisibility(v) }, agencyEra(v)] }),
  CardAccount: (v: Viewer): Prisma.CardAccountWhereInput => ({ cases: { some: caseVisibility(v) } }),
  Agency: (v: Viewer): Prisma.AgencyWhereInput => agencyVisibility(v),
  User: (v: Viewer): Prisma.UserWhereInput => userVisibility(v),
  Placement: (v: Viewer): Prisma.PlacementWhereInput => ({ AND: [agencyEra(v), viaCase(v)] }),
  CaseEvent: (v: Viewer): Prisma.CaseEventWhereInput => ({ AND: [caseEventVisibility(v), viaCase(v)] }),
  Hold: (v: Viewer): Prisma.HoldWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Reminder: (v: Viewer): Prisma.ReminderWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  ContactAttempt: (v: Viewer): Prisma.ContactAttemptWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  VisitConsent: (v: Viewer): Prisma.VisitConsentWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Visit: (v: Viewer): Prisma.VisitWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Evidence: (v: Viewer): Prisma.EvidenceWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  PromiseToPay: (v: Viewer): Prisma.PromiseToPayWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  RepaymentPlan: (v: Viewer): Prisma.RepaymentPlanWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Instalment: (v: Viewer): Prisma.InstalmentWhereInput => ({ AND: [agencyEra(v), { plan: viaCase(v) }] }),
  Payment: (v: Viewer): Prisma.PaymentWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  LetterDispatch: (v: Viewer): Prisma.LetterDispatchWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  ContactOptOut: (v: Viewer): Prisma.ContactOptOutWhereInput => ({ AND: [{ debtor: debtorVisibility(v) }, agencyEra(v)] }),
  Complaint: (v: Viewer): Prisma.ComplaintWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Dispute: (v: Viewer): Prisma.DisputeWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  // The visit pack (issue 18): printed documents and signatures are the visit's.
  VisitDocument: (v: Viewer): Prisma.VisitDocumentWhereInput => ({ AND: [{ visit: { AND: [viaCase(v), agencyEra(v)] } }, agencyEra(v)] }),
  VisitSignature: (v: Viewer): Prisma.VisitSignatureWhereInput => ({ AND: [{ visit: { AND: [viaCase(v), agencyEra(v)] } }, agencyEra(v)] }),
  /** An export is personal: its requester's only (it holds what they could see). */
  Export: (v: Viewer): Prisma.ExportWhereInput => ({ requestedById: v.userId }),
  // Commission (src/modules/commission): the bank's managers and auditors see every agency's; an agency manager its own.
  CommissionSchedule: (v: Viewer): Prisma.CommissionScheduleWhereInput => commissionVisibility(v),
  CommissionStatement: (v: Viewer): Prisma.CommissionStatementWhereInput => commissionVisibility(v),
  CommissionLine: (v: Viewer): Prisma.CommissionLineWhereInput => ({ statement: commissionVisibility(v) }),
  CommissionDispute: (v: Viewer): Prisma.CommissionDisputeWhereInput => ({ line: { statement: commissionVisibility(v) } }),
  // Legal referrals and write-offs (src/modules/legal): records of a case, of the viewer's era.
  LegalReferral: (v: Viewer): Prisma.LegalReferralWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  LegalHearing: (v: Viewer): Prisma.LegalHearingWhereInput => ({ AND: [agencyEra(v), { referral: viaCase(v) }] }),
  WriteOff: (v: Viewer): Prisma.WriteOffWhereInput => ({ AND: [viaCase(v), agencyEra(v)] }),
  Recovery: (v: Viewer): Prisma.RecoveryWhereInput => ({ AND: [agencyEra(v), { writeOff: viaCase(v) }] }),
};

/**
 * Commission is money between the bank and an agency: bank admins, supervisors and auditors see
 * every agency's; an agency manager its own agency's; collectors (bank or agency) none.
 */
export function commissionVisibility(viewer: Viewer): { agencyId?: string } {
  switch (viewer.role) {
    case 'BANK_ADMIN':
    case 'BANK_SUPERVISOR':
    case 'AUDITOR':
      return {};
    case 'AGENCY_MANAGER':
      return { agencyId: requireAgency(viewer) };
    default:
      return { agencyId: '00000000-0000-0000-0000-000000000000' };
  }
}

/** The scope map handed to scope-auth: `role` is a scope taking the list of roles allowed. */
export function authScopeMap(viewer: Viewer | null) {
  return {
    authenticated: viewer !== null,
    bank: viewer !== null && !isAgencyRole(viewer.role),
    writer: viewer !== null && viewer.role !== 'AUDITOR',
    role: (roles: Role[]) => viewer !== null && roles.includes(viewer.role),
  };
}
