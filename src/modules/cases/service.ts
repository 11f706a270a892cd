import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import type { Pii } from '../../lib/pii.ts';
import { DomainError } from '../../lib/errors.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { debtorVisibility } from '../../auth/scopes.ts';
import { recordAudit } from '../audit/service.ts';

export interface Deps {
  prisma: PrismaClient;
  clock: Clock;
  pii: Pii;
}

/** Roles that may see a full national ID number (DOMAIN.md: supervisors and admins reveal identity). */
export const REVEAL_ROLES = ['BANK_SUPERVISOR', 'BANK_ADMIN'] as const;

/**
 * The full national ID number, to a supervisor or admin with a stated reason. The audit event is
 * written in the same transaction before the number is returned: no reveal goes unrecorded.
 */
export async function revealDebtorIdentity(deps: Deps, actor: Actor, input: { debtorId: string; reason: string }) {
  const reason = input.reason.trim();
  if (reason.length < 10) throw new DomainError('VALIDATION', 'State the reason for the reveal (at least 10 characters)', 'reason');
  if (reason.length > 500) throw new DomainError('VALIDATION', 'reason is longer than 500 characters', 'reason');
  return deps.prisma.$transaction(async (tx) => {
    const debtor = await tx.debtor.findFirst({ where: { id: input.debtorId, ...debtorVisibility(actor.viewer) } });
    if (!debtor) throw new DomainError('NOT_FOUND', 'No such debtor', 'debtorId');
    const nationalId = deps.pii.decrypt(debtor.nationalIdCiphertext);
    await recordAudit(tx, auditActor(actor), deps.clock.now(), {
      action: 'debtor.revealIdentity',
      entityType: 'Debtor',
      entityId: debtor.id,
      reason,
      data: { field: 'nationalId' },
    });
    return { debtor, nationalId };
  });
}
