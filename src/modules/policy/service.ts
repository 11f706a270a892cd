import type { PrismaClient, Prisma } from '../../generated/prisma/client.ts';
import type { Jurisdiction } from '../../generated/prisma/enums.ts';
import { POLICY_PRESETS } from './presets.ts';
import { DomainError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { recordAudit } from '../audit/service.ts';

/** Anything that reads the policy table: the client, or a transaction (inside one, always pass the transaction: PGlite has one connection). */
type PolicyReader = Pick<PrismaClient, 'contactPolicy'>;

/** Creates the policy rows of the presets where a jurisdiction has none yet; existing rows are the policy and stay. */
export async function ensureContactPolicies(prisma: PolicyReader): Promise<void> {
  // One statement (this runs at every start): the presets that are missing; existing policies stay as they are.
  await prisma.contactPolicy.createMany({ data: Object.values(POLICY_PRESETS), skipDuplicates: true });
}

export async function getContactPolicy(
  prisma: PolicyReader,
  jurisdiction: Jurisdiction,
  query: { select?: Prisma.ContactPolicySelect } = {},
) {
  const row = await prisma.contactPolicy.findUnique({ ...query, where: { jurisdiction } });
  if (row) return row;
  await ensureContactPolicies(prisma);
  return prisma.contactPolicy.findUniqueOrThrow({ ...query, where: { jurisdiction } });
}

export interface UpdateContactPolicyInput {
  jurisdiction: Jurisdiction;
  expectedVersion?: number | null;
  contactHoursStart?: string | null;
  contactHoursEnd?: string | null;
  maxConnectedCallsPerDay?: number | null;
  maxAttemptsPerNumberPerDay?: number | null;
  maxCallAttemptsPer7Days?: number | null;
  quietDaysAfterConversation?: number | null;
  optOutLineRequired?: boolean | null;
  promiseGraceDays?: number | null;
  instalmentGraceDays?: number | null;
  maxPromiseDays?: number | null;
  maxDeferralDays?: number | null;
  settlementDiscountThresholdBps?: number | null;
  complaintResponseDays?: number | null;
  complaintResolutionDays?: number | null;
  retentionYears?: number | null;
  /** Names of the nullable figures to turn off (set to null): a rule is disabled only on purpose. */
  disable?: string[] | null;
  reason: string;
}

const NULLABLE_FIGURES = ['maxConnectedCallsPerDay', 'maxAttemptsPerNumberPerDay', 'maxCallAttemptsPer7Days', 'quietDaysAfterConversation'] as const;

function hhmmToMinutes(v: string, field: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(v.trim());
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || minutes > 1440) throw new DomainError('VALIDATION', `${field}: HH:MM between 00:00 and 24:00`, field);
  return minutes;
}

/**
 * The policy is data: a bank admin changes its figures, with a reason; the change and the
 * figures before and after go to the audit log in the same transaction.
 */
export async function updateContactPolicy(deps: { prisma: PrismaClient; clock: Clock }, actor: Actor, input: UpdateContactPolicyInput) {
  const reason = input.reason.trim();
  if (reason.length < 10) throw new DomainError('VALIDATION', 'State the reason for the change (at least 10 characters)', 'reason');
  await ensureContactPolicies(deps.prisma);
  return deps.prisma.$transaction(async (tx) => {
    const before = await tx.contactPolicy.findUniqueOrThrow({ where: { jurisdiction: input.jurisdiction } });
    if (input.expectedVersion != null && input.expectedVersion !== before.version) {
      throw new DomainError('STALE_VERSION', `The policy is at version ${before.version}`, 'expectedVersion');
    }
    const data: Prisma.ContactPolicyUpdateInput = {};
    const start = input.contactHoursStart != null ? hhmmToMinutes(input.contactHoursStart, 'contactHoursStart') : before.contactHoursStart;
    const end = input.contactHoursEnd != null ? hhmmToMinutes(input.contactHoursEnd, 'contactHoursEnd') : before.contactHoursEnd;
    if (start >= end) throw new DomainError('VALIDATION', 'Contact hours must start before they end', 'contactHoursEnd');
    data.contactHoursStart = start;
    data.contactHoursEnd = end;
    const ints: [keyof UpdateContactPolicyInput & keyof Prisma.ContactPolicyUpdateInput, number, number][] = [
      ['maxConnectedCallsPerDay', 0, 50],
      ['maxAttemptsPerNumberPerDay', 0, 50],
      ['maxCallAttemptsPer7Days', 0, 100],
      ['quietDaysAfterConversation', 0, 30],
      ['promiseGraceDays', 0, 30],
      ['instalmentGraceDays', 0, 30],
      ['maxPromiseDays', 1, 365],
      ['maxDeferralDays', 1, 365],
      ['settlementDiscountThresholdBps', 0, 10_000],
      ['complaintResponseDays', 1, 90],
      ['complaintResolutionDays', 1, 180],
      ['retentionYears', 1, 30],
    ];
    for (const [field, min, max] of ints) {
      const v = input[field];
      if (v == null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new DomainError('VALIDATION', `${field}: a whole number from ${min} to ${max}`, field);
      (data as Record<string, unknown>)[field] = v;
    }
    for (const name of input.disable ?? []) {
      if (!(NULLABLE_FIGURES as readonly string[]).includes(name)) throw new DomainError('VALIDATION', `${name} cannot be disabled`, 'disable');
      (data as Record<string, unknown>)[name] = null;
    }
    if (input.optOutLineRequired != null) data.optOutLineRequired = input.optOutLineRequired;
    const response = (data.complaintResponseDays as number | undefined) ?? before.complaintResponseDays;
    const resolution = (data.complaintResolutionDays as number | undefined) ?? before.complaintResolutionDays;
    if (response > resolution) throw new DomainError('VALIDATION', 'A complaint is answered before it is closed: complaintResponseDays ≤ complaintResolutionDays', 'complaintResolutionDays');
    const updated = await tx.contactPolicy.update({ where: { id: before.id }, data: { ...data, version: { increment: 1 }, updatedById: actor.viewer.userId } });
    const changed = Object.fromEntries(
      Object.keys(data)
        .filter((k) => (before as Record<string, unknown>)[k] !== (updated as Record<string, unknown>)[k])
        .map((k) => [k, { from: (before as Record<string, unknown>)[k] ?? null, to: (updated as Record<string, unknown>)[k] ?? null }]),
    ) as Prisma.InputJsonValue;
    await recordAudit(tx, auditActor(actor), deps.clock.now(), {
      action: 'policy.update',
      entityType: 'ContactPolicy',
      entityId: updated.id,
      reason,
      data: { jurisdiction: input.jurisdiction, changed },
    });
    return { policy: updated };
  });
}
