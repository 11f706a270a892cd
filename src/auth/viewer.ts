import type { Role } from '../generated/prisma/enums.ts';

/** Who is asking: a user signed in with a JWT, or a partner system with an API key. */
export interface Viewer {
  userId: string;
  email: string;
  fullName: string;
  role: Role;
  agencyId: string | null;
  authMethod: 'JWT' | 'API_KEY';
  apiKeyId: string | null;
  /** What an API key is held to: the persisted documents only, and its own budget of cost points. */
  apiKey?: ApiKeyLimits;
}

export interface ApiKeyLimits {
  persistedOnly: boolean;
  /** Null: the default budget of API keys. */
  budget: { maximumAvailable: number; restoreRate: number } | null;
}

/** The viewer a user is, signed in one way or another. */
export function viewerOf(
  user: { id: string; email: string; fullName: string; role: Role; agencyId: string | null },
  authMethod: Viewer['authMethod'] = 'JWT',
  apiKeyId: string | null = null,
  apiKey?: ApiKeyLimits,
): Viewer {
  return { userId: user.id, email: user.email, fullName: user.fullName, role: user.role, agencyId: user.agencyId, authMethod, apiKeyId, ...(apiKey ? { apiKey } : {}) };
}

export const BANK_ROLES: readonly Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AUDITOR'];
export const AGENCY_ROLES: readonly Role[] = ['AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

export function isAgencyRole(role: Role): boolean {
  return AGENCY_ROLES.includes(role);
}
