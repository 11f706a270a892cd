-- Live events through a transactional outbox (EventOutbox, filled by a trigger on CaseEvent) and
-- the recording provider's record of what it sent, one row per idempotency key (RecordedMessage).

-- CreateTable
CREATE TABLE "EventOutbox" (
    "id" BIGSERIAL NOT NULL,
    "eventId" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "position" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "EventOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RecordedMessage" (
    "idempotencyKey" TEXT NOT NULL,
    "reminderId" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "handovers" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "RecordedMessage_pkey" PRIMARY KEY ("idempotencyKey")
);

-- CreateIndex
CREATE UNIQUE INDEX "EventOutbox_eventId_key" ON "EventOutbox"("eventId");

-- CreateIndex
CREATE UNIQUE INDEX "EventOutbox_position_key" ON "EventOutbox"("position");

-- CreateIndex
CREATE INDEX "EventOutbox_createdAt_idx" ON "EventOutbox"("createdAt");
-- The relay's two queues: rows waiting for a position (in id order), and positioned rows not yet
-- published (in position order).
CREATE INDEX "EventOutbox_unpositioned_idx" ON "EventOutbox"("id") WHERE "position" IS NULL;
CREATE INDEX "EventOutbox_unpublished_idx" ON "EventOutbox"("position") WHERE "position" IS NOT NULL AND "publishedAt" IS NULL;

-- Every timeline event enters the outbox in the transaction that writes it, whoever writes it
-- (a case write, the reminder dispatcher, an import's bulk insert): one statement-level trigger.
CREATE OR REPLACE FUNCTION arrears_outbox_case_events() RETURNS trigger AS $$
BEGIN
  INSERT INTO "EventOutbox" ("eventId", "caseId")
    SELECT n."id", n."caseId" FROM new_rows n ORDER BY n."id";
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "CaseEvent_outbox" AFTER INSERT ON "CaseEvent"
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_outbox_case_events();
