import DataLoader from 'dataloader';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { eraAgencyOf } from '../../auth/scopes.ts';
import type { Viewer } from '../../auth/viewer.ts';

/**
 * A timeline entry is of the era it happened in, but its `data` may name records of another
 * era: the bank, holding a case again, corrects evidence South uploaded, and its entry names
 * South's evidence. For an agency viewer such ids are left out (null), like any other link to
 * another agency's era (src/auth/scopes.ts `inAgencyEra`).
 */
export async function eventDataFor(ctx: { prisma: PrismaClient; viewer: Viewer }, data: unknown): Promise<unknown> {
  const own = eraAgencyOf(ctx.viewer);
  if (own === null) return data;
  const ids = new Set<string>();
  collect(data, ids);
  if (ids.size === 0) return data;
  // One loader per request (its context): a page of entries costs one statement.
  let loader = loaders.get(ctx);
  if (!loader) loaders.set(ctx, (loader = foreignIds(ctx.prisma, own)));
  const list = [...ids];
  const flags = await loader.loadMany(list);
  const foreign = new Set(list.filter((_id, i) => flags[i] === true));
  return foreign.size ? redact(data, foreign) : data;
}

const loaders = new WeakMap<object, ForeignIds>();

export type ForeignIds = DataLoader<string, boolean>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every table whose rows keep an era; people and agencies count by their agency. */
const ERA_TABLES = [
  'Reminder', 'ContactAttempt', 'VisitConsent', 'Visit', 'VisitParticipant', 'Evidence', 'EvidenceCustody', 'PromiseToPay',
  'RepaymentPlan', 'Instalment', 'Payment', 'PaymentAllocation', 'Hold', 'Placement', 'CaseEvent', 'User',
  'ContactPoint', 'Address', 'LetterDispatch',
  'ContactOptOut', 'Complaint', 'Dispute',
] as const;

/** One statement per request (batched): which of these ids name a record of another agency. */
function foreignIds(prisma: PrismaClient, own: string): ForeignIds {
  return new DataLoader<string, boolean>(async (ids) => {
    const list = [...ids];
    const union = [
      ...ERA_TABLES.map((t) => `SELECT id FROM "${t}" WHERE id = ANY($1::uuid[]) AND "agencyId" IS NOT NULL AND "agencyId" <> $2::uuid`),
      `SELECT id FROM "Agency" WHERE id = ANY($1::uuid[]) AND id <> $2::uuid`,
    ].join(' UNION ALL ');
    const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(union, list, own);
    const found = new Set(rows.map((r) => r.id));
    return list.map((id) => found.has(id));
  });
}

function collect(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') {
    if (UUID.test(v)) out.add(v.toLowerCase());
  } else if (Array.isArray(v)) for (const x of v) collect(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x, out);
}

function redact(v: unknown, foreign: Set<string>): unknown {
  if (typeof v === 'string') return UUID.test(v) && foreign.has(v.toLowerCase()) ? null : v;
  if (Array.isArray(v)) return v.map((x) => redact(x, foreign));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, foreign)]));
  return v;
}
