-- AlterTable
ALTER TABLE "Case" ADD COLUMN     "attentionRank" INTEGER NOT NULL DEFAULT 1;

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_attentionRank_dueDate_idx" ON "Case"("assignedCollectorId", "attentionRank", "dueDate");
