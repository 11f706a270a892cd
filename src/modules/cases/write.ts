import type { Prisma, PrismaClient, Case } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import { DomainError } from '../../lib/errors.ts';
import { actorLabel, auditActor, type Actor } from '../../lib/actor.ts';
import { caseVisibility } from '../../auth/scopes.ts';
import type { Tx } from '../../db/store.ts';
import { recordAudit } from '../audit/service.ts';
import type { EventBus } from '../../events/bus.ts';

/** How long a case write waits for another write to the same case before it is told RETRY. */
export const CASE_LOCK_WAIT_MS = 4000;

/** The stages in which a case is still worked; RESOLVED and CLOSED take no further writes. */
export const OPEN_STAGES = ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] as const;

/** Broken promises go back to the top of the collectors' queue (DOMAIN.md). */
export function attentionRank(status: Case['status']): number {
  return status === 'BROKEN_PROMISE' ? 0 : 1;
}

export function isEnded(c: Pick<Case, 'stage'>): boolean {
  return c.stage === 'RESOLVED' || c.stage === 'CLOSED';
}

export interface CaseEventInput {
  type: string;
  summary: string;
  data?: Prisma.InputJsonValue;
  /** When it happened, if not now: a step recorded offline (lib/field-time.ts). The timeline keeps both times. */
  occurredAt?: Date;
}

export interface CaseWriteDeps {
  prisma: PrismaClient;
  clock: Clock;
  events?: EventBus | undefined;
}

export interface CaseWriteOptions {
  /** The case's version as the caller last read it: a mismatch is STALE_VERSION. Optional for system writes. */
  expectedVersion?: number | null | undefined;
  /** Writes to an ended case are refused unless the operation says otherwise (e.g. recording a late payment is not). */
  allowEnded?: boolean;
  /** The viewer's visibility is checked unless a system job writes. */
  system?: boolean;
  /** The audit action of this write. */
  action: string;
  /** The input field of the case id, for user errors. */
  field?: string;
}

export interface CaseWriteContext {
  tx: Tx;
  now: Date;
  /** The case as it was when the transaction locked it. */
  before: Case;
  /** Adds a timeline entry (the agency holding the case is recorded with it). */
  event(e: CaseEventInput, agencyId?: string | null): Promise<void>;
  /** Adds an audit entry besides the one of the write itself. */
  audit(action: string, entityType: string, entityId: string | null, data?: Prisma.InputJsonValue, reason?: string | null): Promise<void>;
}

/**
 * Every write to a case goes through here (DOMAIN.md "Case lifecycle", API.md "Mutations"):
 * one transaction that locks the case row, checks that the viewer may see it (an invisible case
 * is NOT_FOUND, never a hint), that it is not ended, that `expectedVersion` matches; runs the
 * change; bumps the version; appends the timeline and audit events. A DomainError thrown
 * anywhere inside rolls everything back.
 */
export async function writeCase<T>(
  deps: CaseWriteDeps,
  actor: Actor | null,
  caseId: string,
  options: CaseWriteOptions,
  change: (w: CaseWriteContext) => Promise<{ result: T; data?: Prisma.CaseUncheckedUpdateInput; events?: CaseEventInput[]; auditData?: Prisma.InputJsonValue; reason?: string | null }>,
): Promise<T & { case: Case }> {
  const field = options.field ?? 'caseId';
  const out = await deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    // Lock the row: concurrent writers to one case queue here instead of losing an update. A wait
    // longer than CASE_LOCK_WAIT ends with lock_not_available (the client is told RETRY), before
    // the transaction's own 5 s timeout, which would leave the request hanging on the lock.
    await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${CASE_LOCK_WAIT_MS}ms'`);
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Case" WHERE id = ${caseId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new DomainError('NOT_FOUND', 'No such case', field);
    const visible = actor && !options.system ? caseVisibility(actor.viewer) : {};
    const before = await tx.case.findFirst({ where: { id: caseId, ...visible } });
    if (!before) throw new DomainError('NOT_FOUND', 'No such case', field);
    if (isEnded(before) && !options.allowEnded) {
      // Money received on a written-off case is a recovery (src/modules/legal), not a payment.
      const hint = before.status === 'WRITTEN_OFF' ? ' (written off: money received is recorded with recordRecovery)' : '';
      throw new DomainError('CASE_ENDED', `Case is ${before.stage.toLowerCase()} and takes no further writes${hint}`, field);
    }
    if (options.expectedVersion != null && options.expectedVersion !== before.version) {
      throw new DomainError('STALE_VERSION', `Case is at version ${before.version}, not ${options.expectedVersion}: reload and retry`, 'expectedVersion', {
        currentVersion: before.version,
      });
    }
    const label = actor ? actorLabel(actor) : 'system';
    const who = actor ? auditActor(actor) : { userId: null, role: null, agencyId: null, requestId: null };
    const w: CaseWriteContext = {
      tx,
      now,
      before,
      async event(e, agencyId) {
        await tx.caseEvent.create({
          data: {
            caseId,
            type: e.type,
            summary: e.summary,
            data: e.data ?? {},
            actorId: actor?.viewer.userId ?? null,
            actorLabel: label,
            agencyId: agencyId === undefined ? before.assignedAgencyId : agencyId,
            occurredAt: e.occurredAt ?? now,
            recordedAt: now,
            requestId: actor?.requestId ?? null,
          },
        });
      },
      async audit(action, entityType, entityId, data, reason) {
        await recordAudit(tx, who, now, { action, entityType, entityId, caseId, data: data ?? {}, reason: reason ?? null });
      },
    };
    const out = await change(w);
    const status = (out.data?.status as Case['status'] | undefined) ?? before.status;
    const updated = await tx.case.update({
      where: { id: caseId },
      data: { ...(out.data ?? {}), attentionRank: attentionRank(status), version: { increment: 1 } },
    });
    for (const e of out.events ?? []) await w.event(e, updated.assignedAgencyId ?? before.assignedAgencyId);
    await recordAudit(tx, who, now, {
      action: options.action,
      entityType: 'Case',
      entityId: caseId,
      caseId,
      data: out.auditData ?? {},
      reason: out.reason ?? null,
    });
    return { ...out.result, case: updated };
  });
  // The events are in the outbox (a trigger, same transaction): the relay announces them now.
  deps.events?.committed();
  return out;
}
