-- CreateEnum
CREATE TYPE "VisitDocumentKind" AS ENUM ('DOSSIER', 'OVERDUE_STATEMENT', 'NOTICE', 'REPAYMENT_AGREEMENT', 'PROMISE_LETTER');

-- CreateEnum
CREATE TYPE "SignatureMethod" AS ENUM ('IMAGE', 'STROKES', 'PHOTO');

-- CreateEnum
CREATE TYPE "SignedDocumentStatus" AS ENUM ('SIGNED', 'PENDING_APPROVAL', 'BINDING');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "EvidenceKind" ADD VALUE 'DOSSIER';
ALTER TYPE "EvidenceKind" ADD VALUE 'NOTICE';

-- CreateTable
CREATE TABLE "CardStatement" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "periodStart" DATE NOT NULL,
    "periodEnd" DATE NOT NULL,
    "statementBalance" BIGINT NOT NULL,
    "minimumDue" BIGINT NOT NULL,
    "amountPaid" BIGINT NOT NULL,
    "dueDate" DATE NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CardStatement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CardTransaction" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "postedOn" DATE NOT NULL,
    "merchantCategory" TEXT NOT NULL,
    "merchantName" TEXT,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CardTransaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VisitDocument" (
    "id" UUID NOT NULL,
    "visitId" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "kind" "VisitDocumentKind" NOT NULL,
    "language" "Language" NOT NULL,
    "jurisdiction" "Jurisdiction" NOT NULL,
    "evidenceId" UUID NOT NULL,
    "sha256" TEXT NOT NULL,
    "planId" UUID,
    "promiseId" UUID,
    "nationalIdRevealed" BOOLEAN NOT NULL DEFAULT false,
    "printedById" UUID NOT NULL,
    "printedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "VisitDocument_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VisitSignature" (
    "id" UUID NOT NULL,
    "visitId" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "documentId" UUID NOT NULL,
    "method" "SignatureMethod" NOT NULL,
    "status" "SignedDocumentStatus" NOT NULL,
    "planId" UUID,
    "promiseId" UUID,
    "signedAt" TIMESTAMPTZ(3) NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,
    "place" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "collectorId" UUID NOT NULL,
    "evidenceId" UUID NOT NULL,
    "sha256" TEXT NOT NULL,

    CONSTRAINT "VisitSignature_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CardStatement_accountId_periodEnd_key" ON "CardStatement"("accountId", "periodEnd");

-- CreateIndex
CREATE INDEX "CardTransaction_accountId_postedOn_idx" ON "CardTransaction"("accountId", "postedOn");

-- CreateIndex
CREATE UNIQUE INDEX "VisitDocument_evidenceId_key" ON "VisitDocument"("evidenceId");

-- CreateIndex
CREATE INDEX "VisitDocument_visitId_printedAt_idx" ON "VisitDocument"("visitId", "printedAt");

-- CreateIndex
CREATE UNIQUE INDEX "VisitSignature_evidenceId_key" ON "VisitSignature"("evidenceId");

-- CreateIndex
CREATE INDEX "VisitSignature_visitId_signedAt_idx" ON "VisitSignature"("visitId", "signedAt");

-- CreateIndex
CREATE INDEX "VisitSignature_documentId_idx" ON "VisitSignature"("documentId");

-- CreateIndex
CREATE INDEX "VisitSignature_planId_idx" ON "VisitSignature"("planId");

-- CreateIndex
CREATE INDEX "VisitSignature_promiseId_idx" ON "VisitSignature"("promiseId");

-- AddForeignKey
ALTER TABLE "CardStatement" ADD CONSTRAINT "CardStatement_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "CardAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CardTransaction" ADD CONSTRAINT "CardTransaction_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "CardAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitDocument" ADD CONSTRAINT "VisitDocument_visitId_fkey" FOREIGN KEY ("visitId") REFERENCES "Visit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitSignature" ADD CONSTRAINT "VisitSignature_visitId_fkey" FOREIGN KEY ("visitId") REFERENCES "Visit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitSignature" ADD CONSTRAINT "VisitSignature_documentId_fkey" FOREIGN KEY ("documentId") REFERENCES "VisitDocument"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
