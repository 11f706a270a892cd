-- CreateEnum
CREATE TYPE "OptOutKind" AS ENUM ('DO_NOT_CONTACT', 'CEASE_CONTACT');

-- CreateEnum
CREATE TYPE "OptOutSource" AS ENUM ('SMS_REPLY', 'CALL', 'LETTER', 'EMAIL', 'IN_PERSON', 'COMPLAINT', 'BANK');

-- CreateEnum
CREATE TYPE "ComplaintChannel" AS ENUM ('PHONE', 'LETTER', 'EMAIL', 'SMS', 'IN_PERSON', 'ONLINE', 'REGULATOR');

-- CreateEnum
CREATE TYPE "ComplaintCategory" AS ENUM ('HARASSMENT', 'WRONG_PERSON', 'THIRD_PARTY_DISCLOSURE', 'PRIVACY', 'AMOUNT', 'VISIT_CONDUCT', 'OTHER');

-- CreateEnum
CREATE TYPE "ComplaintAgainst" AS ENUM ('AGENCY', 'COLLECTOR', 'BANK');

-- CreateEnum
CREATE TYPE "ComplaintStatus" AS ENUM ('OPEN', 'INVESTIGATING', 'UPHELD', 'NOT_UPHELD');

-- CreateEnum
CREATE TYPE "DisputeReason" AS ENUM ('NOT_MY_DEBT', 'AMOUNT_WRONG', 'ALREADY_PAID', 'IDENTITY_THEFT', 'OTHER');

-- CreateEnum
CREATE TYPE "DisputeStatus" AS ENUM ('OPEN', 'RESOLVED');

-- CreateEnum
CREATE TYPE "DisputeOutcome" AS ENUM ('VERIFIED', 'ADJUSTED', 'WITHDRAWN');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "EvidenceKind" ADD VALUE 'DISPUTE_DOCUMENT';
ALTER TYPE "EvidenceKind" ADD VALUE 'DEBT_VERIFICATION';

-- AlterTable
ALTER TABLE "ContactPolicy" ADD COLUMN     "complaintResolutionDays" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN     "complaintResponseDays" INTEGER NOT NULL DEFAULT 15;

-- AlterTable
ALTER TABLE "Debtor" ADD COLUMN     "preferredChannel" "ContactChannel",
ADD COLUMN     "preferredContactFrom" INTEGER,
ADD COLUMN     "preferredContactTo" INTEGER;

-- AlterTable
ALTER TABLE "Evidence" ADD COLUMN     "disputeId" UUID;

-- CreateTable
CREATE TABLE "ContactOptOut" (
    "id" UUID NOT NULL,
    "kind" "OptOutKind" NOT NULL,
    "debtorId" UUID NOT NULL,
    "contactPointId" UUID,
    "channel" "ContactChannel",
    "source" "OptOutSource" NOT NULL,
    "reason" TEXT NOT NULL,
    "agencyId" UUID,
    "inboundMessageId" UUID,
    "setById" UUID,
    "setAt" TIMESTAMPTZ(3) NOT NULL,
    "clearedAt" TIMESTAMPTZ(3),
    "clearedById" UUID,
    "clearReason" TEXT,

    CONSTRAINT "ContactOptOut_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboundMessage" (
    "id" UUID NOT NULL,
    "providerMessageId" TEXT NOT NULL,
    "channel" "ContactChannel" NOT NULL,
    "fromAddress" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "keyword" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "InboundMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Complaint" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "channel" "ComplaintChannel" NOT NULL,
    "category" "ComplaintCategory" NOT NULL,
    "against" "ComplaintAgainst" NOT NULL,
    "againstAgencyId" UUID,
    "againstUserId" UUID,
    "description" TEXT NOT NULL,
    "status" "ComplaintStatus" NOT NULL DEFAULT 'OPEN',
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "responseDueAt" TIMESTAMPTZ(3) NOT NULL,
    "resolutionDueAt" TIMESTAMPTZ(3) NOT NULL,
    "respondedAt" TIMESTAMPTZ(3),
    "response" TEXT,
    "findings" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "decidedById" UUID,
    "escalationLevel" INTEGER NOT NULL DEFAULT 0,
    "escalatedAt" TIMESTAMPTZ(3),
    "recordedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Complaint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dispute" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "reason" "DisputeReason" NOT NULL,
    "description" TEXT NOT NULL,
    "amountDisputed" BIGINT,
    "currency" CHAR(3) NOT NULL,
    "inWriting" BOOLEAN NOT NULL DEFAULT false,
    "verificationRequired" BOOLEAN NOT NULL DEFAULT false,
    "status" "DisputeStatus" NOT NULL DEFAULT 'OPEN',
    "holdId" UUID,
    "openedById" UUID,
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "verifiedAt" TIMESTAMPTZ(3),
    "verificationEvidenceId" UUID,
    "outcome" "DisputeOutcome",
    "adjustment" BIGINT NOT NULL DEFAULT 0,
    "resolutionNote" TEXT,
    "resolvedAt" TIMESTAMPTZ(3),
    "resolvedById" UUID,

    CONSTRAINT "Dispute_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ContactOptOut_debtorId_clearedAt_idx" ON "ContactOptOut"("debtorId", "clearedAt");

-- CreateIndex
CREATE INDEX "ContactOptOut_contactPointId_clearedAt_idx" ON "ContactOptOut"("contactPointId", "clearedAt");

-- CreateIndex
CREATE INDEX "ContactOptOut_inboundMessageId_idx" ON "ContactOptOut"("inboundMessageId");

-- CreateIndex
CREATE UNIQUE INDEX "InboundMessage_providerMessageId_key" ON "InboundMessage"("providerMessageId");

-- CreateIndex
CREATE INDEX "InboundMessage_fromAddress_receivedAt_idx" ON "InboundMessage"("fromAddress", "receivedAt");

-- CreateIndex
CREATE INDEX "Complaint_caseId_receivedAt_idx" ON "Complaint"("caseId", "receivedAt");

-- CreateIndex
CREATE INDEX "Complaint_status_responseDueAt_idx" ON "Complaint"("status", "responseDueAt");

-- CreateIndex
CREATE INDEX "Complaint_againstAgencyId_status_idx" ON "Complaint"("againstAgencyId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Dispute_holdId_key" ON "Dispute"("holdId");

-- CreateIndex
CREATE INDEX "Dispute_caseId_openedAt_idx" ON "Dispute"("caseId", "openedAt");

-- CreateIndex
CREATE INDEX "Dispute_status_idx" ON "Dispute"("status");

-- CreateIndex
CREATE INDEX "Evidence_disputeId_idx" ON "Evidence"("disputeId");

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_disputeId_fkey" FOREIGN KEY ("disputeId") REFERENCES "Dispute"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactOptOut" ADD CONSTRAINT "ContactOptOut_debtorId_fkey" FOREIGN KEY ("debtorId") REFERENCES "Debtor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactOptOut" ADD CONSTRAINT "ContactOptOut_contactPointId_fkey" FOREIGN KEY ("contactPointId") REFERENCES "ContactPoint"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactOptOut" ADD CONSTRAINT "ContactOptOut_inboundMessageId_fkey" FOREIGN KEY ("inboundMessageId") REFERENCES "InboundMessage"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Complaint" ADD CONSTRAINT "Complaint_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dispute" ADD CONSTRAINT "Dispute_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dispute" ADD CONSTRAINT "Dispute_holdId_fkey" FOREIGN KEY ("holdId") REFERENCES "Hold"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The US preset closes complaints within 60 days (the CFPB's process); CN keeps 30 (15, extended for complex cases).
UPDATE "ContactPolicy" SET "complaintResolutionDays" = 60 WHERE "jurisdiction" = 'US';

-- Records of care are kept (DOMAIN.md, "Care, complaints and disputes"; retention as records of
-- collection): a debtor's reply is never changed; opt-outs, complaints and disputes change state
-- but are never removed, nor truncated.
CREATE TRIGGER "InboundMessage_append_only" BEFORE UPDATE OR DELETE ON "InboundMessage"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "ContactOptOut_kept" BEFORE DELETE ON "ContactOptOut"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Complaint_kept" BEFORE DELETE ON "Complaint"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Dispute_kept" BEFORE DELETE ON "Dispute"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "InboundMessage_no_truncate" BEFORE TRUNCATE ON "InboundMessage"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "ContactOptOut_no_truncate" BEFORE TRUNCATE ON "ContactOptOut"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Complaint_no_truncate" BEFORE TRUNCATE ON "Complaint"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Dispute_no_truncate" BEFORE TRUNCATE ON "Dispute"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
