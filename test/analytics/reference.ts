/**
 * The analytics recomputed the slow, obvious way: every row read back with Prisma, the viewer's
 * scope and every figure worked out in JavaScript from the domain's definitions. The property
 * test compares the SQL reports with this, exactly.
 */
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { Viewer } from '../../src/auth/viewer.ts';
import { BANK_TIME_ZONE, bucketOf, daysPastDue, localDate } from '../../src/lib/time.ts';
import type { Period } from '../../src/modules/analytics/scope.ts';

export async function loadRows(prisma: PrismaClient) {
  const [cases, payments, reversals, promises, attempts, placements, history, visits, debtors, accounts, agencies, complaints] = await Promise.all([
    prisma.case.findMany(),
    prisma.payment.findMany(),
    prisma.paymentReversal.findMany(),
    prisma.promiseToPay.findMany(),
    prisma.contactAttempt.findMany(),
    prisma.placement.findMany(),
    prisma.bucketHistory.findMany(),
    prisma.visit.findMany(),
    prisma.debtor.findMany(),
    prisma.cardAccount.findMany(),
    prisma.agency.findMany({ orderBy: { name: 'asc' } }),
    prisma.complaint.findMany(),
  ]);
  return { cases, payments, reversals, promises, attempts, placements, history, visits, debtors, accounts, agencies, complaints };
}
export type Rows = Awaited<ReturnType<typeof loadRows>>;

const isAgency = (v: Viewer) => v.role === 'AGENCY_MANAGER' || v.role === 'AGENCY_COLLECTOR';

export function seesCase(v: Viewer, c: { assignedAgencyId: string | null; assignedCollectorId: string | null }): boolean {
  switch (v.role) {
    case 'BANK_COLLECTOR':
      return c.assignedCollectorId === v.userId;
    case 'AGENCY_MANAGER':
      return c.assignedAgencyId === v.agencyId;
    case 'AGENCY_COLLECTOR':
      return c.assignedAgencyId === v.agencyId && c.assignedCollectorId === v.userId;
    default:
      return true;
  }
}

/** A record of a case: its case visible now, and of the viewer's era. */
export function seesRecord(v: Viewer, rows: Rows, r: { caseId: string; agencyId: string | null }): boolean {
  const c = rows.cases.find((x) => x.id === r.caseId)!;
  return seesCase(v, c) && (!isAgency(v) || r.agencyId === null || r.agencyId === v.agencyId);
}

const day = (d: Date) => localDate(d, BANK_TIME_ZONE);
export const inPeriod = (d: Date | null, p: Period) => d !== null && day(d) >= p.from && day(d) <= p.to;
const month = (d: Date) => day(d).slice(0, 7);
const add = (m: Map<string, any>, key: string, init: () => any) => {
  let v = m.get(key);
  if (!v) m.set(key, (v = init()));
  return v;
};

function collectorAt(rows: Rows, v: Viewer, caseId: string, at: Date): string | null {
  const p = rows.placements
    .filter((pl) => pl.caseId === caseId && pl.startsAt <= at && (pl.endedAt === null || pl.endedAt > at))
    .sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime())[0];
  // A placement of another agency's era names no collector to an agency.
  if (p && isAgency(v) && p.agencyId !== null && p.agencyId !== v.agencyId) return null;
  return p?.collectorId ?? null;
}

const reversed = (rows: Rows, paymentId: string) => rows.reversals.some((r) => r.paymentId === paymentId);

/** portfolio grouped by every dimension at once. */
export function portfolioRef(rows: Rows, v: Viewer, now: Date, period: Period) {
  const out = new Map<string, any>();
  for (const c of rows.cases.filter((x) => seesCase(v, x))) {
    const open = rows.placements.filter((p) => p.caseId === c.id && p.endedAt === null).sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime())[0];
    const key = {
      bucket: bucketOf(daysPastDue(c.dueDate, now)),
      stage: c.stage,
      status: c.status,
      agencyId: c.assignedAgencyId,
      collectorId: c.assignedCollectorId,
      jurisdiction: rows.debtors.find((d) => d.id === c.debtorId)!.jurisdiction,
      product: rows.accounts.find((a) => a.id === c.accountId)!.product,
      placementMonth: open ? month(open.startsAt) : null,
    };
    const g = add(out, JSON.stringify([key, c.currency]), () => ({ key, currency: c.currency, caseCount: 0, overdue: 0n, principal: 0n, interest: 0n, fees: 0n, collected: 0n, promisedOpen: 0n }));
    g.caseCount++;
    g.overdue += c.overdueTotal;
    g.principal += c.principal;
    g.interest += c.interest;
    g.fees += c.fees;
    for (const p of rows.payments) if (p.caseId === c.id && seesRecord(v, rows, p) && inPeriod(p.receivedAt, period) && !reversed(rows, p.id)) g.collected += p.amount;
    for (const t of rows.promises) if (t.caseId === c.id && seesRecord(v, rows, t) && t.status === 'OPEN') g.promisedOpen += t.amount - t.paidAmount;
  }
  return [...out.values()];
}

export function collectionsRef(rows: Rows, v: Viewer, period: Period) {
  const out = new Map<string, any>();
  for (const p of rows.payments) {
    if (!seesRecord(v, rows, p) || !inPeriod(p.receivedAt, period) || reversed(rows, p.id)) continue;
    const k = { start: `${month(p.receivedAt)}-01`, agencyId: p.agencyId, collectorId: collectorAt(rows, v, p.caseId, p.receivedAt), channel: p.channel, currency: p.currency };
    const g = add(out, JSON.stringify(k), () => ({ ...k, paymentCount: 0, amount: 0n }));
    g.paymentCount++;
    g.amount += p.amount;
  }
  return [...out.values()];
}

export function promiseStatsRef(rows: Rows, v: Viewer, period: Period) {
  const out = new Map<string, any>();
  for (const t of rows.promises) {
    if (!seesRecord(v, rows, t) || !inPeriod(t.createdAt, period)) continue;
    const k = { day: day(t.createdAt), agencyId: t.agencyId, collectorId: t.capturedById, currency: t.currency };
    const g = add(out, JSON.stringify(k), () => ({ ...k, made: 0, open: 0, kept: 0, partial: 0, broken: 0, cancelled: 0, superseded: 0, amountMade: 0n, amountDue: 0n, amountPaid: 0n }));
    g.made++;
    g[({ OPEN: 'open', KEPT: 'kept', PARTIAL: 'partial', BROKEN: 'broken', CANCELLED: 'cancelled', SUPERSEDED: 'superseded' } as Record<string, string>)[t.status]!]++;
    g.amountMade += t.amount;
    if (t.status === 'KEPT' || t.status === 'PARTIAL' || t.status === 'BROKEN') {
      g.amountDue += t.amount;
      g.amountPaid += t.paidAmount;
    }
  }
  return [...out.values()];
}

export function productivityRef(rows: Rows, v: Viewer, period: Period) {
  const out = new Map<string, any>();
  const row = (collectorId: string, start: string) =>
    add(out, `${collectorId}|${start}`, () => ({ collectorId, start, attempts: 0, rightPartyContacts: 0, promises: 0, collected: [] as { currency: string; amount: bigint; payments: number }[] }));
  for (const a of rows.attempts) {
    if (!a.actorId || a.status !== 'COMPLETED' || !seesRecord(v, rows, a) || !inPeriod(a.attemptedAt, period)) continue;
    const r = row(a.actorId, day(a.attemptedAt));
    r.attempts++;
    if (a.connected) r.rightPartyContacts++;
  }
  for (const t of rows.promises) if (t.capturedById && seesRecord(v, rows, t) && inPeriod(t.createdAt, period)) row(t.capturedById, day(t.createdAt)).promises++;
  for (const p of rows.payments) {
    if (!seesRecord(v, rows, p) || !inPeriod(p.receivedAt, period) || reversed(rows, p.id)) continue;
    const who = collectorAt(rows, v, p.caseId, p.receivedAt);
    if (!who) continue;
    const r = row(who, day(p.receivedAt));
    let c = r.collected.find((x: any) => x.currency === p.currency);
    if (!c) r.collected.push((c = { currency: p.currency, amount: 0n, payments: 0 }));
    c.amount += p.amount;
    c.payments++;
  }
  for (const r of out.values()) r.collected.sort((a: any, b: any) => a.currency.localeCompare(b.currency));
  return [...out.values()];
}

export function complianceRef(rows: Rows, v: Viewer, period: Period) {
  const out = new Map<string, any>();
  for (const a of rows.attempts) {
    if (!seesRecord(v, rows, a) || !inPeriod(a.attemptedAt, period)) continue;
    const k = { rule: a.rule, jurisdiction: rows.debtors.find((d) => d.id === a.debtorId)!.jurisdiction, agencyId: a.agencyId, channel: a.channel, day: day(a.attemptedAt) };
    const g = add(out, JSON.stringify(k), () => ({ ...k, attempts: 0, refusals: 0, violations: 0 }));
    g.attempts++;
    if (a.status === 'BLOCKED') g.refusals++;
    if (a.violation) g.violations++;
  }
  return [...out.values()];
}

/** Month starts in the bank's zone (UTC+8, no daylight saving). */
const monthStart = (m: string) => new Date(`${m}-01T00:00:00+08:00`);
const nextMonth = (m: string) => {
  const [y, mo] = [Number(m.slice(0, 4)), Number(m.slice(5, 7))];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
};

export function rollRatesRef(rows: Rows, v: Viewer, now: Date, months: string[]) {
  const out = new Map<string, any>();
  const bucketAt = (caseId: string, t: Date) =>
    rows.history
      .filter((h) => h.caseId === caseId && h.enteredAt <= t)
      .sort((a, b) => b.enteredAt.getTime() - a.enteredAt.getTime() || (a.id < b.id ? 1 : -1))[0]?.bucket ?? null;
  for (const m of months) {
    const t0 = monthStart(m);
    const t1 = new Date(Math.min(monthStart(nextMonth(m)).getTime(), now.getTime()));
    if (t0 >= t1) continue;
    for (const c of rows.cases.filter((x) => seesCase(v, x))) {
      if (c.closedAt && c.closedAt <= t0) continue;
      const from = bucketAt(c.id, t0);
      if (!from) continue;
      const to = c.closedAt && c.closedAt <= t1 ? (c.stage === 'RESOLVED' ? 'RESOLVED' : 'CLOSED') : bucketAt(c.id, t1);
      const k = { month: m, fromBucket: from, toState: to, currency: c.currency };
      const g = add(out, JSON.stringify(k), () => ({ ...k, caseCount: 0, overdueNow: 0n }));
      g.caseCount++;
      g.overdueNow += c.overdueTotal;
    }
  }
  return [...out.values()];
}

export function scorecardsRef(rows: Rows, v: Viewer, period: Period) {
  const agencies = rows.agencies.filter((a) => !isAgency(v) || a.id === v.agencyId);
  return agencies.map((a) => {
    const placed = new Map<string, any>();
    for (const c of rows.cases) {
      if (c.assignedAgencyId !== a.id || !seesCase(v, c)) continue;
      const g = add(placed, c.currency, () => ({ currency: c.currency, caseCount: 0, balance: 0n }));
      g.caseCount++;
      g.balance += c.overdueTotal;
    }
    const collected = new Map<string, any>();
    for (const p of rows.payments) {
      if (p.agencyId !== a.id || !seesRecord(v, rows, p) || !inPeriod(p.receivedAt, period) || reversed(rows, p.id)) continue;
      const g = add(collected, p.currency, () => ({ currency: p.currency, amount: 0n, payments: 0 }));
      g.amount += p.amount;
      g.payments++;
    }
    const prom = rows.promises.filter((t) => t.agencyId === a.id && seesRecord(v, rows, t) && inPeriod(t.createdAt, period));
    const started = rows.placements.filter((pl) => pl.agencyId === a.id && seesRecord(v, rows, pl) && inPeriod(pl.startsAt, period));
    let contacted = 0;
    let days = 0;
    for (const pl of started) {
      const first = rows.attempts
        .filter((x) => x.caseId === pl.caseId && x.agencyId === a.id && x.status === 'COMPLETED' && x.attemptedAt >= pl.startsAt && (pl.endedAt === null || x.attemptedAt < pl.endedAt))
        .map((x) => x.attemptedAt.getTime())
        .sort((x, y) => x - y)[0];
      if (first !== undefined) {
        contacted++;
        days += (first - pl.startsAt.getTime()) / 86_400_000;
      }
    }
    const visits = new Map<string, any>();
    for (const vi of rows.visits) {
      if (vi.agencyId !== a.id || !seesRecord(v, rows, vi) || !inPeriod(vi.completedAt, period)) continue;
      add(visits, String(vi.outcome), () => ({ outcome: vi.outcome, count: 0 })).count++;
    }
    const att = rows.attempts.filter((x) => x.agencyId === a.id && seesRecord(v, rows, x) && inPeriod(x.attemptedAt, period));
    const recalls = new Map<string, any>();
    for (const pl of rows.placements) {
      if (pl.agencyId !== a.id || !pl.recallReason || !seesRecord(v, rows, pl) || !inPeriod(pl.endedAt, period)) continue;
      add(recalls, pl.recallReason, () => ({ reason: pl.recallReason, count: 0 })).count++;
    }
    return {
      agencyId: a.id,
      placed: [...placed.values()].sort((x, y) => x.currency.localeCompare(y.currency)),
      collected: [...collected.values()].sort((x, y) => x.currency.localeCompare(y.currency)),
      promises: {
        made: prom.length,
        kept: prom.filter((t) => t.status === 'KEPT').length,
        partial: prom.filter((t) => t.status === 'PARTIAL').length,
        broken: prom.filter((t) => t.status === 'BROKEN').length,
      },
      placementsStarted: started.length,
      placementsContacted: contacted,
      daysToFirstContactTotal: days,
      visits: [...visits.values()].sort((x, y) => ((x.outcome ?? '~') < (y.outcome ?? '~') ? -1 : 1)),
      violations: att.filter((x) => x.violation).length,
      refusals: att.filter((x) => x.status === 'BLOCKED').length,
      recalls: [...recalls.values()].sort((x, y) => x.reason.localeCompare(y.reason)),
      complaints: {
        received: rows.complaints.filter((k) => k.againstAgencyId === a.id && seesRecord(v, rows, k) && inPeriod(k.receivedAt, period)).length,
        upheld: rows.complaints.filter((k) => k.againstAgencyId === a.id && seesRecord(v, rows, k) && k.status === 'UPHELD' && inPeriod(k.decidedAt, period)).length,
      },
    };
  });
}
