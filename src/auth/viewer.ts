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
}

export const BANK_ROLES: readonly Role[] = ['BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AUDITOR'];
export const AGENCY_ROLES: readonly Role[] = ['AGENCY_MANAGER', 'AGENCY_COLLECTOR'];

export function isAgencyRole(role: Role): boolean {
  return AGENCY_ROLES.includes(role);
}
