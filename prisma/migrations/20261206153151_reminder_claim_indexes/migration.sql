-- The dispatcher's claim at scale: with a backlog of 1,400,000 due reminders the claim sorted the
-- whole backlog (5 s a claim of 100). Ordered by (nextAttemptAt, id) straight from an index, and
-- the takeover of expired leases from its own index, a claim reads only the rows it takes.
-- DropIndex
DROP INDEX "Reminder_status_nextAttemptAt_idx";

-- CreateIndex
CREATE INDEX "Reminder_status_nextAttemptAt_id_idx" ON "Reminder"("status", "nextAttemptAt", "id");

-- CreateIndex
CREATE INDEX "Reminder_status_leaseUntil_idx" ON "Reminder"("status", "leaseUntil");
