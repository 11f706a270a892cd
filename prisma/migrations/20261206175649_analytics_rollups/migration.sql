-- CreateTable
CREATE TABLE "RollupRun" (
    "id" UUID NOT NULL,
    "asOf" TIMESTAMPTZ(3) NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),
    "cases" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "RollupRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PortfolioRollup" (
    "id" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "bucket" "Bucket" NOT NULL,
    "stage" "CaseStage" NOT NULL,
    "status" "CaseStatus" NOT NULL,
    "assignedAgencyId" UUID,
    "assignedCollectorId" UUID,
    "jurisdiction" "Jurisdiction" NOT NULL,
    "product" TEXT NOT NULL,
    "placementMonth" TEXT,
    "currency" CHAR(3) NOT NULL,
    "caseCount" INTEGER NOT NULL,
    "overdue" DECIMAL(38,0) NOT NULL,
    "principal" DECIMAL(38,0) NOT NULL,
    "interest" DECIMAL(38,0) NOT NULL,
    "fees" DECIMAL(38,0) NOT NULL,
    "promisedOpen" DECIMAL(38,0) NOT NULL,
    "promisedOpenOwnEra" DECIMAL(38,0) NOT NULL,

    CONSTRAINT "PortfolioRollup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PaymentRollup" (
    "id" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "bucket" "Bucket" NOT NULL,
    "stage" "CaseStage" NOT NULL,
    "status" "CaseStatus" NOT NULL,
    "assignedAgencyId" UUID,
    "assignedCollectorId" UUID,
    "jurisdiction" "Jurisdiction" NOT NULL,
    "product" TEXT NOT NULL,
    "placementMonth" TEXT,
    "currency" CHAR(3) NOT NULL,
    "amount" DECIMAL(38,0) NOT NULL,
    "amountOwnEra" DECIMAL(38,0) NOT NULL,

    CONSTRAINT "PaymentRollup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RollRateRollup" (
    "id" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "month" TEXT NOT NULL,
    "fromBucket" TEXT NOT NULL,
    "toState" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "bucket" "Bucket" NOT NULL,
    "stage" "CaseStage" NOT NULL,
    "status" "CaseStatus" NOT NULL,
    "assignedAgencyId" UUID,
    "assignedCollectorId" UUID,
    "caseCount" INTEGER NOT NULL,
    "overdueNow" DECIMAL(38,0) NOT NULL,

    CONSTRAINT "RollRateRollup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RollupRun_finishedAt_asOf_idx" ON "RollupRun"("finishedAt", "asOf");

-- CreateIndex
CREATE INDEX "PortfolioRollup_runId_idx" ON "PortfolioRollup"("runId");

-- CreateIndex
CREATE INDEX "PaymentRollup_runId_day_idx" ON "PaymentRollup"("runId", "day");

-- CreateIndex
CREATE INDEX "RollRateRollup_runId_month_idx" ON "RollRateRollup"("runId", "month");
