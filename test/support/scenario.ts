import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import type { CaseStage, CaseStatus, Role } from '../../src/generated/prisma/enums.ts';
import type { Pii } from '../../src/lib/pii.ts';
import { dueDateForDaysPastDue } from '../../src/lib/time.ts';

export interface ScenarioUser {
  id: string;
  email: string;
  role: Role;
  agencyId: string | null;
}

export interface Scenario {
  north: { id: string };
  south: { id: string };
  users: Record<
    'admin' | 'supervisor' | 'collector' | 'collector2' | 'auditor' | 'northManager' | 'northAgent' | 'northAgent2' | 'southManager' | 'southAgent',
    ScenarioUser
  >;
}

let seq = 0;

/** Two agencies and one user of each role (two agents at North): the people every test needs. */
export async function createPeople(prisma: PrismaClient): Promise<Scenario> {
  const north = await prisma.agency.create({
    data: { code: 'NORTH', name: 'North Recovery', licenseNumber: 'LIC-N-001', dataProcessingContractRef: 'DPA-2026-N' },
  });
  const south = await prisma.agency.create({
    data: { code: 'SOUTH', name: 'South Recovery', licenseNumber: 'LIC-S-001', dataProcessingContractRef: 'DPA-2026-S' },
  });
  const credential = (n: string) => ({ credentialNumber: `WC-${n}`, credentialExpiresOn: new Date('2027-12-31T00:00:00Z') });
  const mk = async (email: string, role: Role, agencyId: string | null, fullName: string) => {
    const u = await prisma.user.create({ data: { email, role, agencyId, fullName, ...credential(email) } });
    return { id: u.id, email: u.email, role: u.role, agencyId: u.agencyId };
  };
  return {
    north,
    south,
    users: {
      admin: await mk('admin@bank.example', 'BANK_ADMIN', null, 'Admin'),
      supervisor: await mk('supervisor@bank.example', 'BANK_SUPERVISOR', null, 'Supervisor'),
      collector: await mk('collector@bank.example', 'BANK_COLLECTOR', null, 'Collector'),
      collector2: await mk('collector2@bank.example', 'BANK_COLLECTOR', null, 'Collector Two'),
      auditor: await mk('auditor@bank.example', 'AUDITOR', null, 'Auditor'),
      northManager: await mk('manager@north.example', 'AGENCY_MANAGER', north.id, 'North Manager'),
      northAgent: await mk('agent@north.example', 'AGENCY_COLLECTOR', north.id, 'North Agent'),
      northAgent2: await mk('agent2@north.example', 'AGENCY_COLLECTOR', north.id, 'North Agent Two'),
      southManager: await mk('manager@south.example', 'AGENCY_MANAGER', south.id, 'South Manager'),
      southAgent: await mk('agent@south.example', 'AGENCY_COLLECTOR', south.id, 'South Agent'),
    },
  };
}

export interface CaseSpec {
  agencyId?: string | null;
  collectorId?: string | null;
  daysPastDue?: number;
  principal?: bigint;
  stage?: CaseStage;
  status?: CaseStatus;
  debtorName?: string;
  nationalId?: string;
  phone?: string;
  currency?: string;
  now: Date;
}

/** One case with its debtor, contact point, address, account and current placement. */
export async function createCase(prisma: PrismaClient, pii: Pii, spec: CaseSpec) {
  const n = ++seq;
  const principal = spec.principal ?? 1_000_000n + BigInt(n);
  const interest = 12_345n;
  const fees = 5_000n;
  const nationalId = spec.nationalId ?? `11010119900307${String(1000 + n).slice(-4)}`;
  const debtor = await prisma.debtor.create({
    data: {
      externalRef: `CUST-T-${process.pid}-${n}`,
      fullName: spec.debtorName ?? `测试${n}`,
      ...pii.sealNationalId(nationalId),
      contactPoints: { create: [{ kind: 'MOBILE', value: spec.phone ?? `1380000${String(n).padStart(4, '0')}`, primary: true }] },
      addresses: { create: [{ kind: 'HOME', line1: `${n} Test Road`, city: 'Beijing', region: 'Beijing' }] },
    },
  });
  const account = await prisma.cardAccount.create({
    data: {
      externalRef: `ACCT-T-${process.pid}-${n}`,
      debtorId: debtor.id,
      cardLast4: String(1000 + (n % 9000)).slice(-4),
      product: 'Platinum',
      creditLimit: 5_000_000n,
      currency: spec.currency ?? 'CNY',
    },
  });
  const placed = spec.agencyId ?? null;
  return prisma.case.create({
    data: {
      accountId: account.id,
      debtorId: debtor.id,
      currency: spec.currency ?? 'CNY',
      principal,
      interest,
      fees,
      overdueTotal: principal + interest + fees,
      dueDate: dueDateForDaysPastDue(spec.daysPastDue ?? 10, spec.now),
      stage: spec.stage ?? 'EARLY_REMINDER',
      status: spec.status ?? 'OPEN',
      assignedAgencyId: placed,
      assignedCollectorId: spec.collectorId ?? null,
      openedAt: spec.now,
      placements:
        placed || spec.collectorId
          ? {
              create: {
                kind: placed ? 'AGENCY' : 'BANK',
                agencyId: placed,
                collectorId: spec.collectorId ?? null,
                startsAt: spec.now,
                endsAt: new Date(spec.now.getTime() + 90 * 86_400_000),
              },
            }
          : undefined,
      events: { create: { type: 'CASE_OPENED', actorLabel: 'system', occurredAt: spec.now, summary: 'Case opened', agencyId: placed } },
    },
  });
}
