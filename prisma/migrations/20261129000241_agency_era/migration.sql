-- AlterTable
ALTER TABLE "ContactAttempt" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Evidence" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Hold" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "PromiseToPay" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Reminder" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "RepaymentPlan" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "Visit" ADD COLUMN     "agencyId" UUID;

-- AlterTable
ALTER TABLE "VisitConsent" ADD COLUMN     "agencyId" UUID;
