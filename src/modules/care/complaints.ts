/**
 * Complaints (DOMAIN.md "Care, complaints and disputes"; issue 13 point 2): recorded against the
 * bank, an agency or a collector, with a category; answered within the jurisdiction's deadlines,
 * figures of the contact policy (`complaintResponseDays`, `complaintResolutionDays`); OPEN →
 * INVESTIGATING (the first response) → UPHELD / NOT_UPHELD with findings. The bank investigates
 * and decides; an overdue complaint escalates (the complaint-escalation job).
 */
import type { ComplaintAgainst, ComplaintCategory, ComplaintChannel } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Actor } from '../../lib/actor.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import { isAgencyRole } from '../../auth/viewer.ts';
import { writeCase } from '../cases/write.ts';
import { getContactPolicy } from '../policy/service.ts';
import type { CareDeps } from './optouts.ts';

const DAY = 86_400_000;
export const MAX_COMPLAINT_TEXT = 4000;
/** Who investigates and decides complaints: the bank's supervisors and admins. */
export const COMPLAINT_HANDLERS = ['BANK_ADMIN', 'BANK_SUPERVISOR'] as const;
/** A complaint received this long ago may still be recorded (one that came by letter, late). */
const MAX_RECEIVED_AGE_DAYS = 90;

function text(value: string | null | undefined, field: string): string {
  const v = (value ?? '').trim();
  if (!v) throw new DomainError('VALIDATION', `Give the ${field}`, field);
  if (v.length > MAX_COMPLAINT_TEXT) throw new DomainError('VALIDATION', `${field}: at most ${MAX_COMPLAINT_TEXT} characters`, field);
  return v;
}

export interface RecordComplaintInput {
  caseId: string;
  channel: ComplaintChannel;
  category: ComplaintCategory;
  against: ComplaintAgainst;
  /** AGENCY: default the case's agency. COLLECTOR: default the case's collector. */
  collectorId?: string | null;
  description: string;
  /** When it reached us; default now. */
  receivedAt?: Date | null;
}

export async function recordComplaint(deps: CareDeps, actor: Actor, input: RecordComplaintInput) {
  const description = text(input.description, 'description');
  const now = deps.clock.now();
  const receivedAt = input.receivedAt ?? now;
  if (receivedAt.getTime() > now.getTime() + 60_000) throw new DomainError('VALIDATION', 'receivedAt is in the future', 'receivedAt');
  if (now.getTime() - receivedAt.getTime() > MAX_RECEIVED_AGE_DAYS * DAY) throw new DomainError('VALIDATION', `receivedAt: within the last ${MAX_RECEIVED_AGE_DAYS} days`, 'receivedAt');
  // A complaint about a closed case is a complaint all the same.
  return writeCase(deps, actor, input.caseId, { action: 'complaint.record', allowEnded: true }, async ({ tx, now: at, before }) => {
    let againstAgencyId: string | null = null;
    let againstUserId: string | null = null;
    if (input.against === 'AGENCY') {
      if (!before.assignedAgencyId) throw new DomainError('VALIDATION', 'The case is not with an agency: record the complaint against the bank or a collector', 'against');
      againstAgencyId = before.assignedAgencyId;
    } else if (input.against === 'COLLECTOR') {
      const userId = input.collectorId ?? before.assignedCollectorId;
      if (!userId) throw new DomainError('VALIDATION', 'Name the collector complained about', 'collectorId');
      const user = await tx.user.findUnique({ where: { id: userId }, select: { id: true, agencyId: true, role: true } });
      // An agency names only its own people; anyone else is, for it, no one.
      if (!user || (isAgencyRole(actor.viewer.role) && user.agencyId !== actor.viewer.agencyId)) throw new DomainError('NOT_FOUND', 'No such collector', 'collectorId');
      againstUserId = user.id;
      againstAgencyId = user.agencyId;
    } else if (input.collectorId) {
      throw new DomainError('VALIDATION', 'A complaint against the bank names no collector', 'collectorId');
    }
    const debtor = await tx.debtor.findUniqueOrThrow({ where: { id: before.debtorId }, select: { jurisdiction: true } });
    const policy = await getContactPolicy(tx, debtor.jurisdiction);
    const complaint = await tx.complaint.create({
      data: {
        caseId: before.id,
        agencyId: before.assignedAgencyId,
        channel: input.channel,
        category: input.category,
        against: input.against,
        againstAgencyId,
        againstUserId,
        description,
        receivedAt,
        responseDueAt: new Date(receivedAt.getTime() + policy.complaintResponseDays * DAY),
        resolutionDueAt: new Date(receivedAt.getTime() + policy.complaintResolutionDays * DAY),
        recordedById: actor.viewer.userId,
        createdAt: at,
      },
    });
    return {
      result: { complaint },
      events: [
        {
          type: 'COMPLAINT_RECORDED',
          summary: `Complaint (${input.category.toLowerCase().replace(/_/g, ' ')}) against the ${input.against.toLowerCase()}, by ${input.channel.toLowerCase().replace('_', ' ')}: answer by ${complaint.responseDueAt.toISOString().slice(0, 10)}`,
          data: { complaintId: complaint.id, category: input.category, against: input.against },
        },
      ],
      auditData: { complaintId: complaint.id, category: input.category, against: input.against, againstAgencyId, againstUserId, responseDueAt: complaint.responseDueAt.toISOString(), resolutionDueAt: complaint.resolutionDueAt.toISOString() },
    };
  });
}

async function complaintFor(deps: CareDeps, actor: Actor, complaintId: string) {
  const c = await deps.prisma.complaint.findFirst({ where: { id: complaintId, case: caseVisibility(actor.viewer), ...agencyEra(actor.viewer) }, select: { id: true, caseId: true } });
  if (!c) throw new DomainError('NOT_FOUND', 'No such complaint', 'complaintId');
  return c;
}

/** OPEN → INVESTIGATING, with the first response to the complainant. */
export async function startComplaintInvestigation(deps: CareDeps, actor: Actor, input: { complaintId: string; response: string }) {
  const response = text(input.response, 'response');
  const found = await complaintFor(deps, actor, input.complaintId);
  return writeCase(deps, actor, found.caseId, { action: 'complaint.investigate', allowEnded: true, field: 'complaintId' }, async ({ tx, now }) => {
    const before = await tx.complaint.findUniqueOrThrow({ where: { id: found.id } });
    if (before.status !== 'OPEN') throw new DomainError('INVALID_TRANSITION', `The complaint is ${before.status}, not OPEN`, 'complaintId');
    const complaint = await tx.complaint.update({ where: { id: found.id }, data: { status: 'INVESTIGATING', respondedAt: now, response } });
    const late = now > before.responseDueAt;
    return {
      result: { complaint },
      events: [{ type: 'COMPLAINT_INVESTIGATING', summary: `Complaint under investigation: first response given${late ? ' (after its deadline)' : ''}`, data: { complaintId: found.id } }],
      auditData: { complaintId: found.id, before: { status: before.status }, after: { status: complaint.status }, late },
    };
  });
}

/** INVESTIGATING → UPHELD / NOT_UPHELD, with the findings. */
export async function decideComplaint(deps: CareDeps, actor: Actor, input: { complaintId: string; upheld: boolean; findings: string }) {
  const findings = text(input.findings, 'findings');
  const found = await complaintFor(deps, actor, input.complaintId);
  return writeCase(deps, actor, found.caseId, { action: 'complaint.decide', allowEnded: true, field: 'complaintId' }, async ({ tx, now }) => {
    const before = await tx.complaint.findUniqueOrThrow({ where: { id: found.id } });
    if (before.status !== 'INVESTIGATING') throw new DomainError('INVALID_TRANSITION', `The complaint is ${before.status}: it is decided after an investigation`, 'complaintId');
    const status = input.upheld ? 'UPHELD' : 'NOT_UPHELD';
    const complaint = await tx.complaint.update({ where: { id: found.id }, data: { status, findings, decidedAt: now, decidedById: actor.viewer.userId } });
    return {
      result: { complaint },
      events: [{ type: 'COMPLAINT_DECIDED', summary: `Complaint ${input.upheld ? 'upheld' : 'not upheld'}`, data: { complaintId: found.id, status } }],
      auditData: { complaintId: found.id, before: { status: before.status }, after: { status }, late: now > before.resolutionDueAt },
      reason: findings,
    };
  });
}

/** The escalation level a complaint should be at now: 1 when its response is overdue, 2 when its resolution is. */
export function escalationLevelAt(c: { status: string; respondedAt: Date | null; responseDueAt: Date; resolutionDueAt: Date }, now: Date): number {
  if (c.status !== 'OPEN' && c.status !== 'INVESTIGATING') return 0;
  if (now >= c.resolutionDueAt) return 2;
  if (c.respondedAt === null && now >= c.responseDueAt) return 1;
  return 0;
}

class NoChange extends Error {}

/**
 * Complaints past a deadline escalate: their level goes up, with a timeline entry and an audit
 * entry that the bank's complaint desk reads. Idempotent: a re-run finds nothing new.
 */
export async function escalateOverdueComplaints(deps: CareDeps & { logger?: { warn(o: object, m: string): void } }): Promise<{ escalated: number; failed: number }> {
  const now = deps.clock.now();
  const due = await deps.prisma.complaint.findMany({
    where: {
      status: { in: ['OPEN', 'INVESTIGATING'] },
      OR: [
        { escalationLevel: { lt: 2 }, resolutionDueAt: { lte: now } },
        { escalationLevel: { lt: 1 }, respondedAt: null, responseDueAt: { lte: now } },
      ],
    },
    select: { id: true, caseId: true },
  });
  let escalated = 0;
  let failed = 0;
  for (const c of due) {
    try {
      await writeCase(deps, null, c.caseId, { system: true, allowEnded: true, action: 'complaint.escalate' }, async ({ tx }) => {
        const row = await tx.complaint.findUniqueOrThrow({ where: { id: c.id } });
        const level = escalationLevelAt(row, now);
        if (level <= row.escalationLevel) throw new NoChange(); // answered or decided since it was read: roll back
        await tx.complaint.update({ where: { id: c.id }, data: { escalationLevel: level, escalatedAt: now } });
        escalated++;
        return {
          result: {},
          events: [
            {
              type: 'COMPLAINT_ESCALATED',
              summary: level === 2 ? `Complaint not closed by its deadline (${row.resolutionDueAt.toISOString().slice(0, 10)}): escalated` : `Complaint not answered by its deadline (${row.responseDueAt.toISOString().slice(0, 10)}): escalated`,
              data: { complaintId: c.id, level },
            },
          ],
          auditData: { complaintId: c.id, before: { escalationLevel: row.escalationLevel }, after: { escalationLevel: level } },
        };
      });
    } catch (err) {
      if (err instanceof NoChange) continue;
      failed++;
      deps.logger?.warn({ complaintId: c.id, err: (err as Error).message }, 'complaint escalation failed; the next run retries it');
    }
  }
  return { escalated, failed };
}
