-- CreateEnum
CREATE TYPE "ContactSource" AS ENUM ('DEBTOR', 'AGENCY_TRACE', 'BANK_DATA', 'PUBLIC_RECORD');

-- CreateEnum
CREATE TYPE "VerificationStatus" AS ENUM ('UNVERIFIED', 'VERIFIED', 'REJECTED');

-- CreateEnum
CREATE TYPE "LetterStatus" AS ENUM ('DISPATCHED', 'RETURNED');

-- AlterEnum
ALTER TYPE "EvidenceKind" ADD VALUE 'LETTER';

-- AlterTable
ALTER TABLE "Address" ADD COLUMN     "addedById" UUID,
ADD COLUMN     "addedOnCaseId" UUID,
ADD COLUMN     "agencyId" UUID,
ADD COLUMN     "movedAwayAt" TIMESTAMPTZ(3),
ADD COLUMN     "movedAwayNote" TEXT,
ADD COLUMN     "source" "ContactSource" NOT NULL DEFAULT 'BANK_DATA',
ADD COLUMN     "sourceNote" TEXT,
ADD COLUMN     "verification" "VerificationStatus" NOT NULL DEFAULT 'VERIFIED',
ADD COLUMN     "verifiedAt" TIMESTAMPTZ(3),
ADD COLUMN     "verifiedById" UUID;

-- AlterTable
ALTER TABLE "CaseEvent" ADD COLUMN     "recordedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "ContactAttempt" ADD COLUMN     "recordedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "ContactPoint" ADD COLUMN     "addedById" UUID,
ADD COLUMN     "addedOnCaseId" UUID,
ADD COLUMN     "agencyId" UUID,
ADD COLUMN     "source" "ContactSource" NOT NULL DEFAULT 'BANK_DATA',
ADD COLUMN     "sourceNote" TEXT,
ADD COLUMN     "verification" "VerificationStatus" NOT NULL DEFAULT 'VERIFIED',
ADD COLUMN     "verifiedAt" TIMESTAMPTZ(3),
ADD COLUMN     "verifiedById" UUID,
ADD COLUMN     "wrongNumberNote" TEXT;

-- AlterTable
ALTER TABLE "DunningRule" ADD COLUMN     "activatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "activatedById" UUID,
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "MessageTemplate" ADD COLUMN     "activatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "activatedById" UUID,
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "Visit" ADD COLUMN     "checkInRecordedAt" TIMESTAMPTZ(3),
ADD COLUMN     "completionRecordedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "MessageTemplateVersion" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "channel" "ContactChannel" NOT NULL,
    "language" "Language" NOT NULL,
    "version" INTEGER NOT NULL,
    "body" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "activatedAt" TIMESTAMPTZ(3),
    "activatedById" UUID,

    CONSTRAINT "MessageTemplateVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DunningRuleVersion" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "minDaysPastDue" INTEGER NOT NULL,
    "maxDaysPastDue" INTEGER,
    "channel" "ContactChannel" NOT NULL,
    "templateKey" TEXT NOT NULL,
    "cadenceDays" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "activatedAt" TIMESTAMPTZ(3),
    "activatedById" UUID,

    CONSTRAINT "DunningRuleVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LetterDispatch" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "addressId" UUID NOT NULL,
    "templateKey" TEXT NOT NULL,
    "templateVersion" INTEGER NOT NULL,
    "language" "Language" NOT NULL,
    "renderedText" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "deadline" DATE NOT NULL,
    "evidenceId" UUID NOT NULL,
    "sha256" TEXT NOT NULL,
    "status" "LetterStatus" NOT NULL DEFAULT 'DISPATCHED',
    "dispatchedAt" TIMESTAMPTZ(3) NOT NULL,
    "dispatchedById" UUID,
    "contactAttemptId" UUID,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,

    CONSTRAINT "LetterDispatch_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "MessageTemplateVersion_key_channel_language_version_key" ON "MessageTemplateVersion"("key", "channel", "language", "version");

-- CreateIndex
CREATE UNIQUE INDEX "DunningRuleVersion_name_version_key" ON "DunningRuleVersion"("name", "version");

-- CreateIndex
CREATE UNIQUE INDEX "LetterDispatch_evidenceId_key" ON "LetterDispatch"("evidenceId");

-- CreateIndex
CREATE UNIQUE INDEX "LetterDispatch_idempotencyKey_key" ON "LetterDispatch"("idempotencyKey");

-- CreateIndex
CREATE INDEX "LetterDispatch_caseId_dispatchedAt_idx" ON "LetterDispatch"("caseId", "dispatchedAt");

-- AddForeignKey
ALTER TABLE "LetterDispatch" ADD CONSTRAINT "LetterDispatch_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LetterDispatch" ADD CONSTRAINT "LetterDispatch_evidenceId_fkey" FOREIGN KEY ("evidenceId") REFERENCES "Evidence"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The texts and rules in force become version 1 of their history.
INSERT INTO "MessageTemplateVersion" ("id", "key", "channel", "language", "version", "body", "note", "createdAt", "activatedAt")
SELECT gen_random_uuid(), "key", "channel", "language", 1, "body", 'the text in force when versions began', "updatedAt", "updatedAt" FROM "MessageTemplate";
INSERT INTO "DunningRuleVersion" ("id", "name", "version", "minDaysPastDue", "maxDaysPastDue", "channel", "templateKey", "cadenceDays", "active", "note", "createdAt", "activatedAt")
SELECT gen_random_uuid(), "name", 1, "minDaysPastDue", "maxDaysPastDue", "channel", "templateKey", "cadenceDays", "active", 'the rule in force when versions began', "updatedAt", "updatedAt" FROM "DunningRule";
