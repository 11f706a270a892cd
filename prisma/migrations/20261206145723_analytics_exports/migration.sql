-- CreateEnum
CREATE TYPE "ExportKind" AS ENUM ('CASES', 'PAYMENTS', 'PROMISES', 'CONTACT_ATTEMPTS', 'VISITS', 'PORTFOLIO');

-- CreateEnum
CREATE TYPE "ExportFormat" AS ENUM ('CSV', 'XLSX');

-- CreateEnum
CREATE TYPE "ExportStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "Export" (
    "id" UUID NOT NULL,
    "kind" "ExportKind" NOT NULL,
    "format" "ExportFormat" NOT NULL,
    "status" "ExportStatus" NOT NULL DEFAULT 'PENDING',
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "bom" BOOLEAN NOT NULL DEFAULT false,
    "revealNationalIds" BOOLEAN NOT NULL DEFAULT false,
    "requestedById" UUID NOT NULL,
    "agencyId" UUID,
    "requestedAt" TIMESTAMPTZ(3) NOT NULL,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "expiresAt" TIMESTAMPTZ(3),
    "rowsTotal" INTEGER,
    "rowsWritten" INTEGER NOT NULL DEFAULT 0,
    "fileName" TEXT,
    "sizeBytes" BIGINT,
    "sha256" TEXT,
    "error" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "idempotencyKey" TEXT,
    "requestHash" TEXT,

    CONSTRAINT "Export_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Export_idempotencyKey_key" ON "Export"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Export_requestedById_requestedAt_idx" ON "Export"("requestedById", "requestedAt");

-- CreateIndex
CREATE INDEX "Export_status_requestedAt_idx" ON "Export"("status", "requestedAt");

-- CreateIndex
CREATE INDEX "ContactAttempt_attemptedAt_idx" ON "ContactAttempt"("attemptedAt");

-- CreateIndex
CREATE INDEX "Payment_receivedAt_idx" ON "Payment"("receivedAt");

-- CreateIndex
CREATE INDEX "PromiseToPay_createdAt_idx" ON "PromiseToPay"("createdAt");
