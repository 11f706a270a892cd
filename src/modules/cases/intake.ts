import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { AddressKind, CasePriority, CaseStage, ContactParty, ContactPointKind, Jurisdiction, Language } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import { dateOnly, localDate, parseDateOnly, BANK_TIME_ZONE } from '../../lib/time.ts';
import { Pii } from '../../lib/pii.ts';
import { isUniqueViolation } from '../../lib/idempotency.ts';
import { DomainError, type UserError } from '../../lib/errors.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import { auditActor, actorLabel, type Actor } from '../../lib/actor.ts';
import { isEnded } from './write.ts';

/** One delinquent account as the bank sends it (DOMAIN.md, "The records"). */
export interface IntakeRow {
  account: { externalRef: string; cardLast4: string; product: string; creditLimit: number | bigint; currency: string; openedOn?: Date | string | null };
  debtor: {
    externalRef: string;
    fullName: string;
    nationalId: string;
    timeZone?: string | null;
    jurisdiction?: Jurisdiction | null;
    language?: Language | null;
    contactPoints?: { kind: ContactPointKind; value: string; party?: ContactParty | null; relation?: string | null; primary?: boolean | null }[] | null;
    addresses?: { kind: AddressKind; line1: string; line2?: string | null; city: string; region: string; postalCode?: string | null; country?: string | null }[] | null;
  };
  /** The first missed due date. */
  dueDate: Date | string;
  principal: number | bigint;
  interest: number | bigint;
  fees: number | bigint;
  priority?: CasePriority | null;
  /** Card usage (issue 18): the account's recent statements, at most MAX_STATEMENTS; when sent, they replace those kept. */
  statements?: IntakeStatement[] | null;
  /** The account's recent transactions, at most MAX_TRANSACTIONS; when sent, they replace those kept. */
  transactions?: IntakeTransaction[] | null;
}

export interface IntakeStatement {
  periodStart: Date | string;
  periodEnd: Date | string;
  statementBalance: number | bigint;
  minimumDue: number | bigint;
  amountPaid: number | bigint;
  dueDate: Date | string;
}

export interface IntakeTransaction {
  postedOn: Date | string;
  merchantCategory: string;
  merchantName?: string | null;
  /** Positive a purchase or fee, negative a refund or credit. */
  amount: number | bigint;
}

export interface NormalizedUsage {
  statements: { periodStart: string; periodEnd: string; statementBalance: bigint; minimumDue: bigint; amountPaid: bigint; dueDate: string }[] | null;
  transactions: { postedOn: string; merchantCategory: string; merchantName: string | null; amount: bigint }[] | null;
}

export interface NormalizedRow {
  key: string;
  account: { externalRef: string; cardLast4: string; product: string; creditLimit: bigint; currency: string; openedOn: Date | null };
  debtor: {
    externalRef: string;
    fullName: string;
    nationalId: string;
    timeZone: string;
    jurisdiction: Jurisdiction;
    language: Language;
    contactPoints: { kind: ContactPointKind; value: string; party: ContactParty; relation: string | null; primary: boolean }[];
    addresses: { kind: AddressKind; line1: string; line2: string | null; city: string; region: string; postalCode: string | null; country: string }[];
  };
  dueDate: Date;
  principal: bigint;
  interest: bigint;
  fees: bigint;
  priority: CasePriority;
  usage: NormalizedUsage;
}

export type IntakeStatus = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'REJECTED';

export interface IntakeOutcome {
  index: number;
  status: IntakeStatus;
  caseId: string | null;
  caseNumber: string | null;
  errors: UserError[];
}

export const MAX_IMPORT_ROWS = 10_000;
/** Card usage kept per account (issue 18): a year of statements, the recent transactions. */
export const MAX_STATEMENTS = 12;
export const MAX_TRANSACTIONS = 200;
/** How far back card usage may go: older records are not "recent usage" and are refused. */
const USAGE_YEARS = 3;
const CURRENCIES = new Set(['CNY', 'USD', 'HKD', 'EUR', 'GBP', 'JPY']);
const KINDS_FOR_PHONE = new Set(['MOBILE', 'HOME_PHONE', 'WORK_PHONE']);
const MAX_MINOR = 10n ** 15n; // far above any card balance; keeps every sum a safe integer on the wire

/** Zones already checked: building an Intl formatter per row cost more than the rest of validation. */
const TIME_ZONES = new Map<string, boolean>();

function isTimeZone(tz: string): boolean {
  let ok = TIME_ZONES.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (TIME_ZONES.size < 1000) TIME_ZONES.set(tz, ok); // bounded: a file of garbage zones cannot grow it
  }
  return ok;
}

/** Today in the bank's zone, for the instant last asked (a batch asks with one instant). */
let today: { at: number; date: string } = { at: Number.NaN, date: '' };
function bankToday(now: Date): string {
  if (today.at !== now.getTime()) today = { at: now.getTime(), date: localDate(now, BANK_TIME_ZONE) };
  return today.date;
}

function amount(value: number | bigint | string | undefined | null, field: string, errors: UserError[], allowZero = true): bigint {
  try {
    if (value === undefined || value === null || value === '') throw new Error();
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error();
    const v = BigInt(value);
    if (v < 0n || (!allowZero && v === 0n) || v > MAX_MINOR) throw new Error();
    return v;
  } catch {
    errors.push({ code: 'VALIDATION', field: [field], message: `${field} must be a whole number of minor units${allowZero ? ', zero or more' : ', above zero'}` });
    return 0n;
  }
}

/** An optional text: trimmed, null when empty, at most `max` characters. */
function optionalStr(value: unknown, field: string, errors: UserError[], max = 200): string | null {
  const v = typeof value === 'string' ? value.trim() : '';
  if (v.length > max) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is longer than ${max} characters` });
  return v || null;
}

function str(value: unknown, field: string, errors: UserError[], max = 200): string {
  const v = typeof value === 'string' ? value.trim() : '';
  if (!v) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is required` });
  else if (v.length > max) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is longer than ${max} characters` });
  return v;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** parseDateOnly without its exception and its toISOString round trip (a few µs a row, at thousands of rows a second). */
function parseDay(s: string): Date | null {
  const m = DAY.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  const d = Number(m[3]);
  const at = new Date(0);
  at.setUTCFullYear(y, mo, d);
  return at.getUTCFullYear() === y && at.getUTCMonth() === mo && at.getUTCDate() === d ? at : null;
}

function date(value: Date | string | null | undefined, field: string, errors: UserError[]): Date | null {
  if (value === null || value === undefined || value === '') return null;
  let d: Date | null = null;
  try {
    d = typeof value === 'string' ? parseDay(value) : parseDateOnly(dateOnly(value));
  } catch {
    d = null;
  }
  if (!d) errors.push({ code: 'VALIDATION', field: [field], message: `${field} must be a date YYYY-MM-DD` });
  return d;
}

/** Validates and normalises one row at the edge: nothing reaches the database unchecked. */
/**
 * A contact point's value as stored: an e-mail address in lower case, a phone number without
 * spaces, brackets or dashes; null when it is not a valid one of its kind. Intake and skip
 * tracing (src/modules/tracing) both take values through here.
 */
export function normalizeContactValue(kind: ContactPointKind, value: string): string | null {
  const v = value.trim();
  if (kind === 'EMAIL') return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? v.toLowerCase() : null;
  if (KINDS_FOR_PHONE.has(kind) && !/^\+?[0-9 ()-]{5,20}$/.test(v)) return null;
  return v.replace(/[\s()-]/g, '');
}

/** A signed amount (transactions: negative for a credit), exact minor units within ±MAX_MINOR. */
function signedAmount(value: number | bigint | string | undefined | null, field: string, errors: UserError[]): bigint {
  try {
    if (value === undefined || value === null || value === '') throw new Error();
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error();
    const v = BigInt(value);
    if (v > MAX_MINOR || v < -MAX_MINOR) throw new Error();
    return v;
  } catch {
    errors.push({ code: 'VALIDATION', field: [field], message: `${field} must be a whole number of minor units` });
    return 0n;
  }
}

/**
 * Card usage (issue 18): bounded lists (LIMIT_EXCEEDED past the bound, nothing of the row kept),
 * dates that are days, not in the future and not older than USAGE_YEARS, exact minor units in the
 * account's currency (the row's amounts are all in it: there is no other currency to send).
 */
export function validateUsage(raw: Pick<IntakeRow, 'statements' | 'transactions'>, now: Date, errors: UserError[]): NormalizedUsage {
  const todayDay = bankToday(now);
  const oldest = `${Number(todayDay.slice(0, 4)) - USAGE_YEARS}${todayDay.slice(4)}`;
  const day = (value: Date | string | null | undefined, field: string, allowFuture = false): string => {
    const d = date(value, field, errors);
    if (!d) {
      if (!errors.some((e) => e.field?.[0] === field)) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is required` });
      return '';
    }
    const s = dateOnly(d);
    if (!allowFuture && s > todayDay) errors.push({ code: 'VALIDATION', field: [field], message: `${field} ${s} is in the future` });
    else if (s < oldest) errors.push({ code: 'VALIDATION', field: [field], message: `${field} ${s} is more than ${USAGE_YEARS} years ago` });
    return s;
  };
  let statements: NormalizedUsage['statements'] = null;
  if (raw.statements != null) {
    if (!Array.isArray(raw.statements)) errors.push({ code: 'VALIDATION', field: ['statements'], message: 'statements must be a list' });
    else if (raw.statements.length > MAX_STATEMENTS) {
      errors.push({ code: 'LIMIT_EXCEEDED', field: ['statements'], message: `at most ${MAX_STATEMENTS} statements an account, not ${raw.statements.length}` });
    } else {
      const periods = new Set<string>();
      statements = raw.statements.map((st, i) => {
        const at = `statements.${i}`;
        const periodStart = day(st?.periodStart, `${at}.periodStart`);
        const periodEnd = day(st?.periodEnd, `${at}.periodEnd`);
        // A statement is due after its period closes, possibly after today.
        const dueDate = day(st?.dueDate, `${at}.dueDate`, true);
        if (periodStart && periodEnd && periodStart > periodEnd) errors.push({ code: 'VALIDATION', field: [`${at}.periodEnd`], message: `${at}: the period ends before it starts` });
        if (periodEnd && dueDate && dueDate <= periodEnd) errors.push({ code: 'VALIDATION', field: [`${at}.dueDate`], message: `${at}: due ${dueDate}, not after the period's end ${periodEnd}` });
        if (periodEnd && periods.has(periodEnd)) errors.push({ code: 'DUPLICATE', field: [`${at}.periodEnd`], message: `${at}: two statements for the period ending ${periodEnd}` });
        periods.add(periodEnd);
        const statementBalance = signedAmount(st?.statementBalance, `${at}.statementBalance`, errors);
        const minimumDue = amount(st?.minimumDue, `${at}.minimumDue`, errors);
        const amountPaid = amount(st?.amountPaid, `${at}.amountPaid`, errors);
        if (minimumDue > 0n && minimumDue > statementBalance) errors.push({ code: 'VALIDATION', field: [`${at}.minimumDue`], message: `${at}: the minimum due is above the statement balance` });
        return { periodStart, periodEnd, statementBalance, minimumDue, amountPaid, dueDate };
      });
    }
  }
  let transactions: NormalizedUsage['transactions'] = null;
  if (raw.transactions != null) {
    if (!Array.isArray(raw.transactions)) errors.push({ code: 'VALIDATION', field: ['transactions'], message: 'transactions must be a list' });
    else if (raw.transactions.length > MAX_TRANSACTIONS) {
      errors.push({ code: 'LIMIT_EXCEEDED', field: ['transactions'], message: `at most ${MAX_TRANSACTIONS} transactions an account, not ${raw.transactions.length}` });
    } else {
      transactions = raw.transactions.map((tr, i) => {
        const at = `transactions.${i}`;
        const amt = signedAmount(tr?.amount, `${at}.amount`, errors);
        if (amt === 0n && !errors.some((e) => e.field?.[0] === `${at}.amount`)) errors.push({ code: 'VALIDATION', field: [`${at}.amount`], message: `${at}.amount is zero` });
        return {
          postedOn: day(tr?.postedOn, `${at}.postedOn`),
          merchantCategory: str(tr?.merchantCategory, `${at}.merchantCategory`, errors, 60),
          merchantName: optionalStr(tr?.merchantName, `${at}.merchantName`, errors, 120),
          amount: amt,
        };
      });
    }
  }
  return { statements, transactions };
}

export function validateIntakeRow(raw: IntakeRow, now: Date): { row: NormalizedRow } | { errors: UserError[] } {
  const errors: UserError[] = [];
  const a = raw.account ?? ({} as IntakeRow['account']);
  const d = raw.debtor ?? ({} as IntakeRow['debtor']);
  const currency = str(a.currency, 'account.currency', errors, 3).toUpperCase();
  if (currency && !CURRENCIES.has(currency)) errors.push({ code: 'VALIDATION', field: ['account.currency'], message: `unsupported currency ${currency}` });
  const cardLast4 = str(a.cardLast4, 'account.cardLast4', errors, 4);
  if (cardLast4 && !/^\d{4}$/.test(cardLast4)) errors.push({ code: 'VALIDATION', field: ['account.cardLast4'], message: 'cardLast4 is four digits' });
  const nationalId = str(d.nationalId, 'debtor.nationalId', errors, 30);
  if (nationalId && !Pii.isValidNationalId(nationalId)) errors.push({ code: 'VALIDATION', field: ['debtor.nationalId'], message: 'national ID: 6 to 30 letters and digits' });
  const timeZone = d.timeZone?.trim() || 'Asia/Shanghai';
  if (!isTimeZone(timeZone)) errors.push({ code: 'VALIDATION', field: ['debtor.timeZone'], message: `unknown IANA time zone ${timeZone}` });
  const dueDate = date(raw.dueDate, 'dueDate', errors);
  if (!dueDate && !errors.some((e) => e.field?.[0] === 'dueDate')) errors.push({ code: 'VALIDATION', field: ['dueDate'], message: 'dueDate is required' });
  // parseDateOnly took the string only in its canonical form: it is the date, no need to format it again.
  const dueDay = dueDate ? (typeof raw.dueDate === 'string' ? raw.dueDate : dateOnly(dueDate)) : '';
  if (dueDate && dueDay >= bankToday(now)) {
    errors.push({ code: 'VALIDATION', field: ['dueDate'], message: 'dueDate must be in the past: the account is not overdue yet' });
  }
  const principal = amount(raw.principal, 'principal', errors);
  const interest = amount(raw.interest, 'interest', errors);
  const fees = amount(raw.fees, 'fees', errors);
  if (errors.length === 0 && principal + interest + fees === 0n) errors.push({ code: 'VALIDATION', field: ['principal'], message: 'nothing is overdue' });
  const contactPoints = (d.contactPoints ?? []).map((cp, i) => {
    const value = str(cp.value, `debtor.contactPoints.${i}.value`, errors, 254);
    const normalized = normalizeContactValue(cp.kind, value);
    if (normalized === null) {
      errors.push({ code: 'VALIDATION', field: [`debtor.contactPoints.${i}.value`], message: `not a valid ${cp.kind.toLowerCase().replace('_', ' ')}` });
    }
    return { kind: cp.kind, value: normalized ?? value, party: cp.party ?? 'DEBTOR', relation: optionalStr(cp.relation, `debtor.contactPoints.${i}.relation`, errors, 100), primary: cp.primary ?? false };
  });
  const addresses = (d.addresses ?? []).map((ad, i) => ({
    kind: ad.kind,
    line1: str(ad.line1, `debtor.addresses.${i}.line1`, errors),
    line2: optionalStr(ad.line2, `debtor.addresses.${i}.line2`, errors),
    city: str(ad.city, `debtor.addresses.${i}.city`, errors, 100),
    region: str(ad.region, `debtor.addresses.${i}.region`, errors, 100),
    postalCode: optionalStr(ad.postalCode, `debtor.addresses.${i}.postalCode`, errors, 20),
    country: (optionalStr(ad.country, `debtor.addresses.${i}.country`, errors, 2) ?? 'CN').toUpperCase(),
  }));
  const row: NormalizedRow = {
    key: '',
    account: {
      externalRef: str(a.externalRef, 'account.externalRef', errors, 64),
      cardLast4,
      product: str(a.product, 'account.product', errors, 100),
      creditLimit: amount(a.creditLimit, 'account.creditLimit', errors),
      currency,
      openedOn: date(a.openedOn ?? null, 'account.openedOn', errors),
    },
    debtor: {
      externalRef: str(d.externalRef, 'debtor.externalRef', errors, 64),
      fullName: str(d.fullName, 'debtor.fullName', errors),
      nationalId,
      timeZone,
      jurisdiction: d.jurisdiction ?? 'CN',
      language: d.language ?? 'ZH_CN',
      contactPoints,
      addresses,
    },
    dueDate: dueDate ?? new Date(0),
    principal,
    interest,
    fees,
    priority: raw.priority ?? 'NORMAL',
    usage: validateUsage(raw, now, errors),
  };
  // Plausible dates (issue 11): an account is opened in the past, and falls due after it was opened.
  const opened = row.account.openedOn;
  if (opened && dateOnly(opened) > bankToday(now)) {
    errors.push({ code: 'VALIDATION', field: ['account.openedOn'], message: 'account.openedOn is in the future' });
  } else if (opened && dueDate && dueDay <= dateOnly(opened)) {
    errors.push({ code: 'VALIDATION', field: ['dueDate'], message: `dueDate ${dueDay} is not after the account was opened (${dateOnly(opened)})` });
  }
  if (errors.length) return { errors };
  row.key = `${row.account.externalRef}|${dueDay}`;
  return { row };
}

export interface IntakeDeps {
  prisma: PrismaClient;
  clock: Clock;
  pii: Pii;
}

/**
 * UUIDv7 ids for one batch (RFC 9562, as lib/ids.ts makes them): the batch's millisecond, then
 * random bits taken from crypto.randomUUID (which draws from a pooled buffer: one crypto call per
 * id costs more than the rest of a row).
 */
function batchIds(at: number): () => string {
  const ms = at.toString(16).padStart(12, '0');
  const prefix = `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7`;
  return () => prefix + randomUUID().slice(15); // v4 → v7: keep the random tail and the variant bits
}

/**
 * Rows for json_to_recordset, as the UTF-8 bytes of their JSON: Prisma serialises the parameters
 * of a raw query to JSON and back, and logs them; bytes pass as base64, with none of the escaping
 * of a megabyte of JSON text, three times over.
 */
function jsonBytes(rows: unknown): Buffer {
  return Buffer.from(JSON.stringify(rows), 'utf8');
}

interface ExistingAccount {
  id: string;
  debtorId: string;
  currency: string;
}

interface ExistingCase {
  id: string;
  caseNo: number;
  accountId: string;
  /** YYYY-MM-DD. */
  due: string;
  principal: bigint;
  interest: bigint;
  fees: bigint;
  version: number;
  stage: CaseStage;
  assignedAgencyId: string | null;
}

/**
 * The statements of a batch: three reads, then at most three writes, whatever the number of rows.
 * The rows travel as one JSON parameter per table (see jsonBytes), read by json_to_recordset, and
 * the tables written together are written by one statement with data-modifying CTEs (foreign keys
 * are checked at its end). Prisma's createMany bound a parameter per value and spent tens of
 * milliseconds of JavaScript per hundred rows building, serialising and logging them, and the
 * lookup of known cases was an OR of one condition per row: at thousands of rows a second that was
 * most of the time. Raw SQL names the columns: a column added to these tables without a database
 * default has to be added here too (test/cases and test/cli would fail first).
 */
const SQL = {
  accounts: `SELECT "id", "externalRef", "debtorId", "currency" FROM "CardAccount" WHERE "externalRef" = ANY($1::text[])`,
  debtors: `SELECT "id", "externalRef" FROM "Debtor" WHERE "externalRef" = ANY($1::text[])`,
  /** The known cases of (account, due date) pairs: a join on the unique index, not an OR per row. */
  cases: `SELECT c."id", c."caseNo", c."accountId", to_char(c."dueDate", 'YYYY-MM-DD') AS "due", c."principal", c."interest", c."fees", c."version", c."stage"::text AS "stage", c."assignedAgencyId"
    FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS k(a uuid, d date)
    JOIN "Case" c ON c."accountId" = k.a AND c."dueDate" = k.d`,
  /** New debtors with their contact points and addresses (nested), and new card accounts: one statement. */
  insertPeople: `WITH u AS (
      SELECT * FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS u(id uuid, ref text, name text, ct text, bi text, mk text, tz text, jur "Jurisdiction", lang "Language", cps json, ads json)
    ), d AS (
      INSERT INTO "Debtor" ("id", "externalRef", "fullName", "nationalIdCiphertext", "nationalIdBlindIndex", "nationalIdMasked", "timeZone", "jurisdiction", "language", "createdAt", "updatedAt")
      SELECT u.id, u.ref, u.name, decode(u.ct, 'base64'), u.bi, u.mk, u.tz, u.jur, u.lang, $3::timestamptz, $3::timestamptz FROM u
    ), cp AS (
      INSERT INTO "ContactPoint" ("id", "debtorId", "kind", "party", "relation", "value", "primary", "createdAt")
      SELECT c.id, u.id, c.kind, c.party, c.rel, c.v, c.p, $3::timestamptz
      FROM u, json_to_recordset(u.cps) AS c(id uuid, kind "ContactPointKind", party "ContactParty", rel text, v text, p boolean)
    ), ad AS (
      INSERT INTO "Address" ("id", "debtorId", "kind", "line1", "line2", "city", "region", "postalCode", "country", "createdAt")
      SELECT a.id, u.id, a.kind, a.l1, a.l2, a.city, a.region, a.pc, a.country, $3::timestamptz
      FROM u, json_to_recordset(u.ads) AS a(id uuid, kind "AddressKind", l1 text, l2 text, city text, region text, pc text, country text)
    )
    INSERT INTO "CardAccount" ("id", "externalRef", "debtorId", "cardLast4", "product", "creditLimit", "currency", "openedOn", "createdAt")
    SELECT a.id, a.ref, a.d, a.l4, a.product, a.lim, a.cur, a.opened, $3::timestamptz
    FROM json_to_recordset(convert_from($2::bytea, 'UTF8')::json) AS a(id uuid, ref text, d uuid, l4 text, product text, lim bigint, cur text, opened date)`,
  /**
   * New cases, each with its CASE_OPENED event and case.open audit record (their data made here
   * from the case's own columns): one statement, returning the case numbers.
   */
  insertCases: `WITH u AS (
      SELECT * FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS u(id uuid, a uuid, d uuid, cur text, p bigint, i bigint, f bigint, due date, pr "CasePriority", ev uuid, au uuid)
    ), c AS (
      INSERT INTO "Case" ("id", "accountId", "debtorId", "currency", "principal", "interest", "fees", "overdueTotal", "dueDate", "priority", "openedAt", "updatedAt")
      SELECT u.id, u.a, u.d, u.cur, u.p, u.i, u.f, u.p + u.i + u.f, u.due, u.pr, $2::timestamptz, $2::timestamptz FROM u
      RETURNING "id", "caseNo"
    ), e AS (
      INSERT INTO "CaseEvent" ("id", "caseId", "type", "actorId", "actorLabel", "agencyId", "occurredAt", "summary", "data", "requestId")
      SELECT u.ev, u.id, 'CASE_OPENED', $3::uuid, $4::text, NULL, $2::timestamptz, 'Case opened from the bank',
        jsonb_build_object('dueDate', to_char(u.due, 'YYYY-MM-DD'), 'principal', u.p::text, 'interest', u.i::text, 'fees', u.f::text, 'currency', u.cur), $5::text
      FROM u
    ), au AS (
      INSERT INTO "AuditEvent" ("id", "at", "actorId", "actorRole", "agencyId", "action", "entityType", "entityId", "caseId", "requestId", "data")
      SELECT u.au, $2::timestamptz, $3::uuid, $6::text::"Role", $7::uuid, 'case.open', 'Case', u.id::text, u.id, $5::text, jsonb_build_object('source', $8::text)
      FROM u
    )
    SELECT "id", "caseNo" FROM c`,
  /**
   * The amounts of known cases, each only at the version read (a concurrent writer wins:
   * STALE_VERSION), with an AMOUNTS_REFRESHED event and a case.refreshAmounts audit record for
   * each case changed: one statement, returning the cases changed.
   */
  refreshCases: `WITH u AS (
      SELECT * FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS u(id uuid, v int, p bigint, i bigint, f bigint, op bigint, oi bigint, of bigint, ag uuid, ev uuid, au uuid)
    ), c AS (
      UPDATE "Case" c SET "principal" = u.p, "interest" = u.i, "fees" = u.f, "overdueTotal" = u.p + u.i + u.f, "version" = c."version" + 1, "updatedAt" = $2::timestamptz
      FROM u WHERE c."id" = u.id AND c."version" = u.v
      RETURNING c."id"
    ), x AS (
      SELECT u.*, jsonb_build_object('from', jsonb_build_object('principal', u.op::text, 'interest', u.oi::text, 'fees', u.of::text),
                                     'to', jsonb_build_object('principal', u.p::text, 'interest', u.i::text, 'fees', u.f::text)) AS change
      FROM u JOIN c ON c.id = u.id
    ), e AS (
      INSERT INTO "CaseEvent" ("id", "caseId", "type", "actorId", "actorLabel", "agencyId", "occurredAt", "summary", "data", "requestId")
      SELECT x.ev, x.id, 'AMOUNTS_REFRESHED', $3::uuid, $4::text, x.ag, $2::timestamptz, 'Overdue amounts refreshed from the bank', x.change, $5::text
      FROM x
    ), au AS (
      INSERT INTO "AuditEvent" ("id", "at", "actorId", "actorRole", "agencyId", "action", "entityType", "entityId", "caseId", "requestId", "data")
      SELECT x.au, $2::timestamptz, $3::uuid, $6::text::"Role", $7::uuid, 'case.refreshAmounts', 'Case', x.id::text, x.id, $5::text, x.change || jsonb_build_object('source', $8::text)
      FROM x
    )
    SELECT "id" FROM c`,
  /** Card usage (issue 18): what an intake sends replaces what was kept for the account. */
  deleteStatements: `DELETE FROM "CardStatement" WHERE "accountId" = ANY($1::uuid[])`,
  insertStatements: `INSERT INTO "CardStatement" ("id", "accountId", "periodStart", "periodEnd", "statementBalance", "minimumDue", "amountPaid", "dueDate", "currency", "receivedAt")
    SELECT s.id, s.a, s.ps, s.pe, s.bal, s.min, s.paid, s.due, s.cur, $2::timestamptz
    FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS s(id uuid, a uuid, ps date, pe date, bal bigint, min bigint, paid bigint, due date, cur text)`,
  deleteTransactions: `DELETE FROM "CardTransaction" WHERE "accountId" = ANY($1::uuid[])`,
  insertTransactions: `INSERT INTO "CardTransaction" ("id", "accountId", "postedOn", "merchantCategory", "merchantName", "amount", "currency", "receivedAt")
    SELECT t.id, t.a, t.d, t.cat, t.name, t.amt, t.cur, $2::timestamptz
    FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS t(id uuid, a uuid, d date, cat text, name text, amt bigint, cur text)`,
};

/**
 * Takes in a batch of accounts in one transaction, idempotent by (card account, first missed due
 * date): new ones are created, known ones get their amounts refreshed, a re-sent batch creates
 * nothing. Bulk statements with ids made here, so a batch of thousands costs a handful of round
 * trips. A bad row never stops the good ones: it is reported with its reasons. `dryRun` reads and
 * decides as usual but writes nothing (CREATED outcomes then have no case id or number).
 */
export async function intakeBatch(
  deps: IntakeDeps,
  actor: Actor | null,
  raws: readonly IntakeRow[],
  options: { source?: string; refreshExisting?: boolean; dryRun?: boolean } = {},
): Promise<IntakeOutcome[]> {
  const now = deps.clock.now();
  const outcomes: IntakeOutcome[] = raws.map((_, index) => ({ index, status: 'REJECTED', caseId: null, caseNumber: null, errors: [] }));
  const valid: { index: number; row: NormalizedRow; due: string }[] = [];
  const seen = new Map<string, number>();
  raws.forEach((raw, index) => {
    const v = validateIntakeRow(raw, now);
    if ('errors' in v) {
      outcomes[index]!.errors = v.errors;
      return;
    }
    const first = seen.get(v.row.key);
    if (first !== undefined) {
      outcomes[index]!.errors = [{ code: 'DUPLICATE', field: ['account.externalRef'], message: `same account and due date as row ${first}` }];
      return;
    }
    seen.set(v.row.key, index);
    valid.push({ index, row: v.row, due: v.row.key.slice(v.row.account.externalRef.length + 1) });
  });
  if (valid.length === 0) return outcomes;

  const who = actor ? auditActor(actor) : { userId: null, role: null, agencyId: null, requestId: null };
  const label = actor ? actorLabel(actor) : 'system';
  const source = options.source ?? null;
  const dryRun = options.dryRun === true;
  const at = now.toISOString();
  const newId = batchIds(now.getTime());

  // Two imports of the same accounts at once (a retried request, a second operator): the loser
  // meets a unique key (debtor, account or case) and runs again, now seeing the winner's rows:
  // UNCHANGED, never an internal error.
  const initial = outcomes.map((o) => ({ ...o }));
  for (let attempt = 1; ; attempt++) {
    try {
      await intakeTransaction();
      break;
    } catch (err) {
      if (attempt >= 3 || !isUniqueViolation(err)) throw err;
      initial.forEach((o, i) => (outcomes[i] = { ...o, errors: [...o.errors] }));
    }
  }
  return outcomes;

  async function intakeTransaction() {
  await deps.prisma.$transaction(
    async (tx) => {
      const accountRefs = [...new Set(valid.map((v) => v.row.account.externalRef))];
      const debtorRefs = [...new Set(valid.map((v) => v.row.debtor.externalRef))];
      const accounts = await tx.$queryRawUnsafe<(ExistingAccount & { externalRef: string })[]>(SQL.accounts, accountRefs);
      const accountByRef = new Map<string, ExistingAccount>(accounts.map((a) => [a.externalRef, a]));
      const debtors = await tx.$queryRawUnsafe<{ id: string; externalRef: string }[]>(SQL.debtors, debtorRefs);
      const debtorByRef = new Map(debtors.map((d) => [d.externalRef, d.id]));
      const caseByKey = new Map<string, ExistingCase>();
      if (accounts.length) {
        const keys = valid.filter((v) => accountByRef.has(v.row.account.externalRef)).map((v) => ({ a: accountByRef.get(v.row.account.externalRef)!.id, d: v.due }));
        if (keys.length) {
          for (const c of await tx.$queryRawUnsafe<ExistingCase[]>(SQL.cases, jsonBytes(keys))) caseByKey.set(`${c.accountId}|${c.due}`, c);
        }
      }

      const newDebtors: object[] = [];
      const newAccounts: object[] = [];
      const newCases: object[] = [];
      const created: { index: number; id: string }[] = [];
      const refreshes: { index: number; existing: ExistingCase; row: NormalizedRow }[] = [];

      for (const { index, row, due } of valid) {
        const out = outcomes[index]!;
        const account = accountByRef.get(row.account.externalRef);
        let debtorId = debtorByRef.get(row.debtor.externalRef);
        // A known account with another debtor, known or not yet (a new debtor ref on a known account).
        if (account && account.debtorId !== debtorId) {
          out.errors = [{ code: 'VALIDATION', field: ['debtor.externalRef'], message: 'the account belongs to another debtor' }];
          continue;
        }
        if (account && account.currency !== row.account.currency) {
          out.errors = [{ code: 'VALIDATION', field: ['account.currency'], message: `the account is in ${account.currency}` }];
          continue;
        }
        const existing = account ? caseByKey.get(`${account.id}|${due}`) : undefined;
        if (existing) {
          out.caseId = existing.id;
          out.caseNumber = formatCaseNumber(existing.caseNo);
          if (options.refreshExisting === false) {
            out.errors = [{ code: 'DUPLICATE', field: ['account.externalRef'], message: `the account already has case ${out.caseNumber} for this due date` }];
            continue;
          }
          if (existing.principal === row.principal && existing.interest === row.interest && existing.fees === row.fees) {
            out.status = 'UNCHANGED';
            continue;
          }
          if (isEnded(existing)) {
            out.errors = [{ code: 'CASE_ENDED', field: ['dueDate'], message: `case ${out.caseNumber} is ${existing.stage.toLowerCase()}: amounts not refreshed` }];
            continue;
          }
          refreshes.push({ index, existing, row });
          continue;
        }
        if (!debtorId) {
          const id = newId();
          debtorId = id;
          debtorByRef.set(row.debtor.externalRef, id);
          const d = row.debtor;
          const sealed = dryRun ? null : deps.pii.sealNationalId(d.nationalId);
          newDebtors.push({
            id,
            ref: d.externalRef,
            name: d.fullName,
            ct: sealed ? Buffer.from(sealed.nationalIdCiphertext.buffer, sealed.nationalIdCiphertext.byteOffset, sealed.nationalIdCiphertext.byteLength).toString('base64') : '',
            bi: sealed?.nationalIdBlindIndex ?? '',
            mk: sealed?.nationalIdMasked ?? '',
            tz: d.timeZone,
            jur: d.jurisdiction,
            lang: d.language,
            cps: d.contactPoints.map((cp, i) => ({ id: newId(), kind: cp.kind, party: cp.party, rel: cp.relation, v: cp.value, p: cp.primary || (i === 0 && cp.party === 'DEBTOR') })),
            ads: d.addresses.map((ad) => ({ id: newId(), kind: ad.kind, l1: ad.line1, l2: ad.line2, city: ad.city, region: ad.region, pc: ad.postalCode, country: ad.country })),
          });
        }
        let accountId = account?.id;
        if (!accountId) {
          accountId = newId();
          const a = row.account;
          newAccounts.push({ id: accountId, ref: a.externalRef, d: debtorId, l4: a.cardLast4, product: a.product, lim: `${a.creditLimit}`, cur: a.currency, opened: a.openedOn ? dateOnly(a.openedOn) : null });
          accountByRef.set(a.externalRef, { id: accountId, debtorId, currency: a.currency });
        }
        const caseId = newId();
        newCases.push({ id: caseId, a: accountId, d: debtorId, cur: row.account.currency, p: `${row.principal}`, i: `${row.interest}`, f: `${row.fees}`, due, pr: row.priority, ev: newId(), au: newId() });
        created.push({ index, id: caseId });
      }

      if (dryRun) {
        for (const r of refreshes) outcomes[r.index]!.status = 'UPDATED';
        for (const c of created) outcomes[c.index]!.status = 'CREATED';
        return;
      }
      // Who, for the timeline and the audit log: $3 actor id, $4 label, $5 request id, $6 role, $7 agency, $8 source.
      const actorArgs = [who.userId, label, who.requestId, who.role, who.agencyId, source] as const;

      if (refreshes.length) {
        const rows = refreshes.map(({ existing: e, row: r }) => ({
          id: e.id,
          v: e.version,
          p: `${r.principal}`,
          i: `${r.interest}`,
          f: `${r.fees}`,
          op: `${e.principal}`,
          oi: `${e.interest}`,
          of: `${e.fees}`,
          ag: e.assignedAgencyId,
          ev: newId(),
          au: newId(),
        }));
        const done = new Set((await tx.$queryRawUnsafe<{ id: string }[]>(SQL.refreshCases, jsonBytes(rows), at, ...actorArgs)).map((d) => d.id));
        for (const { index, existing } of refreshes) {
          const out = outcomes[index]!;
          if (done.has(existing.id)) out.status = 'UPDATED';
          else out.errors = [{ code: 'STALE_VERSION', field: null, message: 'the case changed during the import: send the row again' }];
        }
      }
      if (newDebtors.length || newAccounts.length) await tx.$executeRawUnsafe(SQL.insertPeople, jsonBytes(newDebtors), jsonBytes(newAccounts), at);
      if (newCases.length) {
        const numbers = await tx.$queryRawUnsafe<{ id: string; caseNo: number }[]>(SQL.insertCases, jsonBytes(newCases), at, ...actorArgs);
        const caseNoById = new Map(numbers.map((n) => [n.id, n.caseNo]));
        for (const { index, id } of created) {
          const out = outcomes[index]!;
          out.status = 'CREATED';
          out.caseId = id;
          out.caseNumber = formatCaseNumber(caseNoById.get(id)!);
        }
      }
      await keepUsage(tx, valid.filter((v) => outcomes[v.index]!.status !== 'REJECTED'), accountByRef, newId, at);
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  }
}

/**
 * Card usage of the rows taken in (created, refreshed or unchanged: usage is the account's, sent
 * fresh with every intake): for each account whose row sends statements (or transactions), those
 * sent replace those kept. The last row of an account in a batch wins.
 */
async function keepUsage(
  tx: { $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number> },
  rows: readonly { row: NormalizedRow }[],
  accountByRef: Map<string, ExistingAccount>,
  newId: () => string,
  at: string,
) {
  const statements = new Map<string, { cur: string; list: NonNullable<NormalizedUsage['statements']> }>();
  const transactions = new Map<string, { cur: string; list: NonNullable<NormalizedUsage['transactions']> }>();
  for (const { row } of rows) {
    const account = accountByRef.get(row.account.externalRef);
    if (!account) continue;
    if (row.usage.statements) statements.set(account.id, { cur: account.currency, list: row.usage.statements });
    if (row.usage.transactions) transactions.set(account.id, { cur: account.currency, list: row.usage.transactions });
  }
  if (statements.size) {
    await tx.$executeRawUnsafe(SQL.deleteStatements, [...statements.keys()]);
    const rowsOut = [...statements].flatMap(([a, { cur, list }]) =>
      list.map((s) => ({ id: newId(), a, ps: s.periodStart, pe: s.periodEnd, bal: `${s.statementBalance}`, min: `${s.minimumDue}`, paid: `${s.amountPaid}`, due: s.dueDate, cur })),
    );
    if (rowsOut.length) await tx.$executeRawUnsafe(SQL.insertStatements, jsonBytes(rowsOut), at);
  }
  if (transactions.size) {
    await tx.$executeRawUnsafe(SQL.deleteTransactions, [...transactions.keys()]);
    const rowsOut = [...transactions].flatMap(([a, { cur, list }]) => list.map((t) => ({ id: newId(), a, d: t.postedOn, cat: t.merchantCategory, name: t.merchantName, amt: `${t.amount}`, cur })));
    if (rowsOut.length) await tx.$executeRawUnsafe(SQL.insertTransactions, jsonBytes(rowsOut), at);
  }
}

/** One account: a case is opened, or the existing one is reported as a DUPLICATE and nothing changes. */
export async function openCase(deps: IntakeDeps, actor: Actor, row: IntakeRow) {
  const [outcome] = await intakeBatch(deps, actor, [row], { source: 'openCase', refreshExisting: false });
  if (!outcome) throw new Error('intake returned nothing');
  if (outcome.status !== 'CREATED') {
    const first = outcome.errors[0] ?? { code: 'DUPLICATE' as const, message: 'already open', field: null };
    throw new DomainError(first.code, first.message, first.field ?? undefined, { caseId: outcome.caseId });
  }
  const c = await deps.prisma.case.findUniqueOrThrow({ where: { id: outcome.caseId! } });
  return { case: c };
}
