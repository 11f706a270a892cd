import type { PrismaClient, Prisma } from '../../generated/prisma/client.ts';
import type { Jurisdiction } from '../../generated/prisma/enums.ts';
import { POLICY_PRESETS } from './presets.ts';

/** Creates the policy rows of the presets where a jurisdiction has none yet; existing rows are the policy and stay. */
export async function ensureContactPolicies(prisma: PrismaClient): Promise<void> {
  for (const preset of Object.values(POLICY_PRESETS)) {
    await prisma.contactPolicy.upsert({ where: { jurisdiction: preset.jurisdiction }, create: preset, update: {} });
  }
}

export async function getContactPolicy(
  prisma: PrismaClient,
  jurisdiction: Jurisdiction,
  query: { select?: Prisma.ContactPolicySelect } = {},
) {
  const row = await prisma.contactPolicy.findUnique({ ...query, where: { jurisdiction } });
  if (row) return row;
  await ensureContactPolicies(prisma);
  return prisma.contactPolicy.findUniqueOrThrow({ ...query, where: { jurisdiction } });
}
