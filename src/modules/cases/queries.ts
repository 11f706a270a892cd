import type { Prisma } from '../../generated/prisma/client.ts';
import type { Bucket, CaseStage, CaseStatus } from '../../generated/prisma/enums.ts';
import { caseVisibility } from '../../auth/scopes.ts';
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

/**
 * The WHERE of a case list: the viewer's visibility AND the filter. Every list, count and search
 * of cases goes through here, so no filter can widen what the viewer sees.
 */
export function caseListWhere(
  viewer: Viewer,
  filter: CaseFilterInput | null | undefined,
  now: Date,
  blindIndex: (nationalId: string) => string,
): Prisma.CaseWhereInput {
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
    const search = filter.search?.trim();
    if (search) and.push(searchWhere(search, blindIndex));
  }
  return { AND: and };
}

/** Case number, debtor name, phone, or an exact national ID number (matched by its keyed hash, never decrypted). */
function searchWhere(search: string, blindIndex: (nationalId: string) => string): Prisma.CaseWhereInput {
  const or: Prisma.CaseWhereInput[] = [{ debtor: { fullName: { contains: search, mode: 'insensitive' } } }];
  const caseNo = parseCaseNumber(search);
  if (caseNo !== null) or.push({ caseNo });
  const digits = search.replace(/[\s()+-]/g, '');
  if (/^\d{5,20}$/.test(digits)) {
    or.push({ debtor: { contactPoints: { some: { value: { contains: digits } } } } });
  }
  if (Pii.isValidNationalId(search) && /\d{6,}/.test(search)) {
    or.push({ debtor: { nationalIdBlindIndex: blindIndex(search) } });
  }
  return { OR: or };
}

export function caseOrderBy(order: CaseOrderInput | null | undefined): Prisma.CaseOrderByWithRelationInput[] {
  const dir = (order?.direction ?? 'DESC') === 'ASC' ? 'asc' : 'desc';
  const flip = dir === 'asc' ? 'desc' : 'asc';
  switch (order?.field ?? 'DAYS_PAST_DUE') {
    case 'DAYS_PAST_DUE':
      // More days past due = an earlier due date.
      return [{ dueDate: flip }, { id: dir }];
    case 'OVERDUE_AMOUNT':
      return [{ overdueTotal: dir }, { id: dir }];
    case 'OPENED_AT':
      return [{ openedAt: dir }, { id: dir }];
    case 'PRIORITY':
      return [{ priority: dir }, { dueDate: 'asc' }, { id: dir }];
  }
}

/** A hold is in force when not released and not past its end. */
export function activeHoldWhere(now: Date): Prisma.HoldWhereInput {
  return { releasedAt: null, startsAt: { lte: now }, OR: [{ endsAt: null }, { endsAt: { gt: now } }] };
}

/** The viewer's work queue: open cases assigned to them, not on hold; broken promises first, then the oldest debt, then the largest. */
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
  { dueDate: 'asc' }, // then the most days past due
  { overdueTotal: 'desc' },
  { id: 'asc' },
];
