-- CreateIndex
CREATE INDEX "Reminder_providerMessageId_idx" ON "Reminder"("providerMessageId");
