import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/store.ts';
import { Pii } from '../../src/lib/pii.ts';
import { BUCKETS, FixedClock, bucketOf, daysPastDue } from '../../src/lib/time.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { createTestStore } from '../support/store.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { createEvidenceTestApp, type EvidenceTestApp } from '../evidence/support.ts';

const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-demo-blobs-'));
const blobs = new FolderBlobStore(blobDir);

const NOW = '2026-11-28T02:00:00Z';

/** The users of API.md, exactly. */
const API_USERS = [
  ['admin@bank.example', 'BANK_ADMIN', null],
  ['supervisor@bank.example', 'BANK_SUPERVISOR', null],
  ['collector@bank.example', 'BANK_COLLECTOR', null],
  ['auditor@bank.example', 'AUDITOR', null],
  ['manager@north.example', 'AGENCY_MANAGER', 'North Recovery'],
  ['agent@north.example', 'AGENCY_COLLECTOR', 'North Recovery'],
  ['manager@south.example', 'AGENCY_MANAGER', 'South Recovery'],
  ['agent@south.example', 'AGENCY_COLLECTOR', 'South Recovery'],
] as const;

async function counts(store: Store): Promise<Record<string, number>> {
  const p = store.prisma;
  return {
    agencies: await p.agency.count(),
    users: await p.user.count(),
    debtors: await p.debtor.count(),
    cases: await p.case.count(),
    events: await p.caseEvent.count(),
    reminders: await p.reminder.count(),
    attempts: await p.contactAttempt.count(),
    visits: await p.visit.count(),
    evidence: await p.evidence.count(),
    plans: await p.repaymentPlan.count(),
    payments: await p.payment.count(),
    policies: await p.contactPolicy.count(),
  };
}

describe('seedDemo', () => {
  const clock = new FixedClock(NOW);
  const pii = new Pii(Pii.randomKeys());
  let store: Store;
  let first: Awaited<ReturnType<typeof seedDemo>>;

  beforeAll(async () => {
    store = await createTestStore();
    first = await seedDemo(store.prisma, { pii, clock, blobs });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('seeds once', () => {
    expect(first.seeded).toBe(true);
    expect(first.cases).toBeGreaterThanOrEqual(220);
    expect(first.users).toBe(11);
  });

  it("holds API.md's eight users with their roles and agencies", async () => {
    const users = await store.prisma.user.findMany({ include: { agency: true } });
    for (const [email, role, agency] of API_USERS) {
      const u = users.find((x) => x.email === email);
      expect(u, email).toBeDefined();
      expect(u!.role, email).toBe(role);
      expect(u!.agency?.name ?? null, email).toBe(agency);
    }
    const agencies = await store.prisma.agency.findMany({ include: { inspections: true } });
    expect(agencies.map((a) => a.code).sort()).toEqual(['NORTH', 'SOUTH']);
    for (const a of agencies) {
      expect(a.status).toBe('ACTIVE');
      expect(a.dataProcessingContractRef).not.toBe('');
      expect(a.inspections).toHaveLength(1);
    }
    // Collectors and managers carry a work credential; one extra agent's has expired.
    const today = new Date(NOW.slice(0, 10));
    const field = users.filter((u) => u.role === 'BANK_COLLECTOR' || u.role === 'AGENCY_COLLECTOR' || u.role === 'AGENCY_MANAGER');
    expect(field.length).toBe(8);
    for (const u of field) expect(u.credentialNumber, u.email).toBeTruthy();
    const expired = field.filter((u) => u.credentialExpiresOn! < today).map((u) => u.email);
    expect(expired).toEqual(['agent2@south.example']);
  });

  it('covers every bucket, stage and status, in consistent combinations', async () => {
    const cases = await store.prisma.case.findMany();
    expect(cases.length).toBeGreaterThanOrEqual(220);
    const now = clock.now();
    const buckets = new Set(cases.map((c) => bucketOf(daysPastDue(c.dueDate, now))));
    expect([...buckets].sort()).toEqual([...BUCKETS].sort());
    expect(new Set(cases.map((c) => c.stage))).toEqual(new Set(['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL', 'RESOLVED', 'CLOSED']));
    expect(new Set(cases.map((c) => c.status))).toEqual(new Set(['OPEN', 'PROMISED', 'BROKEN_PROMISE', 'PAID', 'WRITTEN_OFF']));
    for (const c of cases) {
      const label = `case ${c.caseNo} ${c.stage}/${c.status}`;
      expect(c.overdueTotal, label).toBe(c.principal + c.interest + c.fees);
      if (c.stage === 'RESOLVED') expect(c.status, label).toBe('PAID');
      if (c.stage === 'CLOSED') {
        expect(c.closedAt, label).not.toBeNull();
        expect(c.closeReason, label).not.toBeNull();
      } else {
        expect(c.closeReason, label).toBeNull();
      }
      if (c.status === 'WRITTEN_OFF') expect([c.stage, c.closeReason], label).toEqual(['CLOSED', 'WRITTEN_OFF']);
      if (c.status === 'PAID') expect(c.overdueTotal, label).toBe(0n);
    }
    // Placement: with each agency and with the bank, some unassigned within an agency.
    const withAgencies = cases.filter((c) => c.assignedAgencyId !== null);
    expect(withAgencies.length).toBeGreaterThan(cases.length / 2);
    expect(cases.some((c) => c.assignedAgencyId !== null && c.assignedCollectorId === null)).toBe(true);
    expect(cases.some((c) => c.assignedAgencyId === null && c.assignedCollectorId !== null)).toBe(true);
    const recalled = await store.prisma.placement.count({ where: { recallReason: { not: null }, endedAt: { not: null } } });
    expect(recalled).toBeGreaterThan(0);
  });

  it('keeps the money exact: plans, payments, promises', async () => {
    const plans = await store.prisma.repaymentPlan.findMany({ include: { instalments: true } });
    expect(new Set(plans.map((p) => p.status))).toEqual(new Set(['PROPOSED', 'REJECTED', 'ACTIVE', 'COMPLETED', 'BROKEN']));
    expect(plans.some((p) => p.kind === 'SETTLEMENT' && p.discountAmount > 0n)).toBe(true);
    for (const p of plans) {
      expect(p.instalments, `plan ${p.id}`).toHaveLength(p.instalmentCount);
      expect(p.instalments.reduce((s, i) => s + i.amount, 0n), `plan ${p.id}`).toBe(p.totalAmount);
      expect(p.instalments.reduce((s, i) => s + i.paidAmount, 0n), `plan ${p.id}`).toBe(p.paidAmount);
    }
    const payments = await store.prisma.payment.findMany({ include: { allocations: true } });
    expect(payments.length).toBeGreaterThan(0);
    for (const p of payments) {
      expect(p.allocations.reduce((s, a) => s + a.amount, 0n), `payment ${p.idempotencyKey}`).toBe(p.amount);
    }
    const promises = await store.prisma.promiseToPay.findMany({ include: { allocations: true } });
    expect(new Set(promises.map((p) => p.status))).toEqual(new Set(['OPEN', 'KEPT', 'BROKEN']));
    for (const p of promises) expect(p.allocations.reduce((s, a) => s + a.amount, 0n)).toBe(p.paidAmount);
  });

  it('seals national IDs: they decrypt to 18 characters and the mask matches', async () => {
    const debtors = await store.prisma.debtor.findMany();
    expect(debtors.length).toBe(first.cases);
    for (const d of debtors) {
      const id = pii.decrypt(d.nationalIdCiphertext);
      expect(id, d.externalRef).toMatch(/^\d{17}[\dX]$/);
      expect(d.nationalIdMasked, d.externalRef).toBe(Pii.maskNationalId(id));
      expect(d.nationalIdBlindIndex, d.externalRef).toBe(pii.blindIndex(id));
    }
  });

  it('tells a history in the past, with visits that had consent and two collectors', async () => {
    const future = await store.prisma.caseEvent.count({ where: { occurredAt: { gt: clock.now() } } });
    expect(future).toBe(0);
    const visits = await store.prisma.visit.findMany({
      include: { participants: true, consent: { include: { contactAttempt: true } } },
    });
    expect(new Set(visits.map((v) => v.status))).toEqual(
      new Set(['PREPARING', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DECIDED', 'CANCELLED']),
    );
    for (const v of visits.filter((x) => x.status !== 'PREPARING')) {
      expect(v.consent?.contactAttempt.outcome, `visit ${v.id}`).toBe('VISIT_CONSENT_GIVEN');
      expect(v.participants.length, `visit ${v.id}`).toBeGreaterThanOrEqual(2);
    }
    const holds = await store.prisma.hold.findMany();
    expect(holds.some((h) => h.reason === 'DISPUTE' && h.releasedAt === null)).toBe(true);
    expect(holds.some((h) => h.reason === 'HARDSHIP' && h.releasedAt !== null)).toBe(true);
    const sms = await store.prisma.reminder.findFirst({ where: { language: 'ZH_CN', channel: 'SMS', status: 'DELIVERED' } });
    expect(sms?.renderedMessage).toMatch(/^【示例银行】尊敬的.+欠款¥[\d,]+\.\d{2}，请于\d{4}年\d{2}月\d{2}日前还款/);
  });

  it('prints the pack of the visits ahead (issue 18): real PDFs with the case number, kept as visit evidence', async () => {
    const docs = await store.prisma.visitDocument.findMany({ include: { visit: { select: { status: true, caseId: true } } } });
    expect(docs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE']));
    for (const d of docs) {
      expect(['SCHEDULED', 'IN_PROGRESS', 'COMPLETED']).toContain(d.visit.status);
      const ev = await store.prisma.evidence.findUniqueOrThrow({ where: { id: d.evidenceId }, include: { case: { select: { caseNo: true } } } });
      expect(ev).toMatchObject({ sha256: d.sha256, visitId: d.visitId, contentType: 'application/pdf' });
      const bytes = await blobs.get(d.sha256);
      expect(bytes).not.toBeNull();
    }
  });

  it('holds a commission statement of last month, a legal referral and a proposed write-off, made through their services (issue 16)', async () => {
    const statement = await store.prisma.commissionStatement.findFirstOrThrow({ include: { lines: true } });
    expect(statement.lines.length).toBeGreaterThan(0);
    expect(statement.feeAmount).toBe(statement.lines.reduce((a, l) => a + l.fee, 0n));
    expect(statement.feeAmount > 0n).toBe(true);
    const referral = await store.prisma.legalReferral.findFirstOrThrow();
    expect(referral).toMatchObject({ status: 'FILED', lawFirm: 'Beijing Zhongyuan Law Firm' });
    expect(referral.documentIds.length).toBeGreaterThan(0);
    expect((await store.prisma.case.findUniqueOrThrow({ where: { id: referral.caseId } })).stage).toBe('LEGAL');
    expect(await store.prisma.writeOff.count({ where: { status: 'PROPOSED' } })).toBe(1);
    expect(await store.prisma.auditEvent.count({ where: { action: { in: ['commission.setSchedule', 'commission.issueStatement', 'legal.refer', 'legal.file', 'writeOff.propose'] } } })).toBe(5);
  });

  it('changes nothing when run again', async () => {
    const before = await counts(store);
    const again = await seedDemo(store.prisma, { pii, clock, blobs });
    expect(again.seeded).toBe(false);
    expect(await counts(store)).toEqual(before);
  });

  it('seeds at any hour: in the UTC evening, when the bank’s day (Shanghai) is already the next', async () => {
    const other = await createTestStore();
    try {
      await seedDemo(other.prisma, { pii: new Pii(Pii.randomKeys()), clock: new FixedClock('2026-11-28T19:55:00Z'), blobs });
      const referral = await other.prisma.legalReferral.findFirstOrThrow();
      expect(referral.status).toBe('FILED');
      expect(referral.filedOn?.toISOString().slice(0, 10)).toBe('2026-11-29');
    } finally {
      await other.close();
    }
  });

  it('gives the same data for the same clock', async () => {
    const other = await createTestStore();
    try {
      await seedDemo(other.prisma, { pii: new Pii(Pii.randomKeys()), clock: new FixedClock(NOW), blobs });
      const snapshot = (s: Store) =>
        s.prisma.case.findMany({
          orderBy: { caseNo: 'asc' },
          select: { overdueTotal: true, dueDate: true, stage: true, status: true, debtor: { select: { fullName: true } } },
        });
      expect(await snapshot(other)).toEqual(await snapshot(store));
    } finally {
      await other.close();
    }
  });
});

describe("the demo's evidence has real files (issue 11, point 10)", () => {
  let e: EvidenceTestApp;
  beforeAll(async () => {
    e = await createEvidenceTestApp();
    await seedDemo(e.t.prisma, { pii: e.t.pii, clock: e.t.clock, blobs: e.blobs });
  });
  afterAll(async () => {
    await e?.close();
    fs.rmSync(blobDir, { recursive: true, force: true });
  });

  it('every demo evidence record downloads: the bytes of its SHA-256, of its type; no tamper finding', async () => {
    const admin = await e.t.prisma.user.findUniqueOrThrow({ where: { email: 'admin@bank.example' } });
    const token = await e.t.token(admin);
    const records = await e.t.prisma.evidence.findMany({ select: { id: true, sha256: true, sizeBytes: true, contentType: true, kind: true } });
    expect(records.length).toBeGreaterThan(20);
    expect(new Set(records.map((r) => r.contentType))).toEqual(new Set(['application/pdf', 'image/png', 'audio/wav']));
    const Q = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Evidence { id downloadUrl } } }`;
    for (let i = 0; i < records.length; i += 50) {
      const slice = records.slice(i, i + 50);
      const r = await e.gql(token, Q, { ids: slice.map((x) => encodeGlobalID('Evidence', x.id)) });
      expect(r.errors).toBeUndefined();
      for (const [k, node] of (r.data.nodes as { downloadUrl: string }[]).entries()) {
        const rec = slice[k]!;
        const res = await e.download(node.downloadUrl);
        expect(res.status, `${rec.kind} ${rec.id}`).toBe(200);
        expect(res.headers.get('content-type')).toContain(rec.contentType);
        const body = Buffer.from(await res.arrayBuffer());
        expect(body.length).toBe(rec.sizeBytes);
        expect(createHash('sha256').update(body).digest('hex')).toBe(rec.sha256);
      }
    }
    expect(await e.t.prisma.evidenceCustody.count({ where: { action: 'TAMPER_DETECTED' } })).toBe(0);
    expect(await e.t.prisma.evidenceCustody.count({ where: { action: 'DOWNLOADED' } })).toBe(records.length);
  });
});

