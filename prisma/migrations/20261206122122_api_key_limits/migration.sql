-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "costMaximum" INTEGER,
ADD COLUMN     "costRestoreRate" INTEGER,
ADD COLUMN     "persistedOnly" BOOLEAN NOT NULL DEFAULT true;
