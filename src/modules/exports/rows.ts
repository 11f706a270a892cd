/**
 * What each kind of export holds: its columns, how many rows it will have, and its rows read a
 * batch at a time by keyset (`id > last`, in id order), so that memory stays flat however large
 * the export. Every read goes through the viewer's visibility (src/auth/scopes.ts `visibleRecords`,
 * `caseListWhere`): an export holds exactly what the requester could page through.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { visibleRecords } from '../../auth/scopes.ts';
import type { Pii } from '../../lib/pii.ts';
import { formatCaseNumber } from '../../lib/ids.ts';
import { minorDigits } from '../../lib/money.ts';
import { BANK_TIME_ZONE, bucketOf, daysPastDue, dateOnly } from '../../lib/time.ts';
import { caseListWhere, type CaseFilterInput, type CaseSearchDeps } from '../cases/queries.ts';
import { portfolio, type PortfolioDimension } from '../analytics/portfolio.ts';
import { periodOf, type Period } from '../analytics/scope.ts';
import type { Clock } from '../../lib/time.ts';
import type { Cell } from './writer.ts';

export const BATCH = 1_000;

export type ExportKind = 'CASES' | 'PAYMENTS' | 'PROMISES' | 'CONTACT_ATTEMPTS' | 'VISITS' | 'PORTFOLIO';

export interface ExportParameters {
  filter?: CaseFilterInput | null;
  period?: Period | null;
  groupBy?: PortfolioDimension[] | null;
}

export interface ExportSource {
  columns: string[];
  count(): Promise<number>;
  batches(): AsyncGenerator<Cell[][]>;
}

export interface SourceDeps {
  prisma: PrismaClient;
  clock: Clock;
  pii?: Pii;
  search: CaseSearchDeps & { prisma: Pick<PrismaClient, 'case' | 'debtor' | 'contactPoint'> };
}

/** An exact decimal in major units (12345 CNY → "123.45"), never through a float. */
export function decimal(minor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return minor.toString();
  const neg = minor < 0n;
  const abs = (neg ? -minor : minor).toString().padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The first instant of a calendar day in the bank's zone. */
export function startOfBankDay(day: string): Date {
  const utc = Date.parse(`${day}T00:00:00Z`);
  const f = new Intl.DateTimeFormat('en-US', { timeZone: BANK_TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(utc)).map((x) => [x.type, x.value]));
  const asLocal = Date.UTC(Number(p['year']), Number(p['month']) - 1, Number(p['day']), Number(p['hour']), Number(p['minute']), Number(p['second']));
  return new Date(utc - (asLocal - utc));
}

function periodWhere(period: Period | null | undefined): Prisma.DateTimeFilter | undefined {
  if (!period) return undefined;
  const next = new Date(Date.parse(`${period.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { gte: startOfBankDay(period.from), lt: startOfBankDay(next) };
}

/** Keyset pages of a model in id order. */
async function* pages<T extends { id: string }>(read: (after: string | undefined) => Promise<T[]>): AsyncGenerator<T[]> {
  let after: string | undefined;
  for (;;) {
    const page = await read(after);
    if (page.length) yield page;
    if (page.length < BATCH) return;
    after = page[page.length - 1]!.id;
  }
}

const cursor = (after: string | undefined) => (after ? { id: { gt: after } } : {});

export async function exportSource(deps: SourceDeps, viewer: Viewer, kind: ExportKind, params: ExportParameters, options: { revealNationalIds: boolean }): Promise<ExportSource> {
  const now = deps.clock.now();
  const { prisma } = deps;
  const cases = await caseListWhere(viewer, params.filter ?? null, now, deps.search);
  const onCases = { case: cases };
  const period = periodWhere(params.period);
  switch (kind) {
    case 'CASES': {
      const where: Prisma.CaseWhereInput = cases;
      return {
        columns: ['case', 'debtor', 'nationalId', 'card', 'product', 'currency', 'principal', 'interest', 'fees', 'overdue', 'dueDate', 'daysPastDue', 'bucket', 'stage', 'status', 'priority', 'agency', 'collector', 'openedAt', 'closedAt'],
        count: () => prisma.case.count({ where }),
        async *batches() {
          for await (const page of pages((after) =>
            prisma.case.findMany({
              where: { AND: [where, cursor(after)] },
              orderBy: { id: 'asc' },
              take: BATCH,
              include: {
                debtor: { select: { fullName: true, nationalIdMasked: true, nationalIdCiphertext: options.revealNationalIds } },
                account: { select: { cardLast4: true, product: true } },
                assignedAgency: { select: { name: true } },
                assignedCollector: { select: { fullName: true } },
              },
            }),
          )) {
            yield page.map((c) => {
              const dpd = daysPastDue(c.dueDate, now);
              const nationalId = options.revealNationalIds && deps.pii && c.debtor.nationalIdCiphertext ? deps.pii.decrypt(c.debtor.nationalIdCiphertext) : c.debtor.nationalIdMasked;
              return [
                formatCaseNumber(c.caseNo), c.debtor.fullName, nationalId, `**** ${c.account.cardLast4}`, c.account.product, c.currency,
                decimal(c.principal, c.currency), decimal(c.interest, c.currency), decimal(c.fees, c.currency), decimal(c.overdueTotal, c.currency),
                dateOnly(c.dueDate), dpd, bucketOf(dpd), c.stage, c.status, c.priority, c.assignedAgency?.name ?? null, c.assignedCollector?.fullName ?? null,
                iso(c.openedAt), iso(c.closedAt),
              ];
            });
          }
        },
      };
    }
    case 'PAYMENTS': {
      const where: Prisma.PaymentWhereInput = { AND: [visibleRecords.Payment(viewer), onCases, period ? { receivedAt: period } : {}] };
      return {
        columns: ['case', 'receivedAt', 'amount', 'currency', 'channel', 'externalReference', 'reversed'],
        count: () => prisma.payment.count({ where }),
        async *batches() {
          for await (const page of pages((after) =>
            prisma.payment.findMany({ where: { AND: [where, cursor(after)] }, orderBy: { id: 'asc' }, take: BATCH, include: { case: { select: { caseNo: true } }, reversal: { select: { id: true } } } }),
          )) {
            yield page.map((p) => [formatCaseNumber(p.case.caseNo), iso(p.receivedAt), decimal(p.amount, p.currency), p.currency, p.channel, p.externalReference, p.reversal !== null]);
          }
        },
      };
    }
    case 'PROMISES': {
      const where: Prisma.PromiseToPayWhereInput = { AND: [visibleRecords.PromiseToPay(viewer), onCases, period ? { createdAt: period } : {}] };
      return {
        columns: ['case', 'recordedAt', 'promisedFor', 'amount', 'paid', 'currency', 'status'],
        count: () => prisma.promiseToPay.count({ where }),
        async *batches() {
          for await (const page of pages((after) =>
            prisma.promiseToPay.findMany({ where: { AND: [where, cursor(after)] }, orderBy: { id: 'asc' }, take: BATCH, include: { case: { select: { caseNo: true } } } }),
          )) {
            yield page.map((t) => [formatCaseNumber(t.case.caseNo), iso(t.createdAt), dateOnly(t.promisedFor), decimal(t.amount, t.currency), decimal(t.paidAmount, t.currency), t.currency, t.status]);
          }
        },
      };
    }
    case 'CONTACT_ATTEMPTS': {
      const where: Prisma.ContactAttemptWhereInput = { AND: [visibleRecords.ContactAttempt(viewer), onCases, period ? { attemptedAt: period } : {}] };
      return {
        columns: ['case', 'attemptedAt', 'channel', 'direction', 'status', 'outcome', 'connected', 'rule', 'violation'],
        count: () => prisma.contactAttempt.count({ where }),
        async *batches() {
          for await (const page of pages((after) =>
            prisma.contactAttempt.findMany({ where: { AND: [where, cursor(after)] }, orderBy: { id: 'asc' }, take: BATCH, include: { case: { select: { caseNo: true } } } }),
          )) {
            yield page.map((a) => [formatCaseNumber(a.case.caseNo), iso(a.attemptedAt), a.channel, a.direction, a.status, a.outcome, a.connected, a.rule, a.violation]);
          }
        },
      };
    }
    case 'VISITS': {
      const where: Prisma.VisitWhereInput = { AND: [visibleRecords.Visit(viewer), onCases, period ? { createdAt: period } : {}] };
      return {
        columns: ['case', 'plannedAt', 'status', 'windowStart', 'windowEnd', 'checkedInAt', 'completedAt', 'outcome', 'decision'],
        count: () => prisma.visit.count({ where }),
        async *batches() {
          for await (const page of pages((after) =>
            prisma.visit.findMany({ where: { AND: [where, cursor(after)] }, orderBy: { id: 'asc' }, take: BATCH, include: { case: { select: { caseNo: true } } } }),
          )) {
            yield page.map((v) => [formatCaseNumber(v.case.caseNo), iso(v.createdAt), v.status, iso(v.windowStart), iso(v.windowEnd), iso(v.checkedInAt), iso(v.completedAt), v.outcome, v.decision]);
          }
        },
      };
    }
    case 'PORTFOLIO': {
      const groupBy = params.groupBy ?? ['BUCKET'];
      const periodOfReport = params.period ?? periodOf(null, now);
      const report = await portfolio(deps, viewer, { filter: params.filter ?? null, groupBy, period: periodOfReport });
      const agencies = new Map((await prisma.agency.findMany({ where: visibleRecords.Agency(viewer), select: { id: true, name: true } })).map((a) => [a.id, a.name]));
      const users = new Map((await prisma.user.findMany({ where: visibleRecords.User(viewer), select: { id: true, fullName: true } })).map((u) => [u.id, u.fullName]));
      return {
        columns: ['bucket', 'stage', 'status', 'agency', 'collector', 'jurisdiction', 'product', 'placementMonth', 'currency', 'cases', 'overdue', 'principal', 'interest', 'fees', 'collected', 'promisedOpen'],
        count: async () => report.groups.length,
        async *batches() {
          yield report.groups.map((g) => [
            g.key.bucket, g.key.stage, g.key.status, g.key.agencyId ? (agencies.get(g.key.agencyId) ?? null) : null, g.key.collectorId ? (users.get(g.key.collectorId) ?? null) : null,
            g.key.jurisdiction, g.key.product, g.key.placementMonth, g.currency, g.caseCount,
            decimal(g.overdue, g.currency), decimal(g.principal, g.currency), decimal(g.interest, g.currency), decimal(g.fees, g.currency), decimal(g.collected, g.currency), decimal(g.promisedOpen, g.currency),
          ]);
        },
      };
    }
  }
}
