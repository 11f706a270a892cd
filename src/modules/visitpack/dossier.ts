/**
 * The visit dossier (issue 18, point 2; DOMAIN.md "Home visits", step 1): what the collectors
 * carry, compiled from the case when the visit is planned and frozen with the visit (stored as
 * JSON on `Visit.dossier`, version 2), read through one tolerant reader so that dossiers stored
 * before this shape (version 1: no card usage, no history) stay readable.
 *
 * Two forms. The bank's holds everything below; the agency's (PIPL's minimum necessary) no credit
 * limit, no breakdown of the debt, no e-mail addresses. Records made in an agency's era carry
 * that agency's id in the dossier, so that an agency reading a dossier the bank compiled never
 * sees another agency's promises, plans, holds, complaints or contact counts: the reader applies
 * the agency form and the era to whatever is stored, whenever an agency principal reads it.
 */
import type { Prisma } from '../../generated/prisma/client.ts';
import type { Tx } from '../../db/store.ts';
import { dateOnly, daysPastDue } from '../../lib/time.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import * as E from '../../generated/prisma/enums.ts';

/** Shown in the dossier: the newest statements and transactions, and the history's recent window. */
export const DOSSIER_STATEMENTS = 12;
export const DOSSIER_TRANSACTIONS = 20;
export const DOSSIER_PROMISES = 10;
export const DOSSIER_PLANS = 10;

type Era = string | null;
export type DossierForm = 'BANK' | 'AGENCY';

/** The stored shape, version 2. Money is a string of minor units (JSON has no bigint). */
export interface StoredDossier {
  version: 2;
  form: DossierForm;
  compiledAt: string;
  caseNumber: string;
  debtor: { fullName: string; nationalIdMasked: string; language: string; timeZone: string; jurisdiction: string };
  card: { last4: string; product: string; creditLimit?: string; currency: string };
  overdue: { total: string; formatted?: string; principal?: string; interest?: string; fees?: string; currency: string; firstMissedDueDate: string; daysPastDue: number };
  contactPoints: { kind: string; value: string }[];
  address: { kind: string; line1: string; line2: string | null; city: string; region: string; postalCode: string | null; country: string };
  statements: { periodStart: string; periodEnd: string; statementBalance: string; minimumDue: string; amountPaid: string; dueDate: string }[];
  transactions: { postedOn: string; merchantCategory: string; merchantName: string | null; amount: string }[];
  promises: { agencyId: Era; amount: string; promisedFor: string; status: string; paidAmount: string; createdAt: string }[];
  plans: { agencyId: Era; kind: string; status: string; totalAmount: string; paidAmount: string; instalmentCount: number; firstDueDate: string; proposedAt: string }[];
  /** Contact attempts grouped by era and channel: the reader sums the groups the viewer may see. */
  contactHistory: { agencyId: Era; channel: string; attempts: number; connected: number; lastAttemptAt: string; lastOutcome: string | null }[];
  holds: { agencyId: Era; reason: string; startsAt: string; endsAt: string | null; releasedAt: string | null }[];
  complaints: { agencyId: Era; category: string; status: string; receivedAt: string }[];
}

/** What the schema reads: every list present, money as bigint, the era already applied. */
export interface Dossier extends Omit<StoredDossier, 'version' | 'contactHistory'> {
  contactHistory: { totalAttempts: number; connected: number; lastAttemptAt: string | null; lastOutcome: string | null; byChannel: { channel: string; attempts: number }[] };
}

const eraWhere = (era: Era | undefined) => (era === undefined ? {} : { OR: [{ agencyId: null }, ...(era ? [{ agencyId: era }] : [])] });

/**
 * Compiles the dossier in the planning transaction. `era`: the agency whose era the dossier may
 * show (the case's agency when it is placed), undefined for the bank's (every era, marked).
 */
export async function compileDossier(
  tx: Tx,
  input: {
    now: Date;
    case: { id: string; caseNo: number; accountId: string; debtorId: string; overdueTotal: bigint; principal: bigint; interest: bigint; fees: bigint; currency: string; dueDate: Date };
    debtor: { fullName: string; nationalIdMasked: string; language: string; timeZone: string; jurisdiction: string };
    contactPoints: { kind: string; value: string }[];
    address: StoredDossier['address'];
    form: DossierForm;
    era: Era | undefined;
  },
): Promise<StoredDossier> {
  const c = input.case;
  const account = await tx.cardAccount.findUniqueOrThrow({ where: { id: c.accountId } });
  const scoped = eraWhere(input.era);
  const [statements, transactions, promises, plans, attempts, holds, complaints] = await Promise.all([
    tx.cardStatement.findMany({ where: { accountId: account.id }, orderBy: [{ periodEnd: 'desc' }], take: DOSSIER_STATEMENTS }),
    tx.cardTransaction.findMany({ where: { accountId: account.id }, orderBy: [{ postedOn: 'desc' }, { id: 'desc' }], take: DOSSIER_TRANSACTIONS }),
    tx.promiseToPay.findMany({ where: { caseId: c.id, ...scoped }, orderBy: [{ createdAt: 'desc' }], take: DOSSIER_PROMISES }),
    tx.repaymentPlan.findMany({ where: { caseId: c.id, ...scoped }, orderBy: [{ proposedAt: 'desc' }], take: DOSSIER_PLANS }),
    tx.contactAttempt.groupBy({
      by: ['agencyId', 'channel', 'connected'],
      where: { caseId: c.id, status: { not: 'BLOCKED' }, ...scoped },
      _count: { _all: true },
      _max: { attemptedAt: true },
    }),
    tx.hold.findMany({ where: { caseId: c.id, ...scoped }, orderBy: [{ startsAt: 'desc' }] }),
    tx.complaint.findMany({ where: { caseId: c.id, ...scoped }, orderBy: [{ receivedAt: 'desc' }] }),
  ]);
  // The last outcome of each group: one read of the newest attempt per (era, channel).
  const groups = new Map<string, StoredDossier['contactHistory'][number]>();
  for (const g of attempts) {
    const key = `${g.agencyId ?? ''}|${g.channel}`;
    const entry = groups.get(key) ?? { agencyId: g.agencyId, channel: g.channel, attempts: 0, connected: 0, lastAttemptAt: '', lastOutcome: null };
    entry.attempts += g._count._all;
    if (g.connected) entry.connected += g._count._all;
    const last = g._max.attemptedAt?.toISOString() ?? '';
    if (last > entry.lastAttemptAt) entry.lastAttemptAt = last;
    groups.set(key, entry);
  }
  for (const entry of groups.values()) {
    const last = await tx.contactAttempt.findFirst({
      where: { caseId: c.id, agencyId: entry.agencyId, channel: entry.channel as Prisma.EnumContactChannelFilter['equals'], status: { not: 'BLOCKED' } },
      orderBy: [{ attemptedAt: 'desc' }, { id: 'desc' }],
      select: { outcome: true },
    });
    entry.lastOutcome = last?.outcome ?? null;
  }
  const full: StoredDossier = {
    version: 2,
    form: 'BANK',
    compiledAt: input.now.toISOString(),
    caseNumber: formatCaseNumber(c.caseNo),
    debtor: input.debtor,
    card: { last4: account.cardLast4, product: account.product, creditLimit: `${account.creditLimit}`, currency: account.currency },
    overdue: {
      total: `${c.overdueTotal}`,
      principal: `${c.principal}`,
      interest: `${c.interest}`,
      fees: `${c.fees}`,
      currency: c.currency,
      firstMissedDueDate: dateOnly(c.dueDate),
      daysPastDue: daysPastDue(c.dueDate, input.now),
    },
    contactPoints: input.contactPoints,
    address: input.address,
    statements: statements.map((s) => ({ periodStart: dateOnly(s.periodStart), periodEnd: dateOnly(s.periodEnd), statementBalance: `${s.statementBalance}`, minimumDue: `${s.minimumDue}`, amountPaid: `${s.amountPaid}`, dueDate: dateOnly(s.dueDate) })),
    transactions: transactions.map((t) => ({ postedOn: dateOnly(t.postedOn), merchantCategory: t.merchantCategory, merchantName: t.merchantName, amount: `${t.amount}` })),
    promises: promises.map((p) => ({ agencyId: p.agencyId, amount: `${p.amount}`, promisedFor: dateOnly(p.promisedFor), status: p.status, paidAmount: `${p.paidAmount}`, createdAt: p.createdAt.toISOString() })),
    plans: plans.map((p) => ({ agencyId: p.agencyId, kind: p.kind, status: p.status, totalAmount: `${p.totalAmount}`, paidAmount: `${p.paidAmount}`, instalmentCount: p.instalmentCount, firstDueDate: dateOnly(p.firstDueDate), proposedAt: p.proposedAt.toISOString() })),
    contactHistory: [...groups.values()].sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : (a.agencyId ?? '').localeCompare(b.agencyId ?? ''))),
    holds: holds.map((h) => ({ agencyId: h.agencyId, reason: h.reason, startsAt: h.startsAt.toISOString(), endsAt: h.endsAt?.toISOString() ?? null, releasedAt: h.releasedAt?.toISOString() ?? null })),
    complaints: complaints.map((k) => ({ agencyId: k.agencyId, category: k.category, status: k.status, receivedAt: k.receivedAt.toISOString() })),
  };
  return input.form === 'AGENCY' ? toAgencyForm(full, input.era ?? null) : full;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isObj) : []);
const text = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
const optText = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** Minor units as stored: a string of digits (version 2), a safe integer, or a Money-like object `{ minorUnits }` (the demo's version 1). */
const minor = (v: unknown): string | undefined =>
  typeof v === 'string' && /^-?\d{1,19}$/.test(v) ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : isObj(v) && v.minorUnits !== undefined && !isObj(v.minorUnits) ? minor(v.minorUnits) : undefined;
const era = (v: unknown): Era => (typeof v === 'string' ? v : null);
/** A value of an enum as stored, or the fallback: a dossier is JSON, and the schema's enums are strict. */
function oneOf<T extends string>(values: Record<string, T>, v: unknown, fallback: T): T {
  return typeof v === 'string' && (Object.values(values) as string[]).includes(v) ? (v as T) : fallback;
}

/**
 * Reads whatever is stored (version 2, version 1 from before issue 18, or a stray `{}`) into the
 * version 2 shape: what is missing is empty, never invented.
 */
export function normalizeDossier(raw: unknown): StoredDossier {
  const d = isObj(raw) ? raw : {};
  const debtor = isObj(d.debtor) ? d.debtor : {};
  const card = isObj(d.card) ? d.card : {};
  const overdue = isObj(d.overdue) ? d.overdue : {};
  const address = isObj(d.address) ? d.address : {};
  const currency = text(overdue.currency, text(card.currency, 'CNY'));
  const creditLimit = minor(card.creditLimit);
  const principal = minor(overdue.principal);
  const interest = minor(overdue.interest);
  const fees = minor(overdue.fees);
  return {
    version: 2,
    // Version 1 had no form: a dossier without the breakdown is the agency's.
    form: d.form === 'BANK' || d.form === 'AGENCY' ? d.form : principal === undefined ? 'AGENCY' : 'BANK',
    compiledAt: text(d.compiledAt),
    caseNumber: text(d.caseNumber),
    debtor: { fullName: text(debtor.fullName), nationalIdMasked: text(debtor.nationalIdMasked), language: oneOf(E.Language, debtor.language, 'ZH_CN'), timeZone: text(debtor.timeZone, 'Asia/Shanghai'), jurisdiction: oneOf(E.Jurisdiction, debtor.jurisdiction, 'CN') },
    card: { last4: text(card.last4), product: text(card.product), ...(creditLimit !== undefined ? { creditLimit } : {}), currency: text(card.currency, currency) },
    overdue: {
      total: minor(overdue.total) ?? '0',
      ...(principal !== undefined ? { principal } : {}),
      ...(interest !== undefined ? { interest } : {}),
      ...(fees !== undefined ? { fees } : {}),
      currency,
      firstMissedDueDate: text(overdue.firstMissedDueDate, text(overdue.dueDate)),
      daysPastDue: typeof overdue.daysPastDue === 'number' ? overdue.daysPastDue : 0,
    },
    contactPoints: list(d.contactPoints).map((cp) => ({ kind: oneOf(E.ContactPointKind, cp.kind, 'MOBILE'), value: text(cp.value) })),
    address: { kind: oneOf(E.AddressKind, address.kind, 'HOME'), line1: text(address.line1), line2: optText(address.line2), city: text(address.city), region: text(address.region), postalCode: optText(address.postalCode), country: text(address.country, 'CN') },
    statements: list(d.statements).map((s) => ({ periodStart: text(s.periodStart), periodEnd: text(s.periodEnd), statementBalance: minor(s.statementBalance) ?? '0', minimumDue: minor(s.minimumDue) ?? '0', amountPaid: minor(s.amountPaid) ?? '0', dueDate: text(s.dueDate) })),
    transactions: list(d.transactions).map((t) => ({ postedOn: text(t.postedOn), merchantCategory: text(t.merchantCategory), merchantName: optText(t.merchantName), amount: minor(t.amount) ?? '0' })),
    promises: list(d.promises).map((p) => ({ agencyId: era(p.agencyId), amount: minor(p.amount) ?? '0', promisedFor: text(p.promisedFor), status: oneOf(E.PromiseStatus, p.status, 'OPEN'), paidAmount: minor(p.paidAmount) ?? '0', createdAt: text(p.createdAt) })),
    plans: list(d.plans).map((p) => ({ agencyId: era(p.agencyId), kind: oneOf(E.PlanKind, p.kind, 'INSTALMENTS'), status: oneOf(E.PlanStatus, p.status, 'PROPOSED'), totalAmount: minor(p.totalAmount) ?? '0', paidAmount: minor(p.paidAmount) ?? '0', instalmentCount: typeof p.instalmentCount === 'number' ? p.instalmentCount : 0, firstDueDate: text(p.firstDueDate), proposedAt: text(p.proposedAt) })),
    contactHistory: list(d.contactHistory).map((g) => ({ agencyId: era(g.agencyId), channel: oneOf(E.ContactChannel, g.channel, 'CALL'), attempts: typeof g.attempts === 'number' ? g.attempts : 0, connected: typeof g.connected === 'number' ? g.connected : 0, lastAttemptAt: text(g.lastAttemptAt), lastOutcome: g.lastOutcome == null ? null : oneOf(E.ContactOutcome, g.lastOutcome, 'ANSWERED') })),
    holds: list(d.holds).map((h) => ({ agencyId: era(h.agencyId), reason: oneOf(E.HoldReason, h.reason, 'OTHER'), startsAt: text(h.startsAt), endsAt: optText(h.endsAt), releasedAt: optText(h.releasedAt) })),
    complaints: list(d.complaints).map((k) => ({ agencyId: era(k.agencyId), category: oneOf(E.ComplaintCategory, k.category, 'OTHER'), status: oneOf(E.ComplaintStatus, k.status, 'OPEN'), receivedAt: text(k.receivedAt) })),
  };
}

/**
 * The agency form for agency `own` (null: an agency principal without an agency, who sees only
 * the bank's era): no credit limit, no breakdown, no e-mail, no record of another agency's era.
 */
export function toAgencyForm(d: StoredDossier, own: string | null): StoredDossier {
  const inEra = (r: { agencyId: Era }) => r.agencyId === null || r.agencyId === own;
  const { creditLimit: _limit, ...card } = d.card;
  const { principal: _p, interest: _i, fees: _f, ...overdue } = d.overdue;
  return {
    ...d,
    form: 'AGENCY',
    card,
    overdue,
    contactPoints: d.contactPoints.filter((cp) => cp.kind !== 'EMAIL'),
    promises: d.promises.filter(inEra),
    plans: d.plans.filter(inEra),
    contactHistory: d.contactHistory.filter(inEra),
    holds: d.holds.filter(inEra),
    complaints: d.complaints.filter(inEra),
  };
}

/** The dossier a viewer reads: the agency form and era for an agency principal, the stored one for the bank. */
export function readDossier(raw: unknown, viewer: { agency: boolean; agencyId: string | null }): Dossier {
  const stored = normalizeDossier(raw);
  const d = viewer.agency ? toAgencyForm(stored, viewer.agencyId) : stored;
  const byChannel = new Map<string, number>();
  let last: { at: string; outcome: string | null } | null = null;
  for (const g of d.contactHistory) {
    byChannel.set(g.channel, (byChannel.get(g.channel) ?? 0) + g.attempts);
    if (!last || g.lastAttemptAt > last.at) last = { at: g.lastAttemptAt, outcome: g.lastOutcome };
  }
  const { version: _v, ...rest } = d;
  return {
    ...rest,
    contactHistory: {
      totalAttempts: d.contactHistory.reduce((a, g) => a + g.attempts, 0),
      connected: d.contactHistory.reduce((a, g) => a + g.connected, 0),
      lastAttemptAt: last?.at || null,
      lastOutcome: last?.outcome ?? null,
      byChannel: [...byChannel].map(([channel, attempts]) => ({ channel, attempts })),
    },
  };
}
