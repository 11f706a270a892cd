import type { PrismaClient, Prisma } from '../../generated/prisma/client.ts';
import type { AddressKind, CasePriority, ContactParty, ContactPointKind, Jurisdiction, Language } from '../../generated/prisma/enums.ts';
import type { Clock } from '../../lib/time.ts';
import { dateOnly, localDate, parseDateOnly, BANK_TIME_ZONE } from '../../lib/time.ts';
import { Pii } from '../../lib/pii.ts';
import { DomainError, type UserError } from '../../lib/errors.ts';
import { uuidv7, formatCaseNumber } from '../../lib/ids.ts';
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
const CURRENCIES = new Set(['CNY', 'USD', 'HKD', 'EUR', 'GBP', 'JPY']);
const KINDS_FOR_PHONE = new Set(['MOBILE', 'HOME_PHONE', 'WORK_PHONE']);
const MAX_MINOR = 10n ** 15n; // far above any card balance; keeps every sum a safe integer on the wire

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
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

function str(value: unknown, field: string, errors: UserError[], max = 200): string {
  const v = typeof value === 'string' ? value.trim() : '';
  if (!v) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is required` });
  else if (v.length > max) errors.push({ code: 'VALIDATION', field: [field], message: `${field} is longer than ${max} characters` });
  return v;
}

function date(value: Date | string | null | undefined, field: string, errors: UserError[]): Date | null {
  if (value === null || value === undefined || value === '') return null;
  try {
    return typeof value === 'string' ? parseDateOnly(value) : parseDateOnly(dateOnly(value));
  } catch {
    errors.push({ code: 'VALIDATION', field: [field], message: `${field} must be a date YYYY-MM-DD` });
    return null;
  }
}

/** Validates and normalises one row at the edge: nothing reaches the database unchecked. */
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
  if (dueDate && dateOnly(dueDate) >= localDate(now, BANK_TIME_ZONE)) {
    errors.push({ code: 'VALIDATION', field: ['dueDate'], message: 'dueDate must be in the past: the account is not overdue yet' });
  }
  const principal = amount(raw.principal, 'principal', errors);
  const interest = amount(raw.interest, 'interest', errors);
  const fees = amount(raw.fees, 'fees', errors);
  if (errors.length === 0 && principal + interest + fees === 0n) errors.push({ code: 'VALIDATION', field: ['principal'], message: 'nothing is overdue' });
  const contactPoints = (d.contactPoints ?? []).map((cp, i) => {
    const value = str(cp.value, `debtor.contactPoints.${i}.value`, errors, 254);
    if (cp.kind === 'EMAIL' ? !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) : KINDS_FOR_PHONE.has(cp.kind) && !/^\+?[0-9 ()-]{5,20}$/.test(value)) {
      errors.push({ code: 'VALIDATION', field: [`debtor.contactPoints.${i}.value`], message: `not a valid ${cp.kind.toLowerCase().replace('_', ' ')}` });
    }
    return { kind: cp.kind, value: cp.kind === 'EMAIL' ? value.toLowerCase() : value.replace(/[\s()-]/g, ''), party: cp.party ?? 'DEBTOR', relation: cp.relation?.trim() || null, primary: cp.primary ?? false };
  });
  const addresses = (d.addresses ?? []).map((ad, i) => ({
    kind: ad.kind,
    line1: str(ad.line1, `debtor.addresses.${i}.line1`, errors),
    line2: ad.line2?.trim() || null,
    city: str(ad.city, `debtor.addresses.${i}.city`, errors, 100),
    region: str(ad.region, `debtor.addresses.${i}.region`, errors, 100),
    postalCode: ad.postalCode?.trim() || null,
    country: (ad.country?.trim() || 'CN').toUpperCase(),
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
  };
  if (errors.length) return { errors };
  row.key = `${row.account.externalRef}|${dateOnly(row.dueDate)}`;
  return { row };
}

export interface IntakeDeps {
  prisma: PrismaClient;
  clock: Clock;
  pii: Pii;
}

/**
 * Takes in a batch of accounts in one transaction, idempotent by (card account, first missed due
 * date): new ones are created, known ones get their amounts refreshed, a re-sent batch creates
 * nothing. Bulk statements (createMany) with ids made here, so a batch of thousands costs a
 * handful of round trips. A bad row never stops the good ones: it is reported with its reasons.
 */
export async function intakeBatch(deps: IntakeDeps, actor: Actor | null, raws: readonly IntakeRow[], options: { source?: string; refreshExisting?: boolean } = {}): Promise<IntakeOutcome[]> {
  const now = deps.clock.now();
  const outcomes: IntakeOutcome[] = raws.map((_, index) => ({ index, status: 'REJECTED', caseId: null, caseNumber: null, errors: [] }));
  const valid: { index: number; row: NormalizedRow }[] = [];
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
    valid.push({ index, row: v.row });
  });
  if (valid.length === 0) return outcomes;

  const who = actor ? auditActor(actor) : { userId: null, role: null, agencyId: null, requestId: null };
  const label = actor ? actorLabel(actor) : 'system';

  await deps.prisma.$transaction(
    async (tx) => {
      const accounts = await tx.cardAccount.findMany({ where: { externalRef: { in: [...new Set(valid.map((v) => v.row.account.externalRef))] } } });
      const accountByRef = new Map(accounts.map((a) => [a.externalRef, a]));
      const debtors = await tx.debtor.findMany({
        where: { externalRef: { in: [...new Set(valid.map((v) => v.row.debtor.externalRef))] } },
        select: { id: true, externalRef: true },
      });
      const debtorByRef = new Map(debtors.map((d) => [d.externalRef, d.id]));
      const existingCases = accounts.length
        ? await tx.case.findMany({
            where: { OR: valid.filter((v) => accountByRef.has(v.row.account.externalRef)).map((v) => ({ accountId: accountByRef.get(v.row.account.externalRef)!.id, dueDate: v.row.dueDate })) },
          })
        : [];
      const caseByKey = new Map(existingCases.map((c) => [`${c.accountId}|${dateOnly(c.dueDate)}`, c]));

      const newDebtors: Prisma.DebtorCreateManyInput[] = [];
      const newContactPoints: Prisma.ContactPointCreateManyInput[] = [];
      const newAddresses: Prisma.AddressCreateManyInput[] = [];
      const newAccounts: Prisma.CardAccountCreateManyInput[] = [];
      const newCases: Prisma.CaseCreateManyInput[] = [];
      const events: Prisma.CaseEventCreateManyInput[] = [];
      const audits: Prisma.AuditEventCreateManyInput[] = [];
      const created: { index: number; id: string }[] = [];
      const t = now.getTime();

      for (const { index, row } of valid) {
        const out = outcomes[index]!;
        const account = accountByRef.get(row.account.externalRef);
        let debtorId = debtorByRef.get(row.debtor.externalRef);
        if (account && debtorId && account.debtorId !== debtorId) {
          out.errors = [{ code: 'VALIDATION', field: ['debtor.externalRef'], message: 'the account belongs to another debtor' }];
          continue;
        }
        if (account && account.currency !== row.account.currency) {
          out.errors = [{ code: 'VALIDATION', field: ['account.currency'], message: `the account is in ${account.currency}` }];
          continue;
        }
        const existing = account ? caseByKey.get(`${account.id}|${dateOnly(row.dueDate)}`) : undefined;
        const overdueTotal = row.principal + row.interest + row.fees;
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
          // Refresh the amounts; a concurrent writer's version bump is respected by the conditional update.
          const res = await tx.case.updateMany({
            where: { id: existing.id, version: existing.version },
            data: { principal: row.principal, interest: row.interest, fees: row.fees, overdueTotal, version: { increment: 1 } },
          });
          if (res.count === 0) {
            out.errors = [{ code: 'STALE_VERSION', field: null, message: 'the case changed during the import: send the row again' }];
            continue;
          }
          out.status = 'UPDATED';
          const change = { from: { principal: `${existing.principal}`, interest: `${existing.interest}`, fees: `${existing.fees}` }, to: { principal: `${row.principal}`, interest: `${row.interest}`, fees: `${row.fees}` } };
          events.push({ caseId: existing.id, type: 'AMOUNTS_REFRESHED', summary: 'Overdue amounts refreshed from the bank', data: change, actorId: who.userId, actorLabel: label, agencyId: existing.assignedAgencyId, occurredAt: now, requestId: who.requestId });
          audits.push({ at: now, actorId: who.userId, actorRole: who.role, agencyId: who.agencyId, requestId: who.requestId, action: 'case.refreshAmounts', entityType: 'Case', entityId: existing.id, caseId: existing.id, data: { ...change, source: options.source ?? null } });
          continue;
        }
        if (!debtorId) {
          debtorId = uuidv7(t);
          debtorByRef.set(row.debtor.externalRef, debtorId);
          const d = row.debtor;
          newDebtors.push({ id: debtorId, externalRef: d.externalRef, fullName: d.fullName, ...deps.pii.sealNationalId(d.nationalId), timeZone: d.timeZone, jurisdiction: d.jurisdiction, language: d.language, createdAt: now, updatedAt: now });
          d.contactPoints.forEach((cp, i) => newContactPoints.push({ id: uuidv7(t), debtorId: debtorId!, ...cp, primary: cp.primary || (i === 0 && cp.party === 'DEBTOR'), createdAt: now }));
          for (const ad of d.addresses) newAddresses.push({ id: uuidv7(t), debtorId, ...ad, createdAt: now });
        }
        let accountId = account?.id;
        if (!accountId) {
          accountId = uuidv7(t);
          const a = row.account;
          newAccounts.push({ id: accountId, externalRef: a.externalRef, debtorId, cardLast4: a.cardLast4, product: a.product, creditLimit: a.creditLimit, currency: a.currency, openedOn: a.openedOn, createdAt: now });
          accountByRef.set(a.externalRef, { id: accountId, debtorId, currency: a.currency } as never);
        }
        const caseId = uuidv7(t);
        newCases.push({ id: caseId, accountId, debtorId, currency: row.account.currency, principal: row.principal, interest: row.interest, fees: row.fees, overdueTotal, dueDate: row.dueDate, priority: row.priority, openedAt: now, updatedAt: now });
        events.push({ caseId, type: 'CASE_OPENED', summary: 'Case opened from the bank', data: { dueDate: dateOnly(row.dueDate), principal: `${row.principal}`, interest: `${row.interest}`, fees: `${row.fees}`, currency: row.account.currency }, actorId: who.userId, actorLabel: label, agencyId: null, occurredAt: now, requestId: who.requestId });
        audits.push({ at: now, actorId: who.userId, actorRole: who.role, agencyId: who.agencyId, requestId: who.requestId, action: 'case.open', entityType: 'Case', entityId: caseId, caseId, data: { source: options.source ?? null } });
        created.push({ index, id: caseId });
      }

      if (newDebtors.length) await tx.debtor.createMany({ data: newDebtors });
      if (newContactPoints.length) await tx.contactPoint.createMany({ data: newContactPoints });
      if (newAddresses.length) await tx.address.createMany({ data: newAddresses });
      if (newAccounts.length) await tx.cardAccount.createMany({ data: newAccounts });
      if (newCases.length) await tx.case.createMany({ data: newCases });
      if (events.length) await tx.caseEvent.createMany({ data: events });
      if (audits.length) await tx.auditEvent.createMany({ data: audits });
      if (created.length) {
        const numbers = await tx.case.findMany({ where: { id: { in: created.map((c) => c.id) } }, select: { id: true, caseNo: true } });
        const byId = new Map(numbers.map((n) => [n.id, n.caseNo]));
        for (const c of created) {
          const out = outcomes[c.index]!;
          out.status = 'CREATED';
          out.caseId = c.id;
          out.caseNumber = formatCaseNumber(byId.get(c.id)!);
        }
      }
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  return outcomes;
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
