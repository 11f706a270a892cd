-- CreateEnum
CREATE TYPE "StrategyStatus" AS ENUM ('DRAFT', 'ACTIVE', 'RETIRED');

-- DropIndex
DROP INDEX "Case_assignedCollectorId_attentionRank_dueDate_overdueTotal_idx";

-- CreateTable
CREATE TABLE "Strategy" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "StrategyStatus" NOT NULL DEFAULT 'DRAFT',
    "definition" JSONB NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "activatedAt" TIMESTAMPTZ(3),
    "activatedById" UUID,
    "retiredAt" TIMESTAMPTZ(3),

    CONSTRAINT "Strategy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseStrategyAssignment" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "strategyId" UUID NOT NULL,
    "strategyName" TEXT NOT NULL,
    "segmentKey" TEXT NOT NULL,
    "arm" TEXT NOT NULL,
    "splitPoint" DOUBLE PRECISION,
    "treatment" JSONB NOT NULL,
    "matchedRule" TEXT NOT NULL,
    "assignedAt" TIMESTAMPTZ(3) NOT NULL,
    "endedAt" TIMESTAMPTZ(3),

    CONSTRAINT "CaseStrategyAssignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RiskScore" (
    "id" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "model" TEXT NOT NULL,
    "scoredOn" DATE NOT NULL,
    "importedAt" TIMESTAMPTZ(3) NOT NULL,
    "importedById" UUID,

    CONSTRAINT "RiskScore_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Strategy_status_idx" ON "Strategy"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Strategy_name_version_key" ON "Strategy"("name", "version");

-- CreateIndex
CREATE INDEX "CaseStrategyAssignment_caseId_endedAt_idx" ON "CaseStrategyAssignment"("caseId", "endedAt");

-- CreateIndex
CREATE INDEX "CaseStrategyAssignment_strategyName_segmentKey_arm_assigned_idx" ON "CaseStrategyAssignment"("strategyName", "segmentKey", "arm", "assignedAt");

-- CreateIndex
CREATE INDEX "CaseStrategyAssignment_strategyId_idx" ON "CaseStrategyAssignment"("strategyId");

-- CreateIndex
CREATE INDEX "RiskScore_accountId_scoredOn_idx" ON "RiskScore"("accountId", "scoredOn");

-- CreateIndex
CREATE UNIQUE INDEX "RiskScore_accountId_model_scoredOn_key" ON "RiskScore"("accountId", "model", "scoredOn");

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_attentionRank_priority_dueDate_ove_idx" ON "Case"("assignedCollectorId", "attentionRank", "priority" DESC, "dueDate", "overdueTotal" DESC, "id");

-- AddForeignKey
ALTER TABLE "CaseStrategyAssignment" ADD CONSTRAINT "CaseStrategyAssignment_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaseStrategyAssignment" ADD CONSTRAINT "CaseStrategyAssignment_strategyId_fkey" FOREIGN KEY ("strategyId") REFERENCES "Strategy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RiskScore" ADD CONSTRAINT "RiskScore_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "CardAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- One assignment in force per case, and one active strategy version in the whole book.
CREATE UNIQUE INDEX "CaseStrategyAssignment_current_key" ON "CaseStrategyAssignment"("caseId") WHERE "endedAt" IS NULL;
CREATE UNIQUE INDEX "Strategy_one_active_key" ON "Strategy"((true)) WHERE "status" = 'ACTIVE';
