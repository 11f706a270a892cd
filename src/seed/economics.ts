/**
 * The demo's commission and legal records (issue 16 points 5-6), written through their services
 * after the demo set itself (STYLE.md: demo data goes through the services): North Recovery's fee
 * schedule and its issued statement of last month; a legal referral with its document package
 * and its filing; a write-off proposed and waiting for a checker.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import { BANK_TIME_ZONE, localDate, parseDateOnly, type Clock } from '../lib/time.ts';
import { viewerOf } from '../auth/viewer.ts';
import type { Actor } from '../lib/actor.ts';
import { issueCommissionStatement, periodOf, previousPeriod, setCommissionSchedule } from '../modules/commission/service.ts';
import { proposeWriteOff, recordLegalFiling, referCaseToLegal } from '../modules/legal/service.ts';

export interface EconomicsSeedResult {
  statementId: string | null;
  referralId: string | null;
  writeOffId: string | null;
}

export async function seedEconomics(prisma: PrismaClient, clock: Clock): Promise<EconomicsSeedResult> {
  const actorOf = async (email: string): Promise<Actor> => ({ viewer: viewerOf(await prisma.user.findUniqueOrThrow({ where: { email } })), requestId: null });
  const admin = await actorOf('admin@bank.example');
  const supervisor = await actorOf('supervisor@bank.example');
  const north = await prisma.agency.findUniqueOrThrow({ where: { code: 'NORTH' } });
  const deps = { prisma, clock };
  const last = previousPeriod(periodOf(clock.now()));
  const from = `${previousPeriod(previousPeriod(last))}-01`;

  // 15% of what is collected on cases placed in M1–M2, 20% on M3–M4, 25% on older ones; at most
  // CNY 3,000.00 a case a month; CNY 50.00 per completed visit.
  await setCommissionSchedule(deps, admin, {
    agencyId: north.id,
    currency: 'CNY',
    effectiveFrom: new Date(`${from}T00:00:00Z`),
    rates: [
      { bucket: 'M1', rateBps: 1500 },
      { bucket: 'M2', rateBps: 1500 },
      { bucket: 'M3', rateBps: 2000 },
      { bucket: 'M4', rateBps: 2000 },
    ],
    defaultRateBps: 2500,
    caseMonthlyCap: 300_000,
    visitFee: 5_000,
    note: 'Agency agreement 2026, schedule A',
  });
  const { statement } = await issueCommissionStatement(deps, admin, { agencyId: north.id, currency: 'CNY', period: last });

  // A case in LEGAL (or one a visit escalated) that has evidence: referred, then filed.
  const candidate = await prisma.case.findFirst({
    where: { stage: { in: ['LEGAL', 'FIELD_VISIT'] }, currency: 'CNY', overdueTotal: { gt: 0 }, evidence: { some: {} }, legalReferrals: { none: {} } },
    orderBy: [{ stage: 'desc' }, { caseNo: 'asc' }],
    select: { id: true, evidence: { select: { id: true }, take: 3, orderBy: { uploadedAt: 'asc' } } },
  });
  let referralId: string | null = null;
  if (candidate) {
    const { referral } = await referCaseToLegal(deps, supervisor, {
      caseId: candidate.id,
      lawFirm: 'Beijing Zhongyuan Law Firm',
      lawFirmReference: 'ZY-2026-118',
      documentIds: candidate.evidence.map((e) => e.id),
      note: 'No payment after two visits; the debtor refused a plan.',
    });
    const filed = await recordLegalFiling(deps, supervisor, { referralId: referral.id, court: 'Beijing Chaoyang District People’s Court', courtReference: '(2026)京0105民初8821号',
      // A calendar day, the bank's (a filing date is a Date: today in Shanghai, whatever UTC's day is).
      filedOn: parseDateOnly(localDate(clock.now(), BANK_TIME_ZONE)),
    });
    referralId = filed.referral.id;
  }

  // A write-off proposed by a collector, in the checkers' queue.
  const collector = await prisma.user.findUnique({ where: { email: 'collector@bank.example' } });
  const small = collector
    ? await prisma.case.findFirst({ where: { assignedCollectorId: collector.id, stage: { in: ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL'] }, overdueTotal: { gt: 0, lt: 200_000 } }, orderBy: { caseNo: 'asc' }, select: { id: true } })
    : null;
  let writeOffId: string | null = null;
  if (collector && small) {
    const { writeOff } = await proposeWriteOff(deps, { viewer: viewerOf(collector), requestId: null }, { caseId: small.id, reason: 'SMALL_BALANCE', note: 'Balance below the cost of further collection.' });
    writeOffId = writeOff.id;
  }
  return { statementId: statement.id, referralId, writeOffId };
}
