/**
 * Skip tracing (issue 13, point 8): a new phone number or address found for a debtor, with its
 * source (the debtor, an agency's tracing, the bank's data, a public record) and whether the bank
 * has verified it. An agency adds to the cases it holds, in its own era (another agency never
 * sees what it found); the bank verifies. A wrong number or an address the debtor has moved away
 * from is marked, never deleted: the record of contact stays whole.
 *
 * Every write goes through the case it is made on (writeCase: the lock, the viewer's scope, the
 * timeline, the audit), so that an agency cannot reach a debtor through a case it does not hold.
 */
import type { Address, Case, ContactPoint, Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import type { AddressKind, ContactParty, ContactPointKind, ContactSource, VerificationStatus } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Actor } from '../../lib/actor.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { agencyEra } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import { writeCase, type CaseWriteDeps } from '../cases/write.ts';
import { normalizeContactValue } from '../cases/intake.ts';

/** Sources an agency may give: what it found, or what the debtor told it; the bank's data is the bank's. */
const AGENCY_SOURCES: readonly ContactSource[] = ['AGENCY_TRACE', 'DEBTOR', 'PUBLIC_RECORD'];
const MAX_NOTE = 500;

function note(value: string | null | undefined, field: string): string | null {
  const v = (value ?? '').trim();
  if (v.length > MAX_NOTE) throw new DomainError('VALIDATION', `${field}: at most ${MAX_NOTE} characters`, field);
  return v || null;
}

function text(value: string | null | undefined, field: string, max: number, required: boolean): string | null {
  const v = (value ?? '').trim();
  if (required && !v) throw new DomainError('VALIDATION', `${field} is required`, field);
  if (v.length > max) throw new DomainError('VALIDATION', `${field}: at most ${max} characters`, field);
  return v || null;
}

function checkSource(actor: Actor, source: ContactSource) {
  if (isAgencyRole(actor.viewer.role) && !AGENCY_SOURCES.includes(source)) {
    throw new DomainError('VALIDATION', `An agency records what it found (${AGENCY_SOURCES.join(', ')}), not ${source}`, 'source');
  }
}

/** The bank's own records count as verified; anything else waits for the bank. */
function initialVerification(actor: Actor, source: ContactSource): VerificationStatus {
  return !isAgencyRole(actor.viewer.role) && source === 'BANK_DATA' ? 'VERIFIED' : 'UNVERIFIED';
}

/** A contact point of the case's debtor that the viewer's era shows; anything else is not there. */
async function contactPointOf(tx: Tx, actor: Actor, debtorId: string, id: string): Promise<ContactPoint> {
  const cp = await tx.contactPoint.findFirst({ where: { id, debtorId, ...agencyEra(actor.viewer) } });
  if (!cp) throw new DomainError('NOT_FOUND', "No such contact point of the case's debtor", 'contactPointId');
  return cp;
}

async function addressOf(tx: Tx, actor: Actor, debtorId: string, id: string): Promise<Address> {
  const a = await tx.address.findFirst({ where: { id, debtorId, ...agencyEra(actor.viewer) } });
  if (!a) throw new DomainError('NOT_FOUND', "No such address of the case's debtor", 'addressId');
  return a;
}

/**
 * A contact point named by a viewer must be one its era shows: another agency's find is not
 * there (NOT_FOUND, as for a contact point of another debtor). Called before the contact policy
 * is asked about it (contactPermission, logContactAttempt, scheduleReminder).
 */
/** Where a traced phone or address came from, who added it on which case (its era), and its verification. */
function provenance(source: ContactSource, sourceNote: string | null, verification: VerificationStatus, before: Pick<Case, 'id' | 'assignedAgencyId'>, actor: Actor, now: Date) {
  return {
    source,
    sourceNote,
    verification,
    ...(verification === 'VERIFIED' ? { verifiedAt: now, verifiedById: actor.viewer.userId } : {}),
    agencyId: before.assignedAgencyId,
    addedOnCaseId: before.id,
    addedById: actor.viewer.userId,
    createdAt: now,
  };
}

export async function requireContactPointInEra(db: Tx | PrismaClient, actor: Actor | null, contactPointId: string | null | undefined): Promise<void> {
  if (!actor || !contactPointId) return;
  const era = agencyEra(actor.viewer);
  if (!era.OR) return;
  if (!(await db.contactPoint.count({ where: { id: contactPointId, ...era } }))) throw new DomainError('NOT_FOUND', "No such contact point of the case's debtor", 'contactPointId');
}

/** What marks a contact point as a wrong number: also written by logContactAttempt's WRONG_NUMBER outcome. */
export function wrongNumberMark(at: Date, now: Date, why: string | null): Prisma.ContactPointUncheckedUpdateInput {
  return { wrongNumberAt: at, wrongNumberNote: why, doNotContact: true, doNotContactAt: now, doNotContactReason: 'wrong number' };
}

// ---------------------------------------------------------------- contact points

export interface AddContactPointInput {
  caseId: string;
  kind: ContactPointKind;
  value: string;
  party?: ContactParty | null;
  relation?: string | null;
  source: ContactSource;
  sourceNote?: string | null;
  expectedVersion?: number | null;
}

export async function addContactPoint(deps: CaseWriteDeps, actor: Actor, input: AddContactPointInput) {
  checkSource(actor, input.source);
  const raw = text(input.value, 'value', 254, true)!;
  const value = normalizeContactValue(input.kind, raw);
  if (value === null) throw new DomainError('VALIDATION', `Not a valid ${input.kind.toLowerCase().replace('_', ' ')}`, 'value');
  const party = input.party ?? 'DEBTOR';
  const relation = text(input.relation, 'relation', 100, party === 'THIRD_PARTY');
  const sourceNote = note(input.sourceNote, 'sourceNote');
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'contactPoint.add' }, async ({ tx, now, before }) => {
    // A duplicate among what the viewer may see; another agency's find stays unknown to it.
    const same = await tx.contactPoint.findFirst({ where: { debtorId: before.debtorId, kind: input.kind, value, ...agencyEra(actor.viewer) }, select: { id: true } });
    if (same) throw new DomainError('DUPLICATE', 'The debtor already has this contact point', 'value');
    const verification = initialVerification(actor, input.source);
    const contactPoint = await tx.contactPoint.create({
      data: {
        debtorId: before.debtorId,
        kind: input.kind,
        party,
        relation: party === 'THIRD_PARTY' ? relation : null,
        value,
        ...provenance(input.source, sourceNote, verification, before, actor, now),
      },
    });
    return {
      result: { contactPoint },
      events: [{ type: 'CONTACT_POINT_ADDED', summary: `${input.kind.replace('_', ' ').toLowerCase()} added (${input.source}, ${verification.toLowerCase()})`, data: { contactPointId: contactPoint.id, source: input.source } }],
      auditData: { contactPointId: contactPoint.id, kind: input.kind, party, source: input.source, verification, after: { value, sourceNote } },
    };
  });
}

export async function verifyContactPoint(deps: CaseWriteDeps, actor: Actor, input: { caseId: string; contactPointId: string; status: VerificationStatus; note?: string | null }) {
  if (input.status === 'UNVERIFIED') throw new DomainError('VALIDATION', 'Verify as VERIFIED or REJECTED', 'status');
  const why = note(input.note, 'note');
  return writeCase(deps, actor, input.caseId, { action: 'contactPoint.verify' }, async ({ tx, now, before }) => {
    const cp = await contactPointOf(tx, actor, before.debtorId, input.contactPointId);
    if (cp.verification === input.status) throw new DomainError('INVALID_TRANSITION', `The contact point is already ${input.status.toLowerCase()}`, 'status');
    // A number that is not the debtor's is not contacted again (the policy's do-not-contact rule).
    const rejected = input.status === 'REJECTED' ? { doNotContact: true, doNotContactAt: now, doNotContactReason: 'not the debtor’s (rejected by the bank)' } : {};
    const contactPoint = await tx.contactPoint.update({ where: { id: cp.id }, data: { verification: input.status, verifiedAt: now, verifiedById: actor.viewer.userId, ...rejected } });
    return {
      result: { contactPoint },
      events: [{ type: 'CONTACT_POINT_VERIFIED', summary: `Contact point ${input.status.toLowerCase()} by the bank`, data: { contactPointId: cp.id, status: input.status } }],
      auditData: { contactPointId: cp.id, before: { verification: cp.verification, doNotContact: cp.doNotContact }, after: { verification: input.status, doNotContact: contactPoint.doNotContact } },
      reason: why,
    };
  });
}

export async function markContactPointWrongNumber(deps: CaseWriteDeps, actor: Actor, input: { caseId: string; contactPointId: string; note: string }) {
  const why = text(input.note, 'note', MAX_NOTE, true);
  return writeCase(deps, actor, input.caseId, { action: 'contactPoint.markWrongNumber' }, async ({ tx, now, before }) => {
    const cp = await contactPointOf(tx, actor, before.debtorId, input.contactPointId);
    if (cp.wrongNumberAt) throw new DomainError('INVALID_TRANSITION', 'The contact point is already marked a wrong number', 'contactPointId');
    const contactPoint = await tx.contactPoint.update({ where: { id: cp.id }, data: wrongNumberMark(now, now, why) });
    return {
      result: { contactPoint },
      events: [{ type: 'CONTACT_POINT_MARKED', summary: 'Wrong number: the contact point is no longer used', data: { contactPointId: cp.id } }],
      auditData: { contactPointId: cp.id, before: { wrongNumberAt: null, doNotContact: cp.doNotContact }, after: { wrongNumberAt: now.toISOString(), doNotContact: true } },
      reason: why,
    };
  });
}

// ---------------------------------------------------------------- addresses

export interface AddAddressInput {
  caseId: string;
  kind: AddressKind;
  line1: string;
  line2?: string | null;
  city: string;
  region: string;
  postalCode?: string | null;
  country?: string | null;
  source: ContactSource;
  sourceNote?: string | null;
  expectedVersion?: number | null;
}

export async function addAddress(deps: CaseWriteDeps, actor: Actor, input: AddAddressInput) {
  checkSource(actor, input.source);
  const line1 = text(input.line1, 'line1', 200, true)!;
  const line2 = text(input.line2, 'line2', 200, false);
  const city = text(input.city, 'city', 100, true)!;
  const region = text(input.region, 'region', 100, true)!;
  const postalCode = text(input.postalCode, 'postalCode', 20, false);
  const country = (text(input.country, 'country', 2, false) ?? 'CN').toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw new DomainError('VALIDATION', 'country: ISO 3166 alpha-2, e.g. CN', 'country');
  const sourceNote = note(input.sourceNote, 'sourceNote');
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'address.add' }, async ({ tx, now, before }) => {
    const same = await tx.address.findFirst({ where: { debtorId: before.debtorId, kind: input.kind, line1, line2, city, region, ...agencyEra(actor.viewer) }, select: { id: true } });
    if (same) throw new DomainError('DUPLICATE', 'The debtor already has this address', 'line1');
    const verification = initialVerification(actor, input.source);
    const address = await tx.address.create({
      data: {
        debtorId: before.debtorId,
        kind: input.kind,
        line1,
        line2,
        city,
        region,
        postalCode,
        country,
        ...provenance(input.source, sourceNote, verification, before, actor, now),
      },
    });
    return {
      result: { address },
      events: [{ type: 'ADDRESS_ADDED', summary: `${input.kind.toLowerCase()} address in ${city} added (${input.source}, ${verification.toLowerCase()})`, data: { addressId: address.id, source: input.source } }],
      auditData: { addressId: address.id, kind: input.kind, source: input.source, verification, after: { line1, line2, city, region, postalCode, country, sourceNote } },
    };
  });
}

export async function verifyAddress(deps: CaseWriteDeps, actor: Actor, input: { caseId: string; addressId: string; status: VerificationStatus; note?: string | null }) {
  if (input.status === 'UNVERIFIED') throw new DomainError('VALIDATION', 'Verify as VERIFIED or REJECTED', 'status');
  const why = note(input.note, 'note');
  return writeCase(deps, actor, input.caseId, { action: 'address.verify' }, async ({ tx, now, before }) => {
    const a = await addressOf(tx, actor, before.debtorId, input.addressId);
    if (a.verification === input.status) throw new DomainError('INVALID_TRANSITION', `The address is already ${input.status.toLowerCase()}`, 'status');
    const address = await tx.address.update({ where: { id: a.id }, data: { verification: input.status, verifiedAt: now, verifiedById: actor.viewer.userId } });
    return {
      result: { address },
      events: [{ type: 'ADDRESS_VERIFIED', summary: `Address ${input.status.toLowerCase()} by the bank`, data: { addressId: a.id, status: input.status } }],
      auditData: { addressId: a.id, before: { verification: a.verification }, after: { verification: input.status } },
      reason: why,
    };
  });
}

export async function markAddressMovedAway(deps: CaseWriteDeps, actor: Actor, input: { caseId: string; addressId: string; note: string }) {
  const why = text(input.note, 'note', MAX_NOTE, true);
  return writeCase(deps, actor, input.caseId, { action: 'address.markMovedAway' }, async ({ tx, now, before }) => {
    const a = await addressOf(tx, actor, before.debtorId, input.addressId);
    if (a.movedAwayAt) throw new DomainError('INVALID_TRANSITION', 'The address is already marked moved away', 'addressId');
    const address = await tx.address.update({ where: { id: a.id }, data: { movedAwayAt: now, movedAwayNote: why } });
    return {
      result: { address },
      events: [{ type: 'ADDRESS_MARKED', summary: 'Moved away: no visit or letter goes to this address', data: { addressId: a.id } }],
      auditData: { addressId: a.id, before: { movedAwayAt: null }, after: { movedAwayAt: now.toISOString() } },
      reason: why,
    };
  });
}

/** An address a visit or a letter may go to: not moved away from, not rejected by the bank. */
export function usableAddress(a: Pick<Address, 'movedAwayAt' | 'verification'>, field = 'addressId'): void {
  if (a.movedAwayAt) throw new DomainError('VALIDATION', 'The debtor has moved away from this address', field);
  if (a.verification === 'REJECTED') throw new DomainError('VALIDATION', 'The bank rejected this address as not the debtor’s', field);
}
