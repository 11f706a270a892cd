-- Trigram indexes for search by a fragment of a name or a phone number (PostgreSQL's contrib; PGlite loads it in src/db/pglite.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- DropIndex
DROP INDEX "Case_assignedAgencyId_status_dueDate_idx";

-- DropIndex
DROP INDEX "Case_assignedCollectorId_attentionRank_dueDate_idx";

-- DropIndex
DROP INDEX "Case_assignedCollectorId_status_idx";

-- DropIndex
DROP INDEX "Case_dueDate_idx";

-- CreateIndex
CREATE INDEX "Case_dueDate_id_idx" ON "Case"("dueDate", "id");

-- CreateIndex
CREATE INDEX "Case_overdueTotal_id_idx" ON "Case"("overdueTotal", "id");

-- CreateIndex
CREATE INDEX "Case_openedAt_id_idx" ON "Case"("openedAt", "id");

-- CreateIndex
CREATE INDEX "Case_priority_dueDate_id_idx" ON "Case"("priority" DESC, "dueDate", "id");

-- CreateIndex
CREATE INDEX "Case_assignedAgencyId_dueDate_id_idx" ON "Case"("assignedAgencyId", "dueDate", "id");

-- CreateIndex
CREATE INDEX "Case_assignedAgencyId_overdueTotal_id_idx" ON "Case"("assignedAgencyId", "overdueTotal", "id");

-- CreateIndex
CREATE INDEX "Case_assignedAgencyId_openedAt_id_idx" ON "Case"("assignedAgencyId", "openedAt", "id");

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_dueDate_id_idx" ON "Case"("assignedCollectorId", "dueDate", "id");

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_overdueTotal_id_idx" ON "Case"("assignedCollectorId", "overdueTotal", "id");

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_attentionRank_dueDate_overdueTotal_idx" ON "Case"("assignedCollectorId", "attentionRank", "dueDate", "overdueTotal" DESC, "id");

-- CreateIndex
CREATE INDEX "ContactPoint_value_trgm_idx" ON "ContactPoint" USING GIN ("value" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Debtor_fullName_trgm_idx" ON "Debtor" USING GIN ("fullName" gin_trgm_ops);
