-- CreateEnum
CREATE TYPE "CommissionLineKind" AS ENUM ('COLLECTION', 'REVERSAL', 'VISIT_FEE', 'ADJUSTMENT');

-- CreateEnum
CREATE TYPE "CommissionDisputeStatus" AS ENUM ('OPEN', 'UPHELD', 'REJECTED');

-- CreateEnum
CREATE TYPE "LegalReferralStatus" AS ENUM ('REFERRED', 'FILED', 'JUDGMENT', 'ENFORCEMENT', 'CLOSED');

-- CreateEnum
CREATE TYPE "JudgmentResult" AS ENUM ('FOR_BANK', 'PARTIAL', 'AGAINST_BANK');

-- CreateEnum
CREATE TYPE "LegalOutcome" AS ENUM ('JUDGMENT_SATISFIED', 'SETTLED', 'WITHDRAWN', 'DISMISSED', 'UNENFORCEABLE');

-- CreateEnum
CREATE TYPE "WriteOffStatus" AS ENUM ('PROPOSED', 'APPROVED', 'REJECTED');

-- CreateEnum
CREATE TYPE "WriteOffReason" AS ENUM ('UNCOLLECTIBLE', 'DECEASED', 'BANKRUPTCY', 'STATUTE_BARRED', 'LEGAL_EXHAUSTED', 'SMALL_BALANCE', 'OTHER');

-- CreateTable
CREATE TABLE "CommissionSchedule" (
    "id" UUID NOT NULL,
    "agencyId" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "effectiveFrom" DATE NOT NULL,
    "rates" JSONB NOT NULL,
    "defaultRateBps" INTEGER NOT NULL,
    "caseMonthlyCap" BIGINT,
    "monthlyCap" BIGINT,
    "visitFee" BIGINT NOT NULL DEFAULT 0,
    "note" TEXT NOT NULL DEFAULT '',
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CommissionSchedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CommissionStatement" (
    "id" UUID NOT NULL,
    "agencyId" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "period" TEXT NOT NULL,
    "collectedAmount" BIGINT NOT NULL,
    "feeAmount" BIGINT NOT NULL,
    "adjustmentAmount" BIGINT NOT NULL DEFAULT 0,
    "issuedAt" TIMESTAMPTZ(3) NOT NULL,
    "issuedById" UUID,

    CONSTRAINT "CommissionStatement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CommissionLine" (
    "id" UUID NOT NULL,
    "statementId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" "CommissionLineKind" NOT NULL,
    "caseId" UUID,
    "paymentId" UUID,
    "reversalId" UUID,
    "visitId" UUID,
    "adjustsLineId" UUID,
    "basisAmount" BIGINT NOT NULL DEFAULT 0,
    "rateBps" INTEGER,
    "uncappedFee" BIGINT NOT NULL,
    "fee" BIGINT NOT NULL,
    "scheduleVersion" INTEGER,
    "note" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CommissionLine_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CommissionDispute" (
    "id" UUID NOT NULL,
    "lineId" UUID NOT NULL,
    "agencyId" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "claimedFee" BIGINT,
    "status" "CommissionDisputeStatus" NOT NULL DEFAULT 'OPEN',
    "raisedById" UUID NOT NULL,
    "raisedAt" TIMESTAMPTZ(3) NOT NULL,
    "resolvedById" UUID,
    "resolvedAt" TIMESTAMPTZ(3),
    "resolutionNote" TEXT,
    "adjustmentLineId" UUID,

    CONSTRAINT "CommissionDispute_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LegalReferral" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "lawFirm" TEXT NOT NULL,
    "lawFirmReference" TEXT,
    "currency" CHAR(3) NOT NULL,
    "principal" BIGINT NOT NULL,
    "interest" BIGINT NOT NULL,
    "fees" BIGINT NOT NULL,
    "total" BIGINT NOT NULL,
    "status" "LegalReferralStatus" NOT NULL DEFAULT 'REFERRED',
    "note" TEXT NOT NULL DEFAULT '',
    "referredAt" TIMESTAMPTZ(3) NOT NULL,
    "referredById" UUID NOT NULL,
    "court" TEXT,
    "courtReference" TEXT,
    "filedOn" DATE,
    "judgmentOn" DATE,
    "judgmentResult" "JudgmentResult",
    "judgmentAmount" BIGINT,
    "enforcementStartedOn" DATE,
    "enforcementMethod" TEXT,
    "outcome" "LegalOutcome",
    "outcomeNote" TEXT,
    "closedAt" TIMESTAMPTZ(3),
    "documentIds" UUID[],

    CONSTRAINT "LegalReferral_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LegalHearing" (
    "id" UUID NOT NULL,
    "referralId" UUID NOT NULL,
    "agencyId" UUID,
    "heldAt" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "result" TEXT NOT NULL DEFAULT '',
    "recordedById" UUID NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LegalHearing_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WriteOff" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "currency" CHAR(3) NOT NULL,
    "principal" BIGINT NOT NULL,
    "interest" BIGINT NOT NULL,
    "fees" BIGINT NOT NULL,
    "total" BIGINT NOT NULL,
    "reason" "WriteOffReason" NOT NULL,
    "note" TEXT NOT NULL,
    "status" "WriteOffStatus" NOT NULL DEFAULT 'PROPOSED',
    "proposedById" UUID NOT NULL,
    "proposedAt" TIMESTAMPTZ(3) NOT NULL,
    "decidedById" UUID,
    "decidedAt" TIMESTAMPTZ(3),
    "decisionNote" TEXT,
    "recoveredAmount" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "WriteOff_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Recovery" (
    "id" UUID NOT NULL,
    "writeOffId" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "channel" "PaymentChannel" NOT NULL,
    "externalReference" TEXT,
    "idempotencyKey" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "recordedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Recovery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CommissionSchedule_agencyId_currency_version_key" ON "CommissionSchedule"("agencyId", "currency", "version");

-- CreateIndex
CREATE UNIQUE INDEX "CommissionSchedule_agencyId_currency_effectiveFrom_key" ON "CommissionSchedule"("agencyId", "currency", "effectiveFrom");

-- CreateIndex
CREATE INDEX "CommissionStatement_agencyId_period_idx" ON "CommissionStatement"("agencyId", "period");

-- CreateIndex
CREATE UNIQUE INDEX "CommissionStatement_agencyId_currency_period_key" ON "CommissionStatement"("agencyId", "currency", "period");

-- CreateIndex
CREATE INDEX "CommissionLine_paymentId_idx" ON "CommissionLine"("paymentId");

-- CreateIndex
CREATE INDEX "CommissionLine_reversalId_idx" ON "CommissionLine"("reversalId");

-- CreateIndex
CREATE UNIQUE INDEX "CommissionLine_statementId_seq_key" ON "CommissionLine"("statementId", "seq");

-- CreateIndex
CREATE INDEX "CommissionDispute_lineId_idx" ON "CommissionDispute"("lineId");

-- CreateIndex
CREATE INDEX "CommissionDispute_agencyId_raisedAt_idx" ON "CommissionDispute"("agencyId", "raisedAt");

-- CreateIndex
CREATE INDEX "LegalReferral_caseId_referredAt_idx" ON "LegalReferral"("caseId", "referredAt");

-- CreateIndex
CREATE INDEX "LegalHearing_referralId_heldAt_idx" ON "LegalHearing"("referralId", "heldAt");

-- CreateIndex
CREATE INDEX "WriteOff_caseId_proposedAt_idx" ON "WriteOff"("caseId", "proposedAt");

-- CreateIndex
CREATE INDEX "WriteOff_status_proposedAt_idx" ON "WriteOff"("status", "proposedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Recovery_idempotencyKey_key" ON "Recovery"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Recovery_writeOffId_receivedAt_idx" ON "Recovery"("writeOffId", "receivedAt");

-- CreateIndex
CREATE INDEX "Recovery_caseId_idx" ON "Recovery"("caseId");

-- AddForeignKey
ALTER TABLE "CommissionLine" ADD CONSTRAINT "CommissionLine_statementId_fkey" FOREIGN KEY ("statementId") REFERENCES "CommissionStatement"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CommissionDispute" ADD CONSTRAINT "CommissionDispute_lineId_fkey" FOREIGN KEY ("lineId") REFERENCES "CommissionLine"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LegalReferral" ADD CONSTRAINT "LegalReferral_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LegalHearing" ADD CONSTRAINT "LegalHearing_referralId_fkey" FOREIGN KEY ("referralId") REFERENCES "LegalReferral"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WriteOff" ADD CONSTRAINT "WriteOff_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Recovery" ADD CONSTRAINT "Recovery_writeOffId_fkey" FOREIGN KEY ("writeOffId") REFERENCES "WriteOff"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A statement line is append-only: an issued statement is frozen, a correction is an ADJUSTMENT line.
CREATE TRIGGER "CommissionLine_append_only" BEFORE UPDATE OR DELETE ON "CommissionLine"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
-- A recovery, like a payment, is never removed.
CREATE TRIGGER "Recovery_append_only" BEFORE UPDATE OR DELETE ON "Recovery"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
