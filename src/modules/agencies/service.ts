import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { AgencyStatus, Role } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import { DomainError } from '../../lib/errors.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { recordAudit } from '../audit/service.ts';
import { AGENCY_ROLES, type Viewer } from '../../auth/viewer.ts';
import { caseVisibility } from '../../auth/scopes.ts';
import { newApiKey } from '../../auth/tokens.ts';

export interface Deps {
  prisma: PrismaClient;
  clock: Clock;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function text(value: string, field: string, max = 200): string {
  const v = value.trim();
  if (v.length === 0) throw new DomainError('VALIDATION', `${field} must not be empty`, field);
  if (v.length > max) throw new DomainError('VALIDATION', `${field} is longer than ${max} characters`, field);
  return v;
}

export interface CreateAgencyInput {
  code: string;
  name: string;
  licenseNumber: string;
  dataProcessingContractRef: string;
  status?: AgencyStatus | null;
}

export async function createAgency(deps: Deps, actor: Actor, input: CreateAgencyInput) {
  const code = text(input.code, 'code', 32).toUpperCase();
  if (!/^[A-Z0-9_-]{2,32}$/.test(code)) throw new DomainError('VALIDATION', 'code: 2 to 32 letters, digits, - or _', 'code');
  const data = {
    code,
    name: text(input.name, 'name'),
    licenseNumber: text(input.licenseNumber, 'licenseNumber', 64),
    // PIPL art. 21: no agency processes personal data without a contract with the bank.
    dataProcessingContractRef: text(input.dataProcessingContractRef, 'dataProcessingContractRef', 64),
    status: input.status ?? 'ACTIVE',
  };
  return deps.prisma.$transaction(async (tx) => {
    if (await tx.agency.findUnique({ where: { code } })) throw new DomainError('DUPLICATE', `An agency with code ${code} exists`, 'code');
    const agency = await tx.agency.create({ data });
    await recordAudit(tx, auditActor(actor), deps.clock.now(), {
      action: 'agency.create',
      entityType: 'Agency',
      entityId: agency.id,
      data: { code, name: data.name },
    });
    return { agency };
  });
}

export interface CreateUserInput {
  email: string;
  fullName: string;
  role: Role;
  agencyId?: string | null;
  credentialNumber?: string | null;
  credentialExpiresOn?: Date | null;
}

export async function createUser(deps: Deps, actor: Actor, input: CreateUserInput) {
  const email = text(input.email, 'email', 254).toLowerCase();
  if (!EMAIL.test(email)) throw new DomainError('VALIDATION', 'email is not an e-mail address', 'email');
  const fullName = text(input.fullName, 'fullName');
  const agencyRole = AGENCY_ROLES.includes(input.role);
  if (agencyRole && !input.agencyId) throw new DomainError('VALIDATION', `${input.role} needs an agency`, 'agencyId');
  if (!agencyRole && input.agencyId) throw new DomainError('VALIDATION', `${input.role} is bank staff and has no agency`, 'agencyId');
  if ((input.credentialNumber == null) !== (input.credentialExpiresOn == null)) {
    throw new DomainError('VALIDATION', 'a work credential needs both its number and its expiry', 'credentialExpiresOn');
  }
  return deps.prisma.$transaction(async (tx) => {
    if (input.agencyId) {
      const agency = await tx.agency.findUnique({ where: { id: input.agencyId } });
      if (!agency) throw new DomainError('NOT_FOUND', 'No such agency', 'agencyId');
      if (agency.status !== 'ACTIVE') throw new DomainError('VALIDATION', 'The agency is suspended', 'agencyId');
    }
    if (await tx.user.findUnique({ where: { email } })) throw new DomainError('DUPLICATE', `A user with e-mail ${email} exists`, 'email');
    const user = await tx.user.create({
      data: {
        email,
        fullName,
        role: input.role,
        agencyId: input.agencyId ?? null,
        credentialNumber: input.credentialNumber?.trim() || null,
        credentialExpiresOn: input.credentialExpiresOn ?? null,
      },
    });
    await recordAudit(tx, auditActor(actor), deps.clock.now(), {
      action: 'user.create',
      entityType: 'User',
      entityId: user.id,
      data: { email, role: input.role, agencyId: input.agencyId ?? null },
    });
    return { user };
  });
}

export interface IssueApiKeyInput {
  userId: string;
  name: string;
  expiresAt?: Date | null;
  persistedOnly: boolean;
  costMaximum?: number | null;
  costRestoreRate?: number | null;
}

/** The bounds of a key's budget: below them a partner could not run the SDK's largest operation. */
export const API_KEY_BUDGET_BOUNDS = { maximum: [1_000, 1_000_000], restoreRate: [1, 100_000] } as const;

/** A key for a partner system: it acts as the user it is issued to. The secret is returned once and never stored. */
export async function issueApiKey(deps: Deps, actor: Actor, input: IssueApiKeyInput) {
  const name = text(input.name, 'name', 100);
  const now = deps.clock.now();
  if (input.expiresAt && input.expiresAt <= now) throw new DomainError('VALIDATION', 'expiresAt is in the past', 'expiresAt');
  const costMaximum = input.costMaximum ?? null;
  const costRestoreRate = input.costRestoreRate ?? null;
  if ((costMaximum === null) !== (costRestoreRate === null)) {
    throw new DomainError('VALIDATION', 'costMaximum and costRestoreRate go together', costMaximum === null ? 'costMaximum' : 'costRestoreRate');
  }
  const [minMax, maxMax] = API_KEY_BUDGET_BOUNDS.maximum;
  const [minRate, maxRate] = API_KEY_BUDGET_BOUNDS.restoreRate;
  if (costMaximum !== null && (costMaximum < minMax || costMaximum > maxMax)) {
    throw new DomainError('VALIDATION', `costMaximum must be from ${minMax} to ${maxMax}`, 'costMaximum');
  }
  if (costRestoreRate !== null && (costRestoreRate < minRate || costRestoreRate > maxRate)) {
    throw new DomainError('VALIDATION', `costRestoreRate must be from ${minRate} to ${maxRate}`, 'costRestoreRate');
  }
  const key = newApiKey();
  return deps.prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId } });
    if (!user) throw new DomainError('NOT_FOUND', 'No such user', 'userId');
    if (!user.active) throw new DomainError('VALIDATION', 'The user is inactive', 'userId');
    const apiKey = await tx.apiKey.create({
      data: {
        name,
        prefix: key.prefix,
        hash: key.hash,
        userId: user.id,
        issuedById: actor.viewer.userId,
        expiresAt: input.expiresAt ?? null,
        createdAt: now,
        persistedOnly: input.persistedOnly,
        costMaximum,
        costRestoreRate,
      },
    });
    await recordAudit(tx, auditActor(actor), now, {
      action: 'apiKey.issue',
      entityType: 'ApiKey',
      entityId: apiKey.id,
      data: { userId: user.id, name, prefix: key.prefix, persistedOnly: input.persistedOnly, costMaximum, costRestoreRate },
    });
    return { apiKey, secret: key.secret };
  });
}

export async function revokeApiKey(deps: Deps, actor: Actor, input: { apiKeyId: string }) {
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    const apiKey = await tx.apiKey.findUnique({ where: { id: input.apiKeyId } });
    if (!apiKey) throw new DomainError('NOT_FOUND', 'No such API key', 'apiKeyId');
    if (apiKey.revokedAt) throw new DomainError('INVALID_TRANSITION', 'The key is already revoked', 'apiKeyId');
    const revoked = await tx.apiKey.update({ where: { id: apiKey.id }, data: { revokedAt: now } });
    await recordAudit(tx, auditActor(actor), now, { action: 'apiKey.revoke', entityType: 'ApiKey', entityId: apiKey.id });
    return { apiKey: revoked };
  });
}

/**
 * How many cases each agency holds now, within what the viewer sees. A viewer who sees all of an
 * agency's cases (the bank's admins, supervisors and auditors; the agency's manager) reads the
 * count the database keeps (AgencyCaseCount, one row an agency); a collector, who sees only the
 * cases assigned to them, gets one grouped count of those.
 */
export async function caseCountsByAgency(prisma: Deps['prisma'], viewer: Viewer, agencyIds: readonly string[]): Promise<number[]> {
  const seesWholeAgency = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'AUDITOR', 'AGENCY_MANAGER'].includes(viewer.role);
  const ids = seesWholeAgency && viewer.role === 'AGENCY_MANAGER' ? agencyIds.filter((id) => id === viewer.agencyId) : [...agencyIds];
  const counts = new Map<string | null, number>();
  if (seesWholeAgency) {
    const rows = await prisma.agencyCaseCount.findMany({ where: { agencyId: { in: ids } } });
    for (const r of rows) counts.set(r.agencyId, r.cases);
  } else {
    const rows = await prisma.case.groupBy({
      by: ['assignedAgencyId'],
      where: { AND: [caseVisibility(viewer), { assignedAgencyId: { in: ids } }] },
      _count: { _all: true },
    });
    for (const r of rows) counts.set(r.assignedAgencyId, r._count._all);
  }
  return agencyIds.map((id) => counts.get(id) ?? 0);
}

export interface UserActivationInput {
  userId: string;
  reason: string;
}

/**
 * Switches a user off: from the next request on, their tokens and API keys are refused (the
 * authenticator reads `active` on every request). Their keys are kept, not revoked: reactivating
 * the user brings them back. An admin cannot switch themselves off, and two admins switching each
 * other off at once cannot both succeed (both rows are locked, the second finds its actor inactive).
 */
export async function deactivateUser(deps: Deps, actor: Actor, input: UserActivationInput) {
  return setActive(deps, actor, input, false);
}

/** Switches a user back on, with a reason; audited. */
export async function reactivateUser(deps: Deps, actor: Actor, input: UserActivationInput) {
  return setActive(deps, actor, input, true);
}

async function setActive(deps: Deps, actor: Actor, input: UserActivationInput, active: boolean) {
  const reason = text(input.reason, 'reason', 500);
  if (reason.length < 5) throw new DomainError('VALIDATION', 'State the reason (at least 5 characters)', 'reason');
  if (input.userId === actor.viewer.userId) {
    throw new DomainError('FORBIDDEN_ACTION', active ? 'An admin cannot reactivate themselves' : 'An admin cannot deactivate themselves', 'userId');
  }
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    // Lock the actor's row and the target's, in one order: concurrent switches serialize.
    await tx.$queryRaw`SELECT id FROM "User" WHERE id IN (${actor.viewer.userId}::uuid, ${input.userId}::uuid) ORDER BY id FOR UPDATE`;
    const self = await tx.user.findUnique({ where: { id: actor.viewer.userId } });
    if (!self?.active) throw new DomainError('FORBIDDEN_ACTION', 'Your own account is inactive', 'userId');
    const user = await tx.user.findUnique({ where: { id: input.userId }, include: { agency: true } });
    if (!user) throw new DomainError('NOT_FOUND', 'No such user', 'userId');
    if (user.active === active) throw new DomainError('INVALID_TRANSITION', active ? 'The user is already active' : 'The user is already inactive', 'userId');
    if (active && user.agency && user.agency.status !== 'ACTIVE') throw new DomainError('VALIDATION', 'The agency is suspended', 'userId');
    const updated = await tx.user.update({ where: { id: user.id }, data: { active } });
    const liveKeys = await tx.apiKey.count({ where: { userId: user.id, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
    await recordAudit(tx, auditActor(actor), now, {
      action: active ? 'user.reactivate' : 'user.deactivate',
      entityType: 'User',
      entityId: user.id,
      reason,
      data: { email: user.email, role: user.role, agencyId: user.agencyId, apiKeys: liveKeys },
    });
    return { user: updated };
  });
}

/**
 * The first administrator of a fresh install (`npm run admin:create`): nobody can sign in to make
 * one through the API. Refused while an active BANK_ADMIN exists, unless forced (a lost admin
 * account); audited as done by the system, from the command line.
 */
export async function createFirstAdmin(deps: Pick<Deps, 'prisma' | 'clock'>, input: { email: string; fullName: string; force?: boolean }) {
  const email = text(input.email, 'email', 254).toLowerCase();
  if (!EMAIL.test(email)) throw new DomainError('VALIDATION', 'email is not an e-mail address', 'email');
  const fullName = text(input.fullName, 'fullName');
  return deps.prisma.$transaction(async (tx) => {
    // One at a time: two installs racing make one admin, not two.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
    const admins = await tx.user.count({ where: { role: 'BANK_ADMIN', active: true } });
    if (admins > 0 && !input.force) {
      throw new DomainError('DUPLICATE', `There is already an active bank admin (${admins}); use --force to add another`, 'email');
    }
    if (await tx.user.findUnique({ where: { email } })) throw new DomainError('DUPLICATE', `A user with e-mail ${email} exists`, 'email');
    const user = await tx.user.create({ data: { email, fullName, role: 'BANK_ADMIN' } });
    await recordAudit(tx, { userId: null, role: null, agencyId: null, requestId: null }, deps.clock.now(), {
      action: 'user.create',
      entityType: 'User',
      entityId: user.id,
      reason: input.force ? 'admin:create --force (command line)' : 'admin:create: the first administrator (command line)',
      data: { email, role: 'BANK_ADMIN', activeAdminsBefore: admins },
    });
    return user;
  });
}
