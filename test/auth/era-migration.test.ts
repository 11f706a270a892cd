/**
 * The migration that gives derived records their own era backfills existing rows (issue 10,
 * point 6): allocation lines from their payment, instalments from their plan, visit participants
 * from their agency (bank staff: the visit's era), custody entries from what made them (an upload
 * from its evidence, a supersession from the correction, anything else from the placement in force
 * then), and a consent an agency recorded on a bank-era visit from the placement in force when it
 * was recorded (it used to take the visit's era).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations } from '../../src/db/migrations.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/db/schema-engine.ts';

const MIGRATION = 'era_of_derived_records';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const N = id(1); // North
const S = id(2); // South
const T0 = '2026-10-01T00:00:00Z'; // bank
const T1 = '2026-10-10T00:00:00Z'; // placed with North
const T2 = '2026-10-20T00:00:00Z'; // recalled, placed with South

let db: PGlite;

beforeAll(async () => {
  db = new PGlite();
  const all = await listMigrations();
  const at = all.findIndex((m) => m.name.endsWith(`_${MIGRATION}`));
  expect(at).toBeGreaterThan(0);
  const sql = (m: (typeof all)[number]) => readFile(path.join(DEFAULT_MIGRATIONS_DIR, m.name, 'migration.sql'), 'utf8');
  for (const m of all.slice(0, at)) await db.exec(await sql(m));
  // A case worked by the bank, then North, then South; rows as the code before this migration wrote them.
  await db.exec(`
    INSERT INTO "Agency" (id, code, name, "licenseNumber", "dataProcessingContractRef", "updatedAt") VALUES
      ('${N}', 'N', 'North', 'L1', 'D1', now()), ('${S}', 'S', 'South', 'L2', 'D2', now());
    INSERT INTO "User" (id, email, "fullName", role, "agencyId", "updatedAt") VALUES
      ('${id(10)}', 'n@x', 'North Agent', 'AGENCY_COLLECTOR', '${N}', now()),
      ('${id(11)}', 'b@x', 'Bank Collector', 'BANK_COLLECTOR', NULL, now());
    INSERT INTO "Debtor" (id, "externalRef", "fullName", "nationalIdCiphertext", "nationalIdBlindIndex", "nationalIdMasked", "updatedAt")
      VALUES ('${id(20)}', 'D', 'Debtor', '\\x00', 'b', 'm', now());
    INSERT INTO "Address" (id, "debtorId", kind, line1, city, region) VALUES ('${id(21)}', '${id(20)}', 'HOME', 'l', 'c', 'r');
    INSERT INTO "CardAccount" (id, "externalRef", "debtorId", "cardLast4", product, "creditLimit", currency) VALUES ('${id(22)}', 'A', '${id(20)}', '1234', 'P', 1, 'CNY');
    INSERT INTO "Case" (id, "accountId", "debtorId", currency, principal, interest, fees, "overdueTotal", "dueDate", "updatedAt", "assignedAgencyId")
      VALUES ('${id(30)}', '${id(22)}', '${id(20)}', 'CNY', 100, 0, 0, 100, '2026-09-01', now(), '${S}');
    INSERT INTO "Placement" (id, "caseId", kind, "agencyId", "startsAt", "endedAt") VALUES
      ('${id(31)}', '${id(30)}', 'AGENCY', '${N}', '${T1}', '${T2}'),
      ('${id(32)}', '${id(30)}', 'AGENCY', '${S}', '${T2}', NULL);
    INSERT INTO "Evidence" (id, "caseId", "agencyId", kind, sha256, "sizeBytes", "contentType", "fileName", "uploadedAt", "supersedesId") VALUES
      ('${id(40)}', '${id(30)}', NULL, 'NOTE', 'a', 1, 't', 'bank.txt', '${T0}', NULL),
      ('${id(41)}', '${id(30)}', '${N}', 'NOTE', 'b', 1, 't', 'north.txt', '2026-10-12T00:00:00Z', '${id(40)}');
    INSERT INTO "EvidenceCustody" (id, "evidenceId", action, at) VALUES
      ('${id(42)}', '${id(40)}', 'UPLOADED', '${T0}'),
      ('${id(43)}', '${id(40)}', 'SUPERSEDED', '2026-10-12T00:00:00Z'),
      ('${id(44)}', '${id(41)}', 'UPLOADED', '2026-10-12T00:00:00Z'),
      ('${id(45)}', '${id(40)}', 'DOWNLOADED', '2026-10-25T00:00:00Z'),
      ('${id(46)}', '${id(40)}', 'DOWNLOADED', '2026-10-05T00:00:00Z');
    INSERT INTO "PromiseToPay" (id, "caseId", "agencyId", amount, currency, "promisedFor", "createdAt") VALUES ('${id(50)}', '${id(30)}', '${N}', 10, 'CNY', '2026-10-30', '2026-10-12T00:00:00Z');
    INSERT INTO "Payment" (id, "caseId", "agencyId", amount, currency, "receivedAt", channel, "idempotencyKey", "requestHash")
      VALUES ('${id(51)}', '${id(30)}', '${S}', 10, 'CNY', '2026-10-25T00:00:00Z', 'CASH', 'k-00000001', 'h');
    INSERT INTO "PaymentAllocation" (id, "paymentId", target, "promiseId", amount) VALUES ('${id(52)}', '${id(51)}', 'PROMISE', '${id(50)}', 10);
    -- The bank reversed it later, the case back with it: the negative line is the bank's.
    INSERT INTO "PaymentReversal" (id, "paymentId", "caseId", "agencyId", amount, currency, reason, "createdAt")
      VALUES ('${id(55)}', '${id(51)}', '${id(30)}', NULL, 10, 'CNY', 'wrong case', '2026-10-28T00:00:00Z');
    INSERT INTO "PaymentAllocation" (id, "paymentId", "reversalId", target, "promiseId", amount) VALUES ('${id(56)}', '${id(51)}', '${id(55)}', 'PROMISE', '${id(50)}', -10);
    INSERT INTO "RepaymentPlan" (id, "caseId", "agencyId", kind, currency, "totalAmount", "instalmentCount", "firstDueDate", "proposedAt")
      VALUES ('${id(53)}', '${id(30)}', '${N}', 'DEFERRAL', 'CNY', 100, 1, '2026-11-01', '2026-10-12T00:00:00Z');
    INSERT INTO "Instalment" (id, "planId", seq, "dueDate", amount) VALUES ('${id(54)}', '${id(53)}', 1, '2026-11-01', 100);
    INSERT INTO "Visit" (id, "caseId", "agencyId", "addressId", purpose, dossier) VALUES ('${id(60)}', '${id(30)}', NULL, '${id(21)}', 'p', '{}');
    INSERT INTO "VisitParticipant" (id, "visitId", "userId", "credentialNumber", "credentialExpiresOn") VALUES
      ('${id(61)}', '${id(60)}', '${id(10)}', 'c', '2027-01-01'), ('${id(62)}', '${id(60)}', '${id(11)}', 'c', '2027-01-01');
    INSERT INTO "ContactAttempt" (id, "caseId", "agencyId", "debtorId", channel, "attemptedAt") VALUES ('${id(63)}', '${id(30)}', '${N}', '${id(20)}', 'CALL', '2026-10-11T00:00:00Z');
    INSERT INTO "VisitConsent" (id, "caseId", "agencyId", "contactAttemptId", "windowStart", "windowEnd", "recordedAt") VALUES
      ('${id(64)}', '${id(30)}', NULL, '${id(63)}', '2026-10-13T00:00:00Z', '2026-10-14T00:00:00Z', '2026-10-11T00:00:00Z'),
      ('${id(65)}', '${id(30)}', NULL, '${id(63)}', '2026-10-03T00:00:00Z', '2026-10-04T00:00:00Z', '2026-10-02T00:00:00Z');
  `);
  await db.exec(await sql(all[at]!));
}, 60_000);

afterAll(async () => db?.close());

const eraOf = async (table: string, rowId: string) =>
  (await db.query<{ agencyId: string | null }>(`SELECT "agencyId" FROM "${table}" WHERE id = $1`, [rowId])).rows[0]!.agencyId;

describe(`migration ${MIGRATION}`, () => {
  it('allocation lines take their payment’s era, instalments their plan’s', async () => {
    expect(await eraOf('PaymentAllocation', id(52))).toBe(S);
    expect(await eraOf('PaymentAllocation', id(56))).toBeNull(); // a reversal's line: the reversal's era
    expect(await eraOf('Instalment', id(54))).toBe(N);
  });

  it('visit participants: an agency collector their agency; bank staff the visit’s era', async () => {
    expect(await eraOf('VisitParticipant', id(61))).toBe(N);
    expect(await eraOf('VisitParticipant', id(62))).toBeNull();
  });

  it('custody: an upload its evidence’s era, a supersession the correction’s, a download the placement in force', async () => {
    expect(await eraOf('EvidenceCustody', id(42))).toBeNull();
    expect(await eraOf('EvidenceCustody', id(43))).toBe(N);
    expect(await eraOf('EvidenceCustody', id(44))).toBe(N);
    expect(await eraOf('EvidenceCustody', id(45))).toBe(S);
    expect(await eraOf('EvidenceCustody', id(46))).toBeNull();
  });

  it('a consent North recorded on the bank’s visit becomes North’s; one the bank recorded stays the bank’s', async () => {
    expect(await eraOf('VisitConsent', id(64))).toBe(N);
    expect(await eraOf('VisitConsent', id(65))).toBeNull();
  });

  it('custody and allocation lines stay guarded after the backfill, and the helper function is gone', async () => {
    await expect(db.exec(`UPDATE "PaymentAllocation" SET amount = 1 WHERE id = '${id(52)}'`)).rejects.toThrow(/refused/);
    await expect(db.exec(`UPDATE "EvidenceCustody" SET detail = 'x' WHERE id = '${id(42)}'`)).rejects.toThrow(/append-only/);
    const fn = await db.query(`SELECT 1 FROM pg_proc WHERE proname = 'arrears_tmp_era_at'`);
    expect(fn.rows).toEqual([]);
  });
});
