import type { Prisma } from '../../generated/prisma/client.ts';
import type { Role } from '../../generated/prisma/enums.ts';
import type { Tx } from '../../db/store.ts';

export interface AuditActor {
  userId: string | null;
  role: Role | null;
  agencyId: string | null;
  requestId: string | null;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  caseId?: string | null;
  reason?: string | null;
  data?: Prisma.InputJsonValue;
}

/** Appends one audit event inside the caller's transaction: the write and its record commit together or not at all. */
export async function recordAudit(tx: Tx, actor: AuditActor, at: Date, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      at,
      actorId: actor.userId,
      actorRole: actor.role,
      agencyId: actor.agencyId,
      requestId: actor.requestId,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId ?? null,
      caseId: entry.caseId ?? null,
      reason: entry.reason ?? null,
      data: entry.data ?? {},
    },
  });
}

export function auditEventsWhere(
  filter: { actorId?: string | null; agencyId?: string | null; caseId?: string | null; action?: string | null; from?: Date | null; to?: Date | null } | null | undefined,
): Prisma.AuditEventWhereInput {
  if (!filter) return {};
  const at: Prisma.DateTimeFilter = {};
  if (filter.from) at.gte = filter.from;
  if (filter.to) at.lt = filter.to;
  return {
    ...(filter.actorId ? { actorId: filter.actorId } : {}),
    ...(filter.agencyId ? { agencyId: filter.agencyId } : {}),
    ...(filter.caseId ? { caseId: filter.caseId } : {}),
    ...(filter.action ? { action: filter.action } : {}),
    ...(filter.from || filter.to ? { at } : {}),
  };
}
