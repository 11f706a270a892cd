/**
 * The scoping of aggregates (STYLE.md: "Reports read through one module that owns the scoping of
 * aggregates"). Every analytics query is SQL (the database aggregates; nothing is summed in
 * JavaScript from pages of rows), and every one of them builds its WHERE from here:
 *
 * - `caseScopeSql` is the SQL form of `caseVisibility` (src/auth/scopes.ts), derived from it key
 *   by key, so that the rule still lives once: a key this module does not know is an error, not a
 *   silently wider report;
 * - `eraSql` is the SQL form of `agencyEra`: an agency sees the records of its own era and the
 *   bank's, never another agency's;
 * - `caseFilterSql` adds a CaseFilter, with the same meaning as the case list's (`caseListWhere`).
 *
 * Every value is a bound parameter (Prisma.sql); only column names chosen here are raw.
 */
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { caseVisibility, eraAgencyOf } from '../../auth/scopes.ts';
import { BANK_TIME_ZONE, BUCKETS, bucketRange, dueDateForDaysPastDue, localDate, parseDateOnly, DAY_MS, type Bucket } from '../../lib/time.ts';
import { caseListWhere, type CaseFilterInput, type CaseSearchDeps, MAX_DAYS_PAST_DUE } from '../cases/queries.ts';
import { badUserInput } from '../../lib/errors.ts';

const TRUE = Prisma.sql`TRUE`;

/** A SQL identifier chosen by this module (never from input): `alias."column"`. */
export function col(alias: string, column: string): Prisma.Sql {
  if (!/^[a-z]+$/.test(alias) || !/^[A-Za-z]+$/.test(column)) throw new Error(`not an identifier: ${alias}.${column}`);
  return Prisma.raw(`${alias}."${column}"`);
}

/** The cases a viewer sees, as SQL on the "Case" row aliased `alias`: `caseVisibility` itself. */
export function caseScopeSql(viewer: Viewer, alias = 'c'): Prisma.Sql {
  const where = caseVisibility(viewer) as Record<string, unknown>;
  const parts: Prisma.Sql[] = [TRUE];
  for (const [key, value] of Object.entries(where)) {
    if ((key === 'assignedAgencyId' || key === 'assignedCollectorId') && typeof value === 'string') {
      parts.push(Prisma.sql`${col(alias, key)} = ${value}::uuid`);
    } else {
      throw new Error(`caseVisibility has a condition the analytics SQL does not know: ${key}`);
    }
  }
  return Prisma.join(parts, ' AND ');
}

/** The records of a case a viewer sees by era (`agencyEra`), on the row aliased `alias`. */
export function eraSql(viewer: Viewer, alias: string, column = 'agencyId'): Prisma.Sql {
  const own = eraAgencyOf(viewer);
  return own === null ? TRUE : Prisma.sql`(${col(alias, column)} IS NULL OR ${col(alias, column)} = ${own}::uuid)`;
}

/** A record hanging off a case (`caseId`) that the viewer sees: its case visible now, and its era. */
export function recordScopeSql(viewer: Viewer, alias: string): Prisma.Sql {
  // A viewer who sees every case needs no look-up of the record's case (a foreign key: it exists).
  if (Object.keys(caseVisibility(viewer)).length === 0) return eraSql(viewer, alias);
  return Prisma.sql`${eraSql(viewer, alias)} AND EXISTS (SELECT 1 FROM "Case" sc WHERE sc.id = ${col(alias, 'caseId')} AND ${caseScopeSql(viewer, 'sc')})`;
}

/** Today in the bank's zone: days past due count from it (lib/time.ts, `daysPastDue`). */
export function bankToday(now: Date): string {
  return localDate(now, BANK_TIME_ZONE);
}

/** Days past due of the case row `alias` at `now`, in SQL: the same count as `daysPastDue`. */
export function daysPastDueSql(now: Date, alias = 'c'): Prisma.Sql {
  return Prisma.sql`GREATEST(0, ${bankToday(now)}::date - ${col(alias, 'dueDate')})`;
}

/** The bucket of the case row `alias` at `now`, in SQL: built from `bucketRange`, so it cannot differ from `bucketOf`. */
export function bucketSql(now: Date, alias = 'c'): Prisma.Sql {
  const dpd = daysPastDueSql(now, alias);
  const whens = BUCKETS.filter((b) => bucketRange(b).max !== null).map((b) => Prisma.sql`WHEN ${dpd} <= ${bucketRange(b).max} THEN ${b}`);
  const last: Bucket = BUCKETS[BUCKETS.length - 1]!;
  return Prisma.sql`(CASE ${Prisma.join(whens, ' ')} ELSE ${last} END)`;
}

/** A search names at most this many cases in a report; more is a request to narrow it. */
export const REPORT_SEARCH_MAX_CASES = 10_000;

/**
 * The viewer's cases AND a CaseFilter (the case list's meaning, `caseListWhere`), as SQL on the
 * case row `alias`. The free-text search is resolved by the case list's own search (its indexes,
 * its rules) into at most REPORT_SEARCH_MAX_CASES case ids.
 */
export async function caseFilterSql(
  viewer: Viewer,
  filter: CaseFilterInput | null | undefined,
  now: Date,
  search: CaseSearchDeps & { prisma: Pick<PrismaClient, 'case' | 'debtor' | 'contactPoint'> },
  alias = 'c',
): Promise<Prisma.Sql> {
  const and: Prisma.Sql[] = [caseScopeSql(viewer, alias)];
  if (filter) {
    if (filter.stage?.length) and.push(Prisma.sql`${col(alias, 'stage')}::text IN (${Prisma.join(filter.stage)})`);
    if (filter.status?.length) and.push(Prisma.sql`${col(alias, 'status')}::text IN (${Prisma.join(filter.status)})`);
    if (filter.bucket?.length) {
      const ors = filter.bucket.map((b) => dueRangeSql(bucketRange(b).min, bucketRange(b).max, now, alias));
      and.push(Prisma.sql`(${Prisma.join(ors, ' OR ')})`);
    }
    if (filter.agencyId) and.push(Prisma.sql`${col(alias, 'assignedAgencyId')} = ${filter.agencyId}::uuid`);
    if (filter.collectorId) and.push(Prisma.sql`${col(alias, 'assignedCollectorId')} = ${filter.collectorId}::uuid`);
    const min = daysBound(filter.minDaysPastDue, 'filter.minDaysPastDue');
    const max = daysBound(filter.maxDaysPastDue, 'filter.maxDaysPastDue');
    if (min !== null || max !== null) and.push(dueRangeSql(min, max, now, alias));
    const text = filter.search?.trim();
    if (text) {
      const where = await caseListWhere(viewer, { search: text }, now, search);
      const ids = await search.prisma.case.findMany({ where, select: { id: true }, take: REPORT_SEARCH_MAX_CASES + 1 });
      if (ids.length > REPORT_SEARCH_MAX_CASES) {
        throw badUserInput(`The search matches more than ${REPORT_SEARCH_MAX_CASES} cases: narrow it, or report without a search.`, { argument: 'filter.search' });
      }
      and.push(ids.length ? Prisma.sql`${col(alias, 'id')} IN (${Prisma.join(ids.map((i) => Prisma.sql`${i.id}::uuid`))})` : Prisma.sql`FALSE`);
    }
  }
  return Prisma.join(and, ' AND ');
}

function daysBound(value: number | null | undefined, argument: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_DAYS_PAST_DUE) {
    throw badUserInput(`Argument "${argument}" must be a whole number from 0 to ${MAX_DAYS_PAST_DUE}, got ${value}.`, { argument });
  }
  return value;
}

/** Days past due in [min, max] as a due-date range (as `caseListWhere` does). */
function dueRangeSql(min: number | null, max: number | null, now: Date, alias: string): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (min !== null) parts.push(Prisma.sql`${col(alias, 'dueDate')} <= ${dateParam(dueDateForDaysPastDue(min, now))}::date`);
  if (max !== null) parts.push(Prisma.sql`${col(alias, 'dueDate')} >= ${dateParam(dueDateForDaysPastDue(max, now))}::date`);
  return parts.length ? Prisma.sql`(${Prisma.join(parts, ' AND ')})` : TRUE;
}

function dateParam(d: Date): string {
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- periods

/** The longest period a report covers. */
export const MAX_PERIOD_DAYS = 1_096;

export interface Period {
  /** First calendar day (bank's zone), inclusive. */
  from: string;
  /** Last calendar day (bank's zone), inclusive. */
  to: string;
}

/** A period from GraphQL Date values (midnight UTC of the calendar day), checked. */
export function periodOf(input: { from: Date; to: Date } | null | undefined, now: Date, argument = 'period'): Period {
  if (!input) {
    // The default: the month to date, in the bank's zone.
    const today = bankToday(now);
    return { from: `${today.slice(0, 7)}-01`, to: today };
  }
  const from = dateParam(input.from);
  const to = dateParam(input.to);
  const days = (parseDateOnly(to).getTime() - parseDateOnly(from).getTime()) / DAY_MS;
  if (days < 0) throw badUserInput(`Argument "${argument}": "from" must not be after "to".`, { argument });
  if (days >= MAX_PERIOD_DAYS) throw badUserInput(`Argument "${argument}" covers at most ${MAX_PERIOD_DAYS} days.`, { argument });
  return { from, to };
}

/** `alias.column` (a timestamptz) falls inside the period's calendar days in the bank's zone. */
export function inPeriodSql(period: Period, alias: string, column: string): Prisma.Sql {
  const c = col(alias, column);
  return Prisma.sql`${c} >= (${period.from}::date::timestamp AT TIME ZONE ${BANK_TIME_ZONE}) AND ${c} < ((${period.to}::date + 1)::timestamp AT TIME ZONE ${BANK_TIME_ZONE})`;
}

export type Interval = 'DAY' | 'WEEK' | 'MONTH';

/** The first day (YYYY-MM-DD, bank's zone) of the interval holding `alias.column`; weeks start on Monday. */
export function intervalStartSql(interval: Interval, alias: string, column: string): Prisma.Sql {
  const unit = interval === 'DAY' ? 'day' : interval === 'WEEK' ? 'week' : 'month';
  return Prisma.sql`to_char(date_trunc(${unit}, ${col(alias, column)} AT TIME ZONE ${BANK_TIME_ZONE}), 'YYYY-MM-DD')`;
}
