import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import type { Bucket, CaseStage, CaseStatus } from '../../generated/prisma/enums.ts';
import { agencyEra, caseVisibility } from '../../auth/scopes.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { bucketRange, dueDateForDaysPastDue } from '../../lib/time.ts';
import { parseCaseNumber } from '../../lib/ids.ts';
import { Pii } from '../../lib/pii.ts';
import { badUserInput } from '../../lib/errors.ts';

/** Days past due a filter may name: 0 to 100 years. Beyond, the due date it stands for is not a date. */
export const MAX_DAYS_PAST_DUE = 36_500;

/** A days-past-due bound of a filter, checked before it becomes a date (`argument` names it in the error). */
function daysBound(value: number | null | undefined, argument: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_DAYS_PAST_DUE) {
    throw badUserInput(`Argument "${argument}" must be a whole number from 0 to ${MAX_DAYS_PAST_DUE}, got ${value}.`, { argument });
  }
  return value;
}

export interface CaseFilterInput {
  stage?: CaseStage[] | null;
  status?: CaseStatus[] | null;
  bucket?: Bucket[] | null;
  agencyId?: string | null;
  collectorId?: string | null;
  minDaysPastDue?: number | null;
  maxDaysPastDue?: number | null;
  search?: string | null;
}

export type CaseOrderField = 'DAYS_PAST_DUE' | 'OVERDUE_AMOUNT' | 'OPENED_AT' | 'PRIORITY';
export interface CaseOrderInput {
  field: CaseOrderField;
  direction: 'ASC' | 'DESC';
}

/** Days past due between min and max (inclusive) as a due-date range: days grow as the due date recedes. */
function daysPastDueRange(min: number | null, max: number | null, now: Date): Prisma.DateTimeFilter {
  const range: Prisma.DateTimeFilter = {};
  if (min !== null) range.lte = dueDateForDaysPastDue(min, now);
  if (max !== null) range.gte = dueDateForDaysPastDue(max, now);
  return range;
}

/** How a search finds debtors: by the keyed hash of an ID number, by a fragment of a phone number. */
export interface CaseSearchDeps {
  blindIndex(nationalId: string): string;
  prisma: Pick<PrismaClient, 'debtor' | 'contactPoint'>;
}

/**
 * A count of cases stops here: counting a million rows costs what the page itself does not, and
 * nobody reads past it. The schema says so (CaseConnection.totalCount).
 */
export const COUNT_CAP = 10_000;

/** A digit search names at most this many debtors (a fragment of a phone number can be common). */
export const SEARCH_MAX_DEBTORS = 1_000;

/**
 * The WHERE of a case list: the viewer's visibility AND the filter. Every list, count and search
 * of cases goes through here, so no filter can widen what the viewer sees.
 */
export async function caseListWhere(
  viewer: Viewer,
  filter: CaseFilterInput | null | undefined,
  now: Date,
  search: CaseSearchDeps,
): Promise<Prisma.CaseWhereInput> {
  const and: Prisma.CaseWhereInput[] = [caseVisibility(viewer)];
  if (filter) {
    if (filter.stage?.length) and.push({ stage: { in: filter.stage } });
    if (filter.status?.length) and.push({ status: { in: filter.status } });
    if (filter.bucket?.length) {
      and.push({
        OR: filter.bucket.map((b) => {
          const r = bucketRange(b);
          return { dueDate: daysPastDueRange(r.min, r.max, now) };
        }),
      });
    }
    if (filter.agencyId) and.push({ assignedAgencyId: filter.agencyId });
    if (filter.collectorId) and.push({ assignedCollectorId: filter.collectorId });
    const min = daysBound(filter.minDaysPastDue, 'filter.minDaysPastDue');
    const max = daysBound(filter.maxDaysPastDue, 'filter.maxDaysPastDue');
    if (min !== null || max !== null) and.push({ dueDate: daysPastDueRange(min, max, now) });
    const text = filter.search?.trim();
    if (text) and.push(await searchWhere(text, search, viewer));
  }
  return { AND: and };
}

/**
 * Case number, debtor name, phone, or an exact national ID number (matched by its keyed hash,
 * never decrypted). Each kind of search reads its own index; they are never ORed across tables in
 * one statement (an OR of a name pattern, a phone pattern and the blind index defeats every index
 * and scans every contact point):
 * - what may be an ID number (6+ digits), a phone number (5 to 15 digits, with spaces, dashes,
 *   brackets, +) or a case number (C-000123): the debtors of that ID number (blind index) and of
 *   phone numbers holding those digits (trigram index) are looked up first, each on its own index;
 *   then the cases of those debtors, or of that number (BitmapOr of two indexes of Case);
 * - anything else: a fragment of the debtor's name, on its trigram index.
 */
async function searchWhere(text: string, search: CaseSearchDeps, viewer: Viewer): Promise<Prisma.CaseWhereInput> {
  const caseNo = parseCaseNumber(text);
  const digits = text.replace(/[\s()+-]/g, '');
  const idShaped = Pii.isValidNationalId(text) && /\d{6,}/.test(text);
  // A phone number has at most 15 digits (ITU-T E.164): an 18-digit ID number is not one.
  const phoneShaped = /^\d{5,15}$/.test(digits);
  if (!idShaped && !phoneShaped && caseNo === null) return { debtor: { fullName: { contains: text, mode: 'insensitive' } } };
  const [byId, byPhone] = await Promise.all([
    idShaped ? search.prisma.debtor.findMany({ where: { nationalIdBlindIndex: search.blindIndex(text) }, select: { id: true }, take: SEARCH_MAX_DEBTORS }) : [],
    phoneShaped
      ? // Only numbers of the viewer's era: a number another agency traced is not this agency's to match on.
        search.prisma.contactPoint.findMany({ where: { value: { contains: digits }, ...agencyEra(viewer) }, select: { debtorId: true }, distinct: ['debtorId'], take: SEARCH_MAX_DEBTORS })
      : [],
  ]);
  const debtorIds = [...new Set([...byId.map((d) => d.id), ...byPhone.map((c) => c.debtorId)])];
  const or: Prisma.CaseWhereInput[] = [];
  if (debtorIds.length) or.push({ debtorId: { in: debtorIds } });
  if (caseNo !== null) or.push({ caseNo });
  return or.length ? { OR: or } : { id: { in: [] } };
}

/**
 * The order of a case list. The last key (id) runs the same way as the first, so that each order
 * is one index read forwards or backwards (prisma/schema.prisma: an index per scope × order).
 */
export function caseOrderBy(order: CaseOrderInput | null | undefined): Prisma.CaseOrderByWithRelationInput[] {
  const dir = (order?.direction ?? 'DESC') === 'ASC' ? 'asc' : 'desc';
  const flip = dir === 'asc' ? 'desc' : 'asc';
  switch (order?.field ?? 'DAYS_PAST_DUE') {
    case 'DAYS_PAST_DUE':
      // More days past due = an earlier due date.
      return [{ dueDate: flip }, { id: flip }];
    case 'OVERDUE_AMOUNT':
      return [{ overdueTotal: dir }, { id: dir }];
    case 'OPENED_AT':
      return [{ openedAt: dir }, { id: dir }];
    case 'PRIORITY':
      // Highest priority first, then the oldest debt (index: priority DESC, dueDate, id).
      return [{ priority: dir }, { dueDate: flip }, { id: flip }];
  }
}

/** A hold is in force when not released and not past its end. */
export function activeHoldWhere(now: Date): Prisma.HoldWhereInput {
  return { releasedAt: null, startsAt: { lte: now }, OR: [{ endsAt: null }, { endsAt: { gt: now } }] };
}

/** The viewer's work queue: open cases assigned to them, not on hold; broken promises first, then the strategy's priority, then the oldest debt, then the largest. */
export function workQueueWhere(viewer: Viewer, now: Date): Prisma.CaseWhereInput {
  return {
    AND: [
      caseVisibility(viewer),
      { assignedCollectorId: viewer.userId },
      { stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] } },
      { status: { in: ['OPEN', 'PROMISED', 'BROKEN_PROMISE'] } },
      { holds: { none: activeHoldWhere(now) } },
    ],
  };
}

export const WORK_QUEUE_ORDER: Prisma.CaseOrderByWithRelationInput[] = [
  { attentionRank: 'asc' }, // broken promises first
  { priority: 'desc' }, // then the priority the strategy's treatment gives (URGENT first)
  { dueDate: 'asc' }, // then the most days past due
  { overdueTotal: 'desc' },
  { id: 'asc' },
];
