/**
 * Commission (issue 16 point 5): fee schedules per agency, versioned by effective date; a
 * statement per agency, month and currency, issued once the month has ended (by the monthly job
 * or on demand by the bank) and frozen; disputes of a line by the agency, resolved by the bank
 * with an ADJUSTMENT line. The arithmetic is calculate.ts's; this file loads facts and writes.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import type { Bucket } from '../../generated/prisma/enums.ts';
import { DomainError } from '../../lib/errors.ts';
import { auditActor, type Actor } from '../../lib/actor.ts';
import { isCurrencyCode, SUPPORTED_CURRENCIES } from '../../lib/money.ts';
import { BANK_TIME_ZONE, DAY_MS, daysPastDue, localDate, parseDateOnly, dateOnly, BUCKETS, type Clock } from '../../lib/time.ts';
import { recordAudit, type AuditActor } from '../audit/service.ts';
import type { Tx } from '../../db/store.ts';
import { bucketAtPlacement, computeMonth, type Collection, type CompletedVisit, type LateReversal, type MonthResult, type RateRule, type ScheduleVersion } from './calculate.ts';

export interface CommissionDeps {
  prisma: PrismaClient;
  clock: Clock;
}

/** Who sets schedules and issues statements; who resolves disputes. */
export const SCHEDULE_SETTERS = ['BANK_ADMIN'] as const;
export const STATEMENT_ISSUERS = ['BANK_ADMIN', 'BANK_SUPERVISOR'] as const;
export const DISPUTE_RAISERS = ['AGENCY_MANAGER'] as const;
export const MAX_RATE_RULES = 50;
export const MAX_TEXT = 2000;

const SYSTEM: AuditActor = { userId: null, role: null, agencyId: null, requestId: null };

// ---------------------------------------------------------------- periods

/** YYYY-MM, checked. */
export function parsePeriod(period: string, field = 'period'): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new DomainError('VALIDATION', `${field}: a month as YYYY-MM`, field);
  return period;
}

export const periodOf = (at: Date) => localDate(at, BANK_TIME_ZONE).slice(0, 7);

export function previousPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** Instants safely around a month in the bank's zone (a day either side); rows are then kept by periodOf. */
function around(period: string): { gte: Date; lt: Date } {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return { gte: new Date(Date.UTC(y, m - 1, 1) - DAY_MS), lt: new Date(Date.UTC(y, m, 1) + DAY_MS) };
}

// ---------------------------------------------------------------- schedules

export interface SetScheduleInput {
  agencyId: string;
  currency: string;
  effectiveFrom: Date;
  rates: { bucket?: Bucket | null; placedFrom?: Date | null; placedBefore?: Date | null; rateBps: number }[];
  defaultRateBps: number;
  caseMonthlyCap?: number | null;
  monthlyCap?: number | null;
  visitFee?: number | null;
  note?: string | null;
}

function bps(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 10_000) throw new DomainError('VALIDATION', `${field}: basis points from 0 to 10000`, field);
  return value;
}

function minor(value: number | null | undefined, field: string, allowZero: boolean): bigint | null {
  if (value == null) return null;
  if (!Number.isSafeInteger(value) || value < 0 || (!allowZero && value === 0)) throw new DomainError('VALIDATION', `${field}: a whole number of minor units${allowZero ? '' : ' above zero'}`, field);
  return BigInt(value);
}

/**
 * Adds a version of an agency's schedule. Versions only go forward: the new one takes effect
 * after the latest one and after every month already issued, so no issued statement changes.
 */
export async function setCommissionSchedule(deps: CommissionDeps, actor: Actor, input: SetScheduleInput) {
  if (!isCurrencyCode(input.currency) || !SUPPORTED_CURRENCIES.includes(input.currency)) throw new DomainError('VALIDATION', `Unsupported currency ${input.currency}`, 'currency');
  if (input.rates.length > MAX_RATE_RULES) throw new DomainError('VALIDATION', `At most ${MAX_RATE_RULES} rate rules`, 'rates');
  const rates: RateRule[] = input.rates.map((r, i) => {
    if (r.bucket != null && !BUCKETS.includes(r.bucket)) throw new DomainError('VALIDATION', `rates[${i}].bucket: unknown`, ['rates', String(i), 'bucket']);
    if (r.placedFrom && r.placedBefore && r.placedFrom >= r.placedBefore) throw new DomainError('VALIDATION', `rates[${i}]: placedFrom must be before placedBefore`, ['rates', String(i), 'placedBefore']);
    return { bucket: r.bucket ?? null, placedFrom: r.placedFrom ? dateOnly(r.placedFrom) : null, placedBefore: r.placedBefore ? dateOnly(r.placedBefore) : null, rateBps: bps(r.rateBps, `rates.${i}.rateBps`) };
  });
  const defaultRateBps = bps(input.defaultRateBps, 'defaultRateBps');
  const caseMonthlyCap = minor(input.caseMonthlyCap, 'caseMonthlyCap', false);
  const monthlyCap = minor(input.monthlyCap, 'monthlyCap', false);
  const visitFee = minor(input.visitFee, 'visitFee', true) ?? 0n;
  const note = (input.note ?? '').trim();
  if (note.length > MAX_TEXT) throw new DomainError('VALIDATION', `note: at most ${MAX_TEXT} characters`, 'note');
  const effectiveFrom = parseDateOnly(dateOnly(input.effectiveFrom));
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const agency = await tx.agency.findUnique({ where: { id: input.agencyId } });
    if (!agency) throw new DomainError('NOT_FOUND', 'No such agency', 'agencyId');
    const latest = await tx.commissionSchedule.findFirst({ where: { agencyId: agency.id, currency: input.currency }, orderBy: { version: 'desc' } });
    if (latest && effectiveFrom <= latest.effectiveFrom) throw new DomainError('VALIDATION', `Version ${latest.version} takes effect on ${dateOnly(latest.effectiveFrom)}: a new version takes effect after it`, 'effectiveFrom');
    const issued = await tx.commissionStatement.findFirst({ where: { agencyId: agency.id, currency: input.currency }, orderBy: { period: 'desc' }, select: { period: true } });
    if (issued && dateOnly(effectiveFrom).slice(0, 7) <= issued.period) throw new DomainError('VALIDATION', `The statement of ${issued.period} is issued: a new version takes effect in a later month`, 'effectiveFrom');
    const schedule = await tx.commissionSchedule.create({
      data: {
        agencyId: agency.id,
        currency: input.currency,
        version: (latest?.version ?? 0) + 1,
        effectiveFrom,
        rates: rates as never,
        defaultRateBps,
        caseMonthlyCap,
        monthlyCap,
        visitFee,
        note,
        createdById: actor.viewer.userId,
        createdAt: now,
      },
    });
    await recordAudit(tx, auditActor(actor), now, {
      action: 'commission.setSchedule',
      entityType: 'CommissionSchedule',
      entityId: schedule.id,
      data: { agencyId: agency.id, currency: input.currency, version: schedule.version, effectiveFrom: dateOnly(effectiveFrom), rates: rates as never, defaultRateBps, caseMonthlyCap: caseMonthlyCap?.toString() ?? null, monthlyCap: monthlyCap?.toString() ?? null, visitFee: `${visitFee}` },
      reason: note || null,
    });
    return { schedule };
  });
}

export function toVersion(s: { version: number; effectiveFrom: Date; rates: unknown; defaultRateBps: number; caseMonthlyCap: bigint | null; monthlyCap: bigint | null; visitFee: bigint }): ScheduleVersion {
  return { version: s.version, effectiveFrom: dateOnly(s.effectiveFrom), rates: s.rates as RateRule[], defaultRateBps: s.defaultRateBps, caseMonthlyCap: s.caseMonthlyCap, monthlyCap: s.monthlyCap, visitFee: s.visitFee };
}

// ---------------------------------------------------------------- the facts of a month

type Db = PrismaClient | Tx;

/**
 * Computes the month from the database: payments booked in it in the agency's era, reversals
 * booked in it of the agency's earlier payments (taking back what each earned in its own month:
 * the issued line, or the same computation of that month when it was never issued), completed
 * visits booked in it.
 */
export async function computeStatement(db: Db, agencyId: string, currency: string, period: string, memo = new Map<string, MonthResult>()): Promise<MonthResult> {
  const key = `${agencyId}|${currency}|${period}`;
  const known = memo.get(key);
  if (known) return known;
  const versions = (await db.commissionSchedule.findMany({ where: { agencyId, currency } })).map(toVersion);
  const span = around(period);
  const payments = (
    await db.payment.findMany({
      where: { agencyId, currency, createdAt: span },
      select: { id: true, caseId: true, amount: true, creditAmount: true, createdAt: true, reversal: { select: { createdAt: true } }, case: { select: { dueDate: true } } },
    })
  ).filter((p) => periodOf(p.createdAt) === period);
  const placements = payments.length
    ? await db.placement.findMany({ where: { agencyId, caseId: { in: [...new Set(payments.map((p) => p.caseId))] } }, select: { caseId: true, startsAt: true }, orderBy: { startsAt: 'desc' } })
    : [];
  const collections: Collection[] = payments.map((p) => {
    // The agency's placement in force when the payment was booked (the latest that started before it).
    const placed = placements.find((x) => x.caseId === p.caseId && x.startsAt <= p.createdAt)?.startsAt ?? p.createdAt;
    return {
      paymentId: p.id,
      caseId: p.caseId,
      basis: p.amount - p.creditAmount,
      bookedAt: p.createdAt,
      bookedOn: localDate(p.createdAt, BANK_TIME_ZONE),
      bucketAtPlacement: bucketAtPlacement(daysPastDue(p.case.dueDate, placed)),
      placedOn: localDate(placed, BANK_TIME_ZONE),
      reversedInPeriod: p.reversal !== null && periodOf(p.reversal.createdAt) <= period,
    };
  });
  const lateRows = (
    await db.paymentReversal.findMany({
      where: { createdAt: span, payment: { agencyId, currency } },
      select: { id: true, createdAt: true, payment: { select: { id: true, caseId: true, createdAt: true } } },
    })
  ).filter((r) => periodOf(r.createdAt) === period && periodOf(r.payment.createdAt) < period);
  const reversals: LateReversal[] = [];
  for (const r of lateRows) {
    const paidIn = periodOf(r.payment.createdAt);
    const issuedLine = await db.commissionLine.findFirst({ where: { paymentId: r.payment.id, kind: 'COLLECTION', statement: { agencyId, currency, period: paidIn } }, select: { fee: true, basisAmount: true } });
    const original = issuedLine ?? (await computeStatement(db, agencyId, currency, paidIn, memo)).lines.find((l) => l.kind === 'COLLECTION' && l.paymentId === r.payment.id);
    reversals.push({ reversalId: r.id, paymentId: r.payment.id, caseId: r.payment.caseId, bookedAt: r.createdAt, originalBasis: original?.basisAmount ?? 0n, originalFee: original?.fee ?? 0n });
  }
  const visits: CompletedVisit[] = (
    await db.visit.findMany({
      where: { agencyId, completedAt: { not: null }, completionRecordedAt: span, status: { in: ['COMPLETED', 'REPORTED', 'DECIDED'] }, case: { currency } },
      select: { id: true, caseId: true, completionRecordedAt: true },
    })
  )
    .filter((v) => v.completionRecordedAt && periodOf(v.completionRecordedAt) === period)
    .map((v) => ({ visitId: v.id, caseId: v.caseId, bookedAt: v.completionRecordedAt!, bookedOn: localDate(v.completionRecordedAt!, BANK_TIME_ZONE) }));
  const result = computeMonth({ versions, collections, reversals, visits });
  memo.set(key, result);
  return result;
}

// ---------------------------------------------------------------- statements

export interface StatementKey {
  agencyId: string;
  currency: string;
  period: string;
}

/** What a month would earn so far, without writing anything (the bank's preview, the current month included). */
export async function previewCommissionStatement(deps: CommissionDeps, key: StatementKey) {
  parsePeriod(key.period);
  if (!(await deps.prisma.agency.count({ where: { id: key.agencyId } }))) throw new DomainError('NOT_FOUND', 'No such agency', 'agencyId');
  return computeStatement(deps.prisma, key.agencyId, key.currency, key.period);
}

/**
 * Issues the statement of a month that has ended: computed and frozen in one transaction.
 * Issued once: asking again answers DUPLICATE (the job skips it).
 */
export async function issueCommissionStatement(deps: CommissionDeps, actor: Actor | null, key: StatementKey) {
  const period = parsePeriod(key.period);
  const now = deps.clock.now();
  if (period >= periodOf(now)) throw new DomainError('INVALID_TRANSITION', `${period} has not ended yet (today is ${localDate(now, BANK_TIME_ZONE)} in the bank's zone): preview it instead`, 'period');
  if (!SUPPORTED_CURRENCIES.includes(key.currency)) throw new DomainError('VALIDATION', `Unsupported currency ${key.currency}`, 'currency');
  return deps.prisma.$transaction(async (tx) => {
    const agency = await tx.agency.findUnique({ where: { id: key.agencyId }, select: { id: true } });
    if (!agency) throw new DomainError('NOT_FOUND', 'No such agency', 'agencyId');
    // One issuer at a time per agency: the agency row is the lock.
    await tx.$queryRaw`SELECT id FROM "Agency" WHERE id = ${agency.id}::uuid FOR UPDATE`;
    if (await tx.commissionStatement.count({ where: { agencyId: agency.id, currency: key.currency, period } })) {
      throw new DomainError('DUPLICATE', `The statement of ${period} in ${key.currency} is already issued`, 'period');
    }
    const month = await computeStatement(tx, agency.id, key.currency, period);
    const statement = await tx.commissionStatement.create({
      data: { agencyId: agency.id, currency: key.currency, period, collectedAmount: month.collectedAmount, feeAmount: month.feeAmount, issuedAt: now, issuedById: actor?.viewer.userId ?? null },
    });
    await tx.commissionLine.createMany({
      data: month.lines.map((l, i) => ({
        statementId: statement.id,
        seq: i + 1,
        kind: l.kind,
        caseId: l.caseId,
        paymentId: l.paymentId,
        reversalId: l.reversalId,
        visitId: l.visitId,
        basisAmount: l.basisAmount,
        rateBps: l.rateBps,
        uncappedFee: l.uncappedFee,
        fee: l.fee,
        scheduleVersion: l.scheduleVersion,
        note: l.note,
        createdAt: now,
      })),
    });
    await recordAudit(tx, actor ? auditActor(actor) : SYSTEM, now, {
      action: 'commission.issueStatement',
      entityType: 'CommissionStatement',
      entityId: statement.id,
      data: { agencyId: agency.id, currency: key.currency, period, lines: month.lines.length, collected: `${month.collectedAmount}`, fee: `${month.feeAmount}` },
    });
    return { statement };
  });
}

/**
 * The monthly job: for every agency with a schedule in force by the end of last month, the
 * statement of last month in each of its currencies, unless issued already. Idempotent.
 */
export async function issueDueCommissionStatements(deps: CommissionDeps & { logger?: { warn(o: object, m: string): void } }) {
  const period = previousPeriod(periodOf(deps.clock.now()));
  const [y, m] = period.split('-').map(Number) as [number, number];
  const monthEnd = new Date(Date.UTC(y, m, 0));
  const schedules = await deps.prisma.commissionSchedule.findMany({ where: { effectiveFrom: { lte: monthEnd } }, distinct: ['agencyId', 'currency'], select: { agencyId: true, currency: true } });
  let issued = 0;
  let skipped = 0;
  const failures: { agencyId: string; currency: string; error: string }[] = [];
  for (const s of schedules) {
    try {
      await issueCommissionStatement(deps, null, { agencyId: s.agencyId, currency: s.currency, period });
      issued++;
    } catch (err) {
      if (err instanceof DomainError && err.code === 'DUPLICATE') skipped++;
      else failures.push({ ...s, error: (err as Error).message });
    }
  }
  if (failures.length) deps.logger?.warn({ failures }, 'commission statements: some failed; the next run retries them');
  return { period, issued, skipped, failed: failures.length };
}

// ---------------------------------------------------------------- disputes

export async function disputeCommissionLine(deps: CommissionDeps, actor: Actor, input: { lineId: string; reason: string; claimedFee?: number | null }) {
  const reason = input.reason.trim();
  if (!reason) throw new DomainError('VALIDATION', 'Give the reason for the dispute', 'reason');
  if (reason.length > MAX_TEXT) throw new DomainError('VALIDATION', `reason: at most ${MAX_TEXT} characters`, 'reason');
  if (input.claimedFee != null && !Number.isSafeInteger(input.claimedFee)) throw new DomainError('VALIDATION', 'claimedFee: a whole number of minor units', 'claimedFee');
  const agencyId = actor.viewer.agencyId;
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    // The agency's own lines only: another agency's line is, to it, no line at all.
    const line = agencyId ? await tx.commissionLine.findFirst({ where: { id: input.lineId, statement: { agencyId } } }) : null;
    if (!line) throw new DomainError('NOT_FOUND', 'No such statement line', 'lineId');
    if (line.kind === 'ADJUSTMENT') throw new DomainError('INVALID_TRANSITION', 'An adjustment is the answer to a dispute: dispute the line it adjusts', 'lineId');
    if (await tx.commissionDispute.count({ where: { lineId: line.id, status: 'OPEN' } })) throw new DomainError('INVALID_TRANSITION', 'The line already has an open dispute', 'lineId');
    const dispute = await tx.commissionDispute.create({
      data: { lineId: line.id, agencyId: agencyId!, reason, claimedFee: input.claimedFee == null ? null : BigInt(input.claimedFee), raisedById: actor.viewer.userId, raisedAt: now },
    });
    await recordAudit(tx, auditActor(actor), now, { action: 'commission.disputeLine', entityType: 'CommissionDispute', entityId: dispute.id, data: { lineId: line.id, statementId: line.statementId, claimedFee: input.claimedFee ?? null }, reason });
    return { dispute };
  });
}

/**
 * The bank answers a dispute: UPHELD adds an ADJUSTMENT line to the statement (the difference
 * the bank accepts, positive or negative; the issued lines and fee stay as they were) and
 * raises the statement's adjustment total; REJECTED adds nothing. Audited.
 */
export async function resolveCommissionDispute(deps: CommissionDeps, actor: Actor, input: { disputeId: string; upheld: boolean; adjustment?: number | null; note: string }) {
  const note = input.note.trim();
  if (!note) throw new DomainError('VALIDATION', 'Give the reason for the decision', 'note');
  if (note.length > MAX_TEXT) throw new DomainError('VALIDATION', `note: at most ${MAX_TEXT} characters`, 'note');
  if (input.upheld && (input.adjustment == null || !Number.isSafeInteger(input.adjustment) || input.adjustment === 0)) {
    throw new DomainError('VALIDATION', 'An upheld dispute says by how much the statement changes (minor units, not zero; negative takes back)', 'adjustment');
  }
  if (!input.upheld && input.adjustment != null) throw new DomainError('VALIDATION', 'A rejected dispute changes nothing', 'adjustment');
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const dispute = await tx.commissionDispute.findUnique({ where: { id: input.disputeId }, include: { line: true } });
    if (!dispute) throw new DomainError('NOT_FOUND', 'No such commission dispute', 'disputeId');
    await tx.$queryRaw`SELECT id FROM "CommissionStatement" WHERE id = ${dispute.line.statementId}::uuid FOR UPDATE`;
    const current = await tx.commissionDispute.findUniqueOrThrow({ where: { id: dispute.id } });
    if (current.status !== 'OPEN') throw new DomainError('INVALID_TRANSITION', `The dispute is already ${current.status}`, 'disputeId');
    let adjustmentLineId: string | null = null;
    if (input.upheld) {
      const amount = BigInt(input.adjustment!);
      const last = await tx.commissionLine.findFirst({ where: { statementId: dispute.line.statementId }, orderBy: { seq: 'desc' }, select: { seq: true } });
      const line = await tx.commissionLine.create({
        data: {
          statementId: dispute.line.statementId,
          seq: (last?.seq ?? 0) + 1,
          kind: 'ADJUSTMENT',
          caseId: dispute.line.caseId,
          paymentId: dispute.line.paymentId,
          adjustsLineId: dispute.line.id,
          uncappedFee: amount,
          fee: amount,
          note: `dispute upheld: ${note}`,
          createdAt: now,
        },
      });
      adjustmentLineId = line.id;
      await tx.commissionStatement.update({ where: { id: dispute.line.statementId }, data: { adjustmentAmount: { increment: amount } } });
    }
    const resolved = await tx.commissionDispute.update({
      where: { id: dispute.id },
      data: { status: input.upheld ? 'UPHELD' : 'REJECTED', resolvedById: actor.viewer.userId, resolvedAt: now, resolutionNote: note, adjustmentLineId },
    });
    await recordAudit(tx, auditActor(actor), now, {
      action: 'commission.resolveDispute',
      entityType: 'CommissionDispute',
      entityId: dispute.id,
      data: { lineId: dispute.lineId, statementId: dispute.line.statementId, upheld: input.upheld, adjustment: input.adjustment ?? null, adjustmentLineId },
      reason: note,
    });
    return { dispute: resolved };
  });
}

export type StatementWhere = Prisma.CommissionStatementWhereInput;
