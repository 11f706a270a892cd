import type { CaseStage, CloseReason, HoldReason, RecallReason, Role } from '../../generated/prisma/enums.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import { DomainError } from '../../lib/errors.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import type { Actor } from '../../lib/actor.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { activeHoldWhere } from './queries.ts';
import { writeCase, type CaseWriteDeps } from './write.ts';
import type { Tx } from '../../db/store.ts';

/**
 * Stage transitions (DOMAIN.md, "Case lifecycle"): forward one step at a time; a supervisor may
 * step FIELD_VISIT back to EARLY_REMINDER; RESOLVED comes by itself when paid in full; CLOSED is
 * closeCase's. Each allowed move names the roles that may make it.
 */
export const STAGE_TRANSITIONS: Record<string, readonly Role[]> = {
  'EARLY_REMINDER->FIELD_VISIT': ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR'],
  // Handing a case to litigation is the bank's decision.
  'FIELD_VISIT->LEGAL': ['BANK_ADMIN', 'BANK_SUPERVISOR'],
  'FIELD_VISIT->EARLY_REMINDER': ['BANK_ADMIN', 'BANK_SUPERVISOR'],
};

export function stageTransitionAllowed(from: CaseStage, to: CaseStage, role: Role): 'ok' | 'invalid' | 'forbidden' {
  const roles = STAGE_TRANSITIONS[`${from}->${to}`];
  if (!roles) return 'invalid';
  return roles.includes(role) ? 'ok' : 'forbidden';
}

export async function changeCaseStage(
  deps: CaseWriteDeps,
  actor: Actor,
  input: { caseId: string; stage: CaseStage; reason?: string | null; expectedVersion?: number | null },
) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.changeStage' }, async ({ before }) => {
    if (input.stage === 'RESOLVED' || input.stage === 'CLOSED') {
      throw new DomainError('INVALID_TRANSITION', input.stage === 'CLOSED' ? 'Close a case with closeCase' : 'A case is resolved by itself when paid in full', 'stage');
    }
    const verdict = stageTransitionAllowed(before.stage, input.stage, actor.viewer.role);
    if (verdict === 'invalid') throw new DomainError('INVALID_TRANSITION', `A case cannot go from ${before.stage} to ${input.stage}`, 'stage');
    if (verdict === 'forbidden') throw new DomainError('FORBIDDEN_ACTION', `${actor.viewer.role} may not move a case from ${before.stage} to ${input.stage}`, 'stage');
    return {
      result: {},
      data: { stage: input.stage },
      events: [{ type: 'STAGE_CHANGED', summary: `Stage ${before.stage} → ${input.stage}`, data: { from: before.stage, to: input.stage, reason: input.reason ?? null } }],
      auditData: { from: before.stage, to: input.stage },
      reason: input.reason ?? null,
    };
  });
}

export async function closeCase(
  deps: CaseWriteDeps,
  actor: Actor,
  input: { caseId: string; reason: CloseReason; note?: string | null; expectedVersion?: number | null },
) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.close' }, async ({ tx, now, before }) => {
    if (input.reason === 'PAID_IN_FULL' && before.overdueTotal > 0n) {
      throw new DomainError('VALIDATION', `The case still owes ${before.overdueTotal} minor units: it is not paid in full`, 'reason');
    }
    // A write-off is maker-checker (src/modules/legal): proposeWriteOff, then another person's approveWriteOff.
    if (input.reason === 'WRITTEN_OFF') throw new DomainError('APPROVAL_REQUIRED', 'A write-off is proposed (proposeWriteOff) and approved by another person (approveWriteOff)', 'reason');
    const cancelled = { count: (await stopCaseWork(tx, before.id, now, actor.viewer.userId, 'case closed')).remindersCancelled };
    const status = input.reason === 'PAID_IN_FULL' || input.reason === 'SETTLED' ? 'PAID' : before.status;
    return {
      result: {},
      data: { stage: 'CLOSED', status, closedAt: now, closeReason: input.reason },
      events: [{ type: 'CASE_CLOSED', summary: `Closed: ${input.reason}`, data: { reason: input.reason, note: input.note ?? null, remindersCancelled: cancelled.count } }],
      auditData: { reason: input.reason, from: before.stage },
      reason: input.note ?? null,
    };
  });
}

/** An ending case: its current placement ends and all contact still scheduled stops. */
export async function stopCaseWork(tx: Tx, caseId: string, now: Date, userId: string | null, why: string): Promise<{ remindersCancelled: number }> {
  await tx.placement.updateMany({ where: { caseId, endedAt: null }, data: { endedAt: now, endedById: userId } });
  const cancelled = await tx.reminder.updateMany({ where: { caseId, status: 'SCHEDULED' }, data: { status: 'CANCELLED', cancelledAt: now, lastError: why } });
  return { remindersCancelled: cancelled.count };
}

export async function holdCase(
  deps: CaseWriteDeps,
  actor: Actor,
  input: { caseId: string; reason: HoldReason; note?: string | null; endsAt?: Date | null; expectedVersion?: number | null },
) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.hold' }, async ({ tx, now, before }) => {
    if (input.endsAt && input.endsAt <= now) throw new DomainError('VALIDATION', 'endsAt must be in the future', 'endsAt');
    const active = await tx.hold.findFirst({ where: { caseId: before.id, ...activeHoldWhere(now) } });
    if (active) throw new DomainError('INVALID_TRANSITION', `The case is already on hold (${active.reason})`, 'caseId');
    const hold = await tx.hold.create({
      data: { caseId: before.id, agencyId: before.assignedAgencyId, reason: input.reason, note: input.note?.trim() ?? '', startsAt: now, endsAt: input.endsAt ?? null, placedById: actor.viewer.userId },
    });
    return {
      result: { hold },
      events: [{ type: 'HOLD_PLACED', summary: `On hold: ${input.reason}${input.endsAt ? ` until ${input.endsAt.toISOString()}` : ''}`, data: { holdId: hold.id, reason: input.reason } }],
      auditData: { holdId: hold.id, reason: input.reason, endsAt: input.endsAt?.toISOString() ?? null },
      reason: input.note ?? null,
    };
  });
}

export async function releaseCaseHold(
  deps: CaseWriteDeps,
  actor: Actor,
  input: { caseId: string; note?: string | null; expectedVersion?: number | null },
) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.releaseHold' }, async ({ tx, now, before }) => {
    // A hold of an open dispute is the dispute's: resolveDispute releases it (DOMAIN.md "Disputes").
    const active = await tx.hold.findFirst({ where: { caseId: before.id, AND: [activeHoldWhere(now), { OR: [{ dispute: null }, { dispute: { status: { not: 'OPEN' } } }] }] } });
    if (!active) {
      const disputed = await tx.hold.count({ where: { caseId: before.id, ...activeHoldWhere(now) } });
      throw new DomainError('INVALID_TRANSITION', disputed ? 'The case is held by an open dispute: resolveDispute releases it' : 'The case is not on hold', 'caseId');
    }
    const hold = await tx.hold.update({ where: { id: active.id }, data: { releasedAt: now, releasedById: actor.viewer.userId } });
    return {
      result: { hold },
      events: [{ type: 'HOLD_RELEASED', summary: `Hold released (${active.reason})`, data: { holdId: hold.id } }],
      auditData: { holdId: hold.id },
      reason: input.note ?? null,
    };
  });
}

export interface AssignCaseInput {
  caseId: string;
  agencyId?: string | null;
  collectorId?: string | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  expectedVersion?: number | null;
}

/**
 * Places a case with an agency (optionally a collector of it) or with a bank collector; an agency
 * manager assigns within their own agency. Each assignment is a placement row: the history.
 */
export async function assignCase(deps: CaseWriteDeps, actor: Actor, input: AssignCaseInput) {
  const v = actor.viewer;
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.assign' }, async ({ tx, now, before }) => {
    const startsAt = input.startsAt ?? now;
    if (input.endsAt && input.endsAt <= startsAt) throw new DomainError('VALIDATION', 'The placement must end after it starts', 'endsAt');
    if (!input.agencyId && !input.collectorId) throw new DomainError('VALIDATION', 'Name an agency, a collector, or both', 'agencyId');

    let agencyId = input.agencyId ?? null;
    if (isAgencyRole(v.role)) {
      // A manager works inside their agency only: the case is theirs already (writeCase saw it), so is the collector.
      if (agencyId && agencyId !== v.agencyId) throw new DomainError('FORBIDDEN_ACTION', 'An agency assigns only within itself', 'agencyId');
      agencyId = v.agencyId;
      if (!input.collectorId) throw new DomainError('VALIDATION', 'Name the collector', 'collectorId');
    } else if (agencyId) {
      const agency = await tx.agency.findUnique({ where: { id: agencyId } });
      if (!agency) throw new DomainError('NOT_FOUND', 'No such agency', 'agencyId');
      if (agency.status !== 'ACTIVE') throw new DomainError('VALIDATION', 'The agency is suspended', 'agencyId');
      if (before.assignedAgencyId && before.assignedAgencyId !== agencyId) {
        throw new DomainError('INVALID_TRANSITION', 'The case is placed with another agency: recall it first', 'agencyId');
      }
    }

    let collector: { id: string; fullName: string } | null = null;
    if (input.collectorId) {
      const user = await tx.user.findUnique({ where: { id: input.collectorId } });
      if (!user || (isAgencyRole(v.role) && user.agencyId !== v.agencyId)) throw new DomainError('NOT_FOUND', 'No such collector', 'collectorId');
      if (!user.active) throw new DomainError('VALIDATION', 'The collector is inactive', 'collectorId');
      if (agencyId) {
        if (user.agencyId !== agencyId || (user.role !== 'AGENCY_COLLECTOR' && user.role !== 'AGENCY_MANAGER')) {
          throw new DomainError('VALIDATION', "The collector does not work for the case's agency", 'collectorId');
        }
      } else if (user.role !== 'BANK_COLLECTOR' && user.role !== 'BANK_SUPERVISOR') {
        throw new DomainError('VALIDATION', 'A case kept by the bank goes to a bank collector', 'collectorId');
      }
      collector = { id: user.id, fullName: user.fullName };
    }

    const current = await tx.placement.findFirst({ where: { caseId: before.id, endedAt: null }, orderBy: { startsAt: 'desc' } });
    if (current && current.agencyId === agencyId && current.collectorId === (collector?.id ?? null) && !input.endsAt) {
      throw new DomainError('INVALID_TRANSITION', 'The case is already placed so', 'collectorId');
    }
    if (current) await tx.placement.update({ where: { id: current.id }, data: { endedAt: now, endedById: v.userId } });
    // Within the same agency the agreed end of the placement carries over unless changed.
    const endsAt = input.endsAt ?? (current && current.agencyId === agencyId ? current.endsAt : null);
    const placement = await tx.placement.create({
      data: { caseId: before.id, kind: agencyId ? 'AGENCY' : 'BANK', agencyId, collectorId: collector?.id ?? null, startsAt, endsAt, assignedById: v.userId },
    });
    const data: Prisma.CaseUncheckedUpdateInput = { assignedAgencyId: agencyId, assignedCollectorId: collector?.id ?? null };
    return {
      result: { placement },
      data,
      events: [
        {
          type: 'CASE_ASSIGNED',
          summary: `Assigned to ${[agencyId ? 'agency' : 'the bank', collector?.fullName].filter(Boolean).join(', ')}`,
          data: { placementId: placement.id, agencyId, collectorId: collector?.id ?? null, endsAt: endsAt?.toISOString() ?? null },
        },
      ],
      auditData: { placementId: placement.id, agencyId, collectorId: collector?.id ?? null, from: { agencyId: before.assignedAgencyId, collectorId: before.assignedCollectorId } },
    };
  });
}

/** Takes a case back from its agency (or bank collector) at once: the placement ends, every path closes. */
export async function recallCase(
  deps: CaseWriteDeps,
  actor: Actor | null,
  input: { caseId: string; reason: RecallReason; note?: string | null; expectedVersion?: number | null },
  options: { system?: boolean } = {},
) {
  return writeCase(deps, actor, input.caseId, { expectedVersion: input.expectedVersion, action: 'case.recall', system: options.system ?? false }, async ({ tx, now, before }) => {
    const current = await tx.placement.findFirst({ where: { caseId: before.id, endedAt: null }, orderBy: { startsAt: 'desc' } });
    if (!current && !before.assignedAgencyId && !before.assignedCollectorId) throw new DomainError('INVALID_TRANSITION', 'The case is not placed', 'caseId');
    if (current) {
      await tx.placement.update({
        where: { id: current.id },
        data: { endedAt: now, recallReason: input.reason, recallNote: input.note ?? null, endedById: actor?.viewer.userId ?? null },
      });
    }
    return {
      result: { placement: current },
      data: { assignedAgencyId: null, assignedCollectorId: null },
      events: [
        {
          type: 'CASE_RECALLED',
          summary: `Recalled: ${input.reason}`,
          data: { reason: input.reason, note: input.note ?? null, agencyId: before.assignedAgencyId, collectorId: before.assignedCollectorId },
        },
      ],
      auditData: { reason: input.reason, agencyId: before.assignedAgencyId, collectorId: before.assignedCollectorId, caseNumber: formatCaseNumber(before.caseNo) },
      reason: input.note ?? null,
    };
  });
}
