-- CreateTable
CREATE TABLE "ActivityRollup" (
    "id" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "assignedAgencyId" UUID,
    "assignedCollectorId" UUID,
    "agencyId" UUID,
    "whoId" UUID,
    "placedCollectorId" UUID,
    "placedAgencyId" UUID,
    "channel" TEXT,
    "rule" TEXT,
    "jurisdiction" TEXT,
    "status" TEXT,
    "label" TEXT,
    "connected" BOOLEAN NOT NULL DEFAULT false,
    "violation" BOOLEAN NOT NULL DEFAULT false,
    "currency" CHAR(3),
    "n" INTEGER NOT NULL,
    "amount" DECIMAL(38,0) NOT NULL DEFAULT 0,
    "amount2" DECIMAL(38,0) NOT NULL DEFAULT 0,
    "days" DECIMAL NOT NULL DEFAULT 0,

    CONSTRAINT "ActivityRollup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ActivityRollup_runId_kind_day_idx" ON "ActivityRollup"("runId", "kind", "day");
