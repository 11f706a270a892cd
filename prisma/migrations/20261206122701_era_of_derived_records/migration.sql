-- AlterTable
ALTER TABLE "EvidenceCustody" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Instalment" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "PaymentAllocation" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "VisitParticipant" ADD COLUMN     "agencyId" UUID;

-- Backfill (hand-written): every record keeps the era of the agency that held the case when it
-- was made (null: the bank). Derived records take it from what made them; where nothing did,
-- from the placement in force at the time.

-- The agency holding a case at an instant, from its placements (null: the bank or unplaced).
CREATE FUNCTION arrears_tmp_era_at(case_id UUID, at TIMESTAMPTZ) RETURNS UUID AS $$
  SELECT p."agencyId" FROM "Placement" p
   WHERE p."caseId" = case_id AND p."startsAt" <= at AND (p."endedAt" IS NULL OR p."endedAt" > at)
   ORDER BY p."startsAt" DESC LIMIT 1
$$ LANGUAGE sql STABLE;

-- Allocation lines are the payment's (a reversal's lines the reversal's); instalments the plan's.
-- Lines are immutable: their guard is lifted for this backfill only.
ALTER TABLE "PaymentAllocation" DISABLE TRIGGER "PaymentAllocation_immutable";
UPDATE "PaymentAllocation" a SET "agencyId" = CASE
    WHEN a."reversalId" IS NOT NULL THEN (SELECT r."agencyId" FROM "PaymentReversal" r WHERE r.id = a."reversalId")
    ELSE (SELECT p."agencyId" FROM "Payment" p WHERE p.id = a."paymentId")
  END;
ALTER TABLE "PaymentAllocation" ENABLE TRIGGER "PaymentAllocation_immutable";
UPDATE "Instalment" i SET "agencyId" = p."agencyId" FROM "RepaymentPlan" p WHERE p.id = i."planId";

-- A collector named for a visit: their own agency's era; bank staff, the era of the visit.
UPDATE "VisitParticipant" vp SET "agencyId" = COALESCE(u."agencyId", v."agencyId")
  FROM "User" u, "Visit" v WHERE u.id = vp."userId" AND v.id = vp."visitId";

-- A consent used to take its visit's era: one an agency recorded on a bank-era visit read as the
-- bank's. It is the era of whoever held the case when it was recorded.
UPDATE "VisitConsent" c SET "agencyId" = arrears_tmp_era_at(c."caseId", c."recordedAt")
 WHERE c."agencyId" IS NULL AND arrears_tmp_era_at(c."caseId", c."recordedAt") IS NOT NULL;

-- Custody is append-only: its guard is lifted for this backfill only.
ALTER TABLE "EvidenceCustody" DISABLE TRIGGER "EvidenceCustody_append_only";
UPDATE "EvidenceCustody" k SET "agencyId" = CASE
    WHEN k.action = 'UPLOADED' THEN e."agencyId"
    WHEN k.action = 'SUPERSEDED' THEN COALESCE((SELECT n."agencyId" FROM "Evidence" n WHERE n."supersedesId" = k."evidenceId"), arrears_tmp_era_at(e."caseId", k."at"))
    ELSE arrears_tmp_era_at(e."caseId", k."at")
  END
  FROM "Evidence" e WHERE e.id = k."evidenceId";
ALTER TABLE "EvidenceCustody" ENABLE TRIGGER "EvidenceCustody_append_only";

DROP FUNCTION arrears_tmp_era_at(UUID, TIMESTAMPTZ);
