/**
 * Disputes (DOMAIN.md "Care, complaints and disputes"; issue 13 point 3). A dispute of the debt
 * or its amount holds the case: it owns a DISPUTE hold (a hold placed by a contact whose outcome
 * was DISPUTE is taken over, not doubled), and the hold is what stops contact (the contact
 * policy's CASE_ON_HOLD) and visits; releaseCaseHold does not release it, only resolveDispute
 * does. Documents are evidence uploaded with the dispute's id (DISPUTE_DOCUMENT; the bank's
 * DEBT_VERIFICATION). US debtors: a dispute in writing stops collection of the disputed amount
 * until the bank has recorded its verification (Regulation F, 12 CFR 1006.34; FDCPA 809(b)):
 * such a dispute cannot be resolved as VERIFIED or ADJUSTED, nor its hold lifted, before then.
 */
import type { DisputeOutcome, DisputeReason } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Actor } from '../../lib/actor.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import { writeCase } from '../cases/write.ts';
import { activeHoldWhere } from '../cases/queries.ts';
import type { CareDeps } from './optouts.ts';

export const MAX_DISPUTE_TEXT = 4000;
/** Who resolves disputes: the bank's supervisors and admins. */
export const DISPUTE_RESOLVERS = ['BANK_ADMIN', 'BANK_SUPERVISOR'] as const;

function text(value: string | null | undefined, field: string): string {
  const v = (value ?? '').trim();
  if (!v) throw new DomainError('VALIDATION', `Give the ${field}`, field);
  if (v.length > MAX_DISPUTE_TEXT) throw new DomainError('VALIDATION', `${field}: at most ${MAX_DISPUTE_TEXT} characters`, field);
  return v;
}

function amountOf(value: number, field: string): bigint {
  if (!Number.isSafeInteger(value) || value <= 0) throw new DomainError('VALIDATION', `${field} must be a whole number of minor units above zero`, field);
  return BigInt(value);
}

export interface OpenDisputeInput {
  caseId: string;
  reason: DisputeReason;
  description: string;
  /** The part disputed, minor units; default all of it. */
  amountDisputed?: number | null;
  currency?: string | null;
  /** Received in writing (a letter, an e-mail, a form). */
  inWriting?: boolean | null;
  expectedVersion?: number | null;
}

export async function openDispute(deps: CareDeps, actor: Actor, input: OpenDisputeInput) {
  const description = text(input.description, 'description');
  const amount = input.amountDisputed == null ? null : amountOf(input.amountDisputed, 'amountDisputed');
  return writeCase(deps, actor, input.caseId, { action: 'dispute.open', expectedVersion: input.expectedVersion }, async ({ tx, now, before }) => {
    if (input.currency && input.currency !== before.currency) throw new DomainError('VALIDATION', `The case is in ${before.currency}, not ${input.currency}`, 'currency');
    if (amount !== null && amount > before.overdueTotal) throw new DomainError('VALIDATION', `The case owes ${before.overdueTotal}; the disputed amount cannot exceed it`, 'amountDisputed');
    if (await tx.dispute.count({ where: { caseId: before.id, status: 'OPEN' } })) throw new DomainError('INVALID_TRANSITION', 'The case already has an open dispute: add documents to it', 'caseId');
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true } });
    const verificationRequired = debtor.jurisdiction === 'US' && input.inWriting === true;
    // The hold a contact outcome DISPUTE placed is this dispute's: taken over, not doubled.
    const adopted = await tx.hold.findFirst({ where: { caseId: before.id, reason: 'DISPUTE', dispute: null, ...activeHoldWhere(now) }, orderBy: { startsAt: 'asc' } });
    const hold =
      adopted ??
      (await tx.hold.create({ data: { caseId: before.id, agencyId: before.assignedAgencyId, reason: 'DISPUTE', note: `dispute: ${input.reason.toLowerCase().replace(/_/g, ' ')}`, startsAt: now, placedById: actor.viewer.userId } }));
    const dispute = await tx.dispute.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        reason: input.reason,
        description,
        amountDisputed: amount,
        currency: before.currency,
        inWriting: input.inWriting === true,
        verificationRequired,
        holdId: hold.id,
        openedById: actor.viewer.userId,
        openedAt: now,
      },
    });
    const events = [
      {
        type: 'DISPUTE_OPENED',
        summary: `Dispute (${input.reason.toLowerCase().replace(/_/g, ' ')}${amount !== null ? `, ${amount} disputed` : ''})${verificationRequired ? ': in writing, collection stops until verification is sent' : ''}`,
        data: { disputeId: dispute.id, holdId: hold.id, reason: input.reason, amountDisputed: amount === null ? null : `${amount}`, verificationRequired },
      },
    ];
    if (!adopted) events.push({ type: 'HOLD_PLACED', summary: 'On hold: DISPUTE', data: { disputeId: dispute.id, holdId: hold.id, reason: input.reason, amountDisputed: null, verificationRequired } });
    return {
      result: { dispute },
      events,
      auditData: { disputeId: dispute.id, holdId: hold.id, adoptedHold: adopted !== null, reason: input.reason, amountDisputed: amount === null ? null : `${amount}`, inWriting: input.inWriting === true, verificationRequired },
    };
  });
}

export interface ResolveDisputeInput {
  disputeId: string;
  outcome: DisputeOutcome;
  /** ADJUSTED: what comes off the debt, minor units (fees first, then interest, then principal). */
  adjustment?: number | null;
  note: string;
  expectedVersion?: number | null;
}

/** The bank resolves a dispute: the hold is released, and an ADJUSTED outcome reduces the debt. Audited with the amounts before and after. */
export async function resolveDispute(deps: CareDeps, actor: Actor, input: ResolveDisputeInput) {
  const note = text(input.note, 'note');
  const found = await deps.prisma.dispute.findFirst({ where: { id: input.disputeId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) }, select: { id: true, caseId: true } });
  if (!found) throw new DomainError('NOT_FOUND', 'No such dispute', 'disputeId');
  if (input.outcome === 'ADJUSTED' && input.adjustment == null) throw new DomainError('VALIDATION', 'An ADJUSTED outcome says by how much', 'adjustment');
  if (input.outcome !== 'ADJUSTED' && input.adjustment != null) throw new DomainError('VALIDATION', 'Only an ADJUSTED outcome changes the amount', 'adjustment');
  const adjustment = input.adjustment == null ? 0n : amountOf(input.adjustment, 'adjustment');
  return writeCase(deps, actor, found.caseId, { action: 'dispute.resolve', field: 'disputeId', expectedVersion: input.expectedVersion }, async ({ tx, now, before }) => {
    const dispute = await tx.dispute.findUniqueOrThrow({ where: { id: found.id } });
    if (dispute.status !== 'OPEN') throw new DomainError('INVALID_TRANSITION', 'The dispute is already resolved', 'disputeId');
    if (dispute.verificationRequired && !dispute.verifiedAt && input.outcome !== 'WITHDRAWN') {
      throw new DomainError('VERIFICATION_REQUIRED', 'A written dispute of a US debtor: record the verification sent to the debtor (a DEBT_VERIFICATION document on the dispute) before collection resumes', 'disputeId');
    }
    if (adjustment >= before.overdueTotal) {
      throw new DomainError('VALIDATION', `The case owes ${before.overdueTotal}: an adjustment leaves something owed (to cancel the whole debt, resolve and close the case)`, 'adjustment');
    }
    if (dispute.amountDisputed !== null && adjustment > dispute.amountDisputed) throw new DomainError('VALIDATION', `Only ${dispute.amountDisputed} was disputed`, 'adjustment');
    let rest = adjustment;
    const take = (part: bigint) => {
      const t = rest < part ? rest : part;
      rest -= t;
      return part - t;
    };
    const fees = take(before.fees);
    const interest = take(before.interest);
    const principal = take(before.principal);
    const balances = { principal, interest, fees, overdueTotal: principal + interest + fees };
    const resolved = await tx.dispute.update({ where: { id: dispute.id }, data: { status: 'RESOLVED', outcome: input.outcome, adjustment, resolutionNote: note, resolvedAt: now, resolvedById: actor.viewer.userId } });
    if (dispute.holdId) await tx.hold.updateMany({ where: { id: dispute.holdId, releasedAt: null }, data: { releasedAt: now, releasedById: actor.viewer.userId } });
    const amounts = (c: { principal: bigint; interest: bigint; fees: bigint; overdueTotal: bigint }) => ({ principal: `${c.principal}`, interest: `${c.interest}`, fees: `${c.fees}`, overdue: `${c.overdueTotal}` });
    return {
      result: { dispute: resolved },
      data: adjustment > 0n ? balances : {},
      events: [
        {
          type: 'DISPUTE_RESOLVED',
          summary: `Dispute resolved: ${input.outcome.toLowerCase()}${adjustment > 0n ? `, ${adjustment} taken off the debt` : ''}; the hold is released`,
          data: { disputeId: dispute.id, outcome: input.outcome, adjustment: `${adjustment}`, holdId: dispute.holdId },
        },
      ],
      auditData: { disputeId: dispute.id, outcome: input.outcome, adjustment: `${adjustment}`, before: amounts(before), after: amounts(adjustment > 0n ? balances : before) },
      reason: note,
    };
  });
}
