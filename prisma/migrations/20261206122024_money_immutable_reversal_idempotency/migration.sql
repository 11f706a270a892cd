-- AlterTable
ALTER TABLE "Evidence" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "requestHash" TEXT;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "effects" JSONB;

-- AlterTable
ALTER TABLE "PaymentAllocation" ADD COLUMN     "reversalId" UUID;

-- AlterTable
ALTER TABLE "PromiseToPay" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "requestHash" TEXT;

-- AlterTable
ALTER TABLE "Visit" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "requestHash" TEXT;

-- CreateTable
CREATE TABLE "PaymentReversal" (
    "id" UUID NOT NULL,
    "paymentId" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "agencyId" UUID,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "reversedById" UUID,
    "requestId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PaymentReversal_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PaymentReversal_paymentId_key" ON "PaymentReversal"("paymentId");

-- CreateIndex
CREATE INDEX "PaymentReversal_caseId_createdAt_idx" ON "PaymentReversal"("caseId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Evidence_idempotencyKey_key" ON "Evidence"("idempotencyKey");

-- CreateIndex
CREATE INDEX "PaymentAllocation_reversalId_idx" ON "PaymentAllocation"("reversalId");

-- CreateIndex
CREATE UNIQUE INDEX "PromiseToPay_idempotencyKey_key" ON "PromiseToPay"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "Visit_idempotencyKey_key" ON "Visit"("idempotencyKey");

-- AddForeignKey
ALTER TABLE "PaymentReversal" ADD CONSTRAINT "PaymentReversal_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentReversal" ADD CONSTRAINT "PaymentReversal_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentAllocation" ADD CONSTRAINT "PaymentAllocation_reversalId_fkey" FOREIGN KEY ("reversalId") REFERENCES "PaymentReversal"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Money is immutable (issue 11, point 8): a payment and its allocation lines are never changed
-- nor removed, whoever asks; a wrong payment is undone by a reversal, itself append-only, whose
-- negative lines are new rows. (DELETE was already refused on payments and allocations.)
CREATE TRIGGER "Payment_immutable" BEFORE UPDATE ON "Payment"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "PaymentAllocation_immutable" BEFORE UPDATE ON "PaymentAllocation"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "PaymentReversal_append_only" BEFORE UPDATE OR DELETE ON "PaymentReversal"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();

-- TRUNCATE fires no row trigger: every append-only (or kept) table refuses it by a statement
-- trigger, including when a TRUNCATE ... CASCADE of another table would reach it.
CREATE TRIGGER "AuditEvent_no_truncate" BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "CaseEvent_no_truncate" BEFORE TRUNCATE ON "CaseEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "BucketHistory_no_truncate" BEFORE TRUNCATE ON "BucketHistory"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "EvidenceCustody_no_truncate" BEFORE TRUNCATE ON "EvidenceCustody"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Evidence_no_truncate" BEFORE TRUNCATE ON "Evidence"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "ContactAttempt_no_truncate" BEFORE TRUNCATE ON "ContactAttempt"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Visit_no_truncate" BEFORE TRUNCATE ON "Visit"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Payment_no_truncate" BEFORE TRUNCATE ON "Payment"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "PaymentAllocation_no_truncate" BEFORE TRUNCATE ON "PaymentAllocation"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "PaymentReversal_no_truncate" BEFORE TRUNCATE ON "PaymentReversal"
  FOR EACH STATEMENT EXECUTE FUNCTION arrears_refuse_change();
