-- CreateEnum
CREATE TYPE "Role" AS ENUM ('BANK_ADMIN', 'BANK_SUPERVISOR', 'BANK_COLLECTOR', 'AGENCY_MANAGER', 'AGENCY_COLLECTOR', 'AUDITOR');

-- CreateEnum
CREATE TYPE "AgencyStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- CreateEnum
CREATE TYPE "Jurisdiction" AS ENUM ('CN', 'US');

-- CreateEnum
CREATE TYPE "Language" AS ENUM ('ZH_CN', 'EN');

-- CreateEnum
CREATE TYPE "ContactPointKind" AS ENUM ('MOBILE', 'HOME_PHONE', 'WORK_PHONE', 'EMAIL');

-- CreateEnum
CREATE TYPE "ContactParty" AS ENUM ('DEBTOR', 'THIRD_PARTY');

-- CreateEnum
CREATE TYPE "AddressKind" AS ENUM ('HOME', 'WORK', 'MAILING');

-- CreateEnum
CREATE TYPE "CaseStage" AS ENUM ('EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL', 'RESOLVED', 'CLOSED');

-- CreateEnum
CREATE TYPE "CaseStatus" AS ENUM ('OPEN', 'PROMISED', 'BROKEN_PROMISE', 'PAID', 'WRITTEN_OFF');

-- CreateEnum
CREATE TYPE "CasePriority" AS ENUM ('LOW', 'NORMAL', 'HIGH', 'URGENT');

-- CreateEnum
CREATE TYPE "Bucket" AS ENUM ('M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS');

-- CreateEnum
CREATE TYPE "CloseReason" AS ENUM ('PAID_IN_FULL', 'SETTLED', 'WRITTEN_OFF', 'RETURNED_TO_BANK', 'DECEASED', 'BANKRUPTCY');

-- CreateEnum
CREATE TYPE "PlacementKind" AS ENUM ('AGENCY', 'BANK');

-- CreateEnum
CREATE TYPE "RecallReason" AS ENUM ('AGENCY_REQUEST', 'PERFORMANCE', 'COMPLAINT', 'DISPUTE', 'PAID', 'END_OF_PLACEMENT', 'OTHER');

-- CreateEnum
CREATE TYPE "HoldReason" AS ENUM ('DISPUTE', 'HARDSHIP', 'LEGAL', 'DECEASED', 'GRACE_PERIOD', 'OTHER');

-- CreateEnum
CREATE TYPE "ContactChannel" AS ENUM ('SMS', 'CALL', 'EMAIL', 'LETTER');

-- CreateEnum
CREATE TYPE "ReminderStatus" AS ENUM ('SCHEDULED', 'SENDING', 'SENT', 'DELIVERED', 'FAILED', 'BLOCKED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "ContactDirection" AS ENUM ('OUTBOUND', 'INBOUND');

-- CreateEnum
CREATE TYPE "ContactOutcome" AS ENUM ('NO_ANSWER', 'ANSWERED', 'PROMISE_TO_PAY', 'REFUSED', 'WRONG_NUMBER', 'DISPUTE', 'VISIT_CONSENT_GIVEN', 'VISIT_CONSENT_REFUSED', 'SENT', 'DELIVERED', 'FAILED');

-- CreateEnum
CREATE TYPE "ContactAttemptStatus" AS ENUM ('COMPLETED', 'BLOCKED');

-- CreateEnum
CREATE TYPE "VisitStatus" AS ENUM ('PREPARING', 'SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DECIDED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "VisitMaterial" AS ENUM ('OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT', 'NOTICE_LETTER');

-- CreateEnum
CREATE TYPE "DelinquencyReason" AS ENUM ('JOB_LOSS', 'ILLNESS', 'BUSINESS_FAILURE', 'DISPUTE', 'FORGOT', 'OTHER');

-- CreateEnum
CREATE TYPE "VisitOutcome" AS ENUM ('PROMISE_TO_PAY', 'PLAN_AGREED', 'REFUSED', 'NOT_AT_HOME', 'CONSENT_WITHDRAWN');

-- CreateEnum
CREATE TYPE "VisitDecision" AS ENUM ('CONTINUE', 'GRACE_PERIOD', 'ESCALATE_TO_LEGAL', 'CLOSE');

-- CreateEnum
CREATE TYPE "PlanKind" AS ENUM ('INSTALMENTS', 'DEFERRAL', 'SETTLEMENT');

-- CreateEnum
CREATE TYPE "EvidenceKind" AS ENUM ('PROMISE_LETTER', 'OVERDUE_STATEMENT', 'REPAYMENT_AGREEMENT', 'PHOTO', 'AUDIO', 'VIDEO', 'NOTE');

-- CreateEnum
CREATE TYPE "CustodyAction" AS ENUM ('UPLOADED', 'SUPERSEDED', 'DOWNLOADED', 'TAMPER_DETECTED');

-- CreateEnum
CREATE TYPE "PromiseStatus" AS ENUM ('OPEN', 'KEPT', 'PARTIAL', 'BROKEN', 'CANCELLED');

-- CreateEnum
CREATE TYPE "PlanStatus" AS ENUM ('PROPOSED', 'APPROVED', 'REJECTED', 'ACTIVE', 'COMPLETED', 'BROKEN', 'CANCELLED');

-- CreateEnum
CREATE TYPE "PlanFrequency" AS ENUM ('WEEKLY', 'FORTNIGHTLY', 'MONTHLY');

-- CreateEnum
CREATE TYPE "InstalmentStatus" AS ENUM ('DUE', 'PARTIAL', 'PAID', 'MISSED');

-- CreateEnum
CREATE TYPE "PaymentChannel" AS ENUM ('BANK_TRANSFER', 'CARD', 'CASH', 'ONLINE', 'DIRECT_DEBIT', 'OTHER');

-- CreateEnum
CREATE TYPE "AllocationTarget" AS ENUM ('PROMISE', 'INSTALMENT', 'BALANCE', 'CREDIT');

-- CreateTable
CREATE TABLE "Agency" (
    "id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "licenseNumber" TEXT NOT NULL,
    "status" "AgencyStatus" NOT NULL DEFAULT 'ACTIVE',
    "dataProcessingContractRef" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Agency_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AgencyInspection" (
    "id" UUID NOT NULL,
    "agencyId" UUID NOT NULL,
    "inspectedOn" DATE NOT NULL,
    "inspector" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "findings" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AgencyInspection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "fullName" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "agencyId" UUID,
    "credentialNumber" TEXT,
    "credentialExpiresOn" DATE,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "issuedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Debtor" (
    "id" UUID NOT NULL,
    "externalRef" TEXT NOT NULL,
    "fullName" TEXT NOT NULL,
    "nationalIdCiphertext" BYTEA NOT NULL,
    "nationalIdBlindIndex" TEXT NOT NULL,
    "nationalIdMasked" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    "jurisdiction" "Jurisdiction" NOT NULL DEFAULT 'CN',
    "language" "Language" NOT NULL DEFAULT 'ZH_CN',
    "ceaseContact" BOOLEAN NOT NULL DEFAULT false,
    "ceaseContactAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Debtor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactPoint" (
    "id" UUID NOT NULL,
    "debtorId" UUID NOT NULL,
    "kind" "ContactPointKind" NOT NULL,
    "party" "ContactParty" NOT NULL DEFAULT 'DEBTOR',
    "relation" TEXT,
    "value" TEXT NOT NULL,
    "primary" BOOLEAN NOT NULL DEFAULT false,
    "doNotContact" BOOLEAN NOT NULL DEFAULT false,
    "doNotContactAt" TIMESTAMPTZ(3),
    "doNotContactReason" TEXT,
    "wrongNumberAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ContactPoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Address" (
    "id" UUID NOT NULL,
    "debtorId" UUID NOT NULL,
    "kind" "AddressKind" NOT NULL,
    "line1" TEXT NOT NULL,
    "line2" TEXT,
    "city" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "postalCode" TEXT,
    "country" TEXT NOT NULL DEFAULT 'CN',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Address_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CardAccount" (
    "id" UUID NOT NULL,
    "externalRef" TEXT NOT NULL,
    "debtorId" UUID NOT NULL,
    "cardLast4" TEXT NOT NULL,
    "product" TEXT NOT NULL,
    "creditLimit" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "openedOn" DATE,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CardAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Case" (
    "id" UUID NOT NULL,
    "caseNo" SERIAL NOT NULL,
    "accountId" UUID NOT NULL,
    "debtorId" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "principal" BIGINT NOT NULL,
    "interest" BIGINT NOT NULL,
    "fees" BIGINT NOT NULL,
    "overdueTotal" BIGINT NOT NULL,
    "credit" BIGINT NOT NULL DEFAULT 0,
    "dueDate" DATE NOT NULL,
    "stage" "CaseStage" NOT NULL DEFAULT 'EARLY_REMINDER',
    "status" "CaseStatus" NOT NULL DEFAULT 'OPEN',
    "priority" "CasePriority" NOT NULL DEFAULT 'NORMAL',
    "assignedAgencyId" UUID,
    "assignedCollectorId" UUID,
    "version" INTEGER NOT NULL DEFAULT 1,
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMPTZ(3),
    "closeReason" "CloseReason",
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Case_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Placement" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "kind" "PlacementKind" NOT NULL,
    "agencyId" UUID,
    "collectorId" UUID,
    "startsAt" TIMESTAMPTZ(3) NOT NULL,
    "endsAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "recallReason" "RecallReason",
    "recallNote" TEXT,
    "assignedById" UUID,
    "endedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Placement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseEvent" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "actorId" UUID,
    "actorLabel" TEXT NOT NULL,
    "agencyId" UUID,
    "occurredAt" TIMESTAMPTZ(3) NOT NULL,
    "summary" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "requestId" TEXT,

    CONSTRAINT "CaseEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BucketHistory" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "bucket" "Bucket" NOT NULL,
    "enteredAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BucketHistory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Hold" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "reason" "HoldReason" NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "startsAt" TIMESTAMPTZ(3) NOT NULL,
    "endsAt" TIMESTAMPTZ(3),
    "placedById" UUID,
    "releasedAt" TIMESTAMPTZ(3),
    "releasedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Hold_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Reminder" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "contactPointId" UUID NOT NULL,
    "channel" "ContactChannel" NOT NULL,
    "templateKey" TEXT,
    "language" "Language" NOT NULL,
    "scheduledAt" TIMESTAMPTZ(3) NOT NULL,
    "status" "ReminderStatus" NOT NULL DEFAULT 'SCHEDULED',
    "idempotencyKey" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "renderedMessage" TEXT,
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "dunningRuleId" UUID,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL,
    "lastError" TEXT,
    "blockedRule" TEXT,
    "providerMessageId" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "sentAt" TIMESTAMPTZ(3),
    "deliveredAt" TIMESTAMPTZ(3),
    "cancelledAt" TIMESTAMPTZ(3),
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Reminder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactAttempt" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "debtorId" UUID NOT NULL,
    "contactPointId" UUID,
    "channel" "ContactChannel" NOT NULL,
    "direction" "ContactDirection" NOT NULL DEFAULT 'OUTBOUND',
    "attemptedAt" TIMESTAMPTZ(3) NOT NULL,
    "status" "ContactAttemptStatus" NOT NULL DEFAULT 'COMPLETED',
    "outcome" "ContactOutcome",
    "connected" BOOLEAN NOT NULL DEFAULT false,
    "rule" TEXT,
    "violation" BOOLEAN NOT NULL DEFAULT false,
    "notes" TEXT NOT NULL DEFAULT '',
    "recordingEvidenceId" UUID,
    "reminderId" UUID,
    "actorId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ContactAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VisitConsent" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "contactAttemptId" UUID NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "windowEnd" TIMESTAMPTZ(3) NOT NULL,
    "recordedById" UUID,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,
    "withdrawnAt" TIMESTAMPTZ(3),

    CONSTRAINT "VisitConsent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactPolicy" (
    "id" UUID NOT NULL,
    "jurisdiction" "Jurisdiction" NOT NULL,
    "contactHoursStart" INTEGER NOT NULL,
    "contactHoursEnd" INTEGER NOT NULL,
    "maxConnectedCallsPerDay" INTEGER,
    "maxAttemptsPerNumberPerDay" INTEGER,
    "maxCallAttemptsPer7Days" INTEGER,
    "quietDaysAfterConversation" INTEGER,
    "optOutLineRequired" BOOLEAN NOT NULL,
    "promiseGraceDays" INTEGER NOT NULL DEFAULT 3,
    "instalmentGraceDays" INTEGER NOT NULL DEFAULT 5,
    "maxPromiseDays" INTEGER NOT NULL DEFAULT 30,
    "maxDeferralDays" INTEGER NOT NULL DEFAULT 90,
    "settlementDiscountThresholdBps" INTEGER NOT NULL DEFAULT 2000,
    "retentionYears" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedById" UUID,

    CONSTRAINT "ContactPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MessageTemplate" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "channel" "ContactChannel" NOT NULL,
    "language" "Language" NOT NULL,
    "body" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MessageTemplate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DunningRule" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "minDaysPastDue" INTEGER NOT NULL,
    "maxDaysPastDue" INTEGER,
    "channel" "ContactChannel" NOT NULL,
    "templateKey" TEXT NOT NULL,
    "cadenceDays" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "DunningRule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Visit" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "addressId" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "status" "VisitStatus" NOT NULL DEFAULT 'PREPARING',
    "dossier" JSONB NOT NULL,
    "consentId" UUID,
    "windowStart" TIMESTAMPTZ(3),
    "windowEnd" TIMESTAMPTZ(3),
    "materials" "VisitMaterial"[],
    "checkedInAt" TIMESTAMPTZ(3),
    "delinquencyReason" "DelinquencyReason",
    "delinquencyReasonText" TEXT,
    "consequencesExplained" BOOLEAN,
    "plansOffered" "PlanKind"[],
    "outcome" "VisitOutcome",
    "completedAt" TIMESTAMPTZ(3),
    "report" TEXT,
    "reportedAt" TIMESTAMPTZ(3),
    "reportedById" UUID,
    "decision" "VisitDecision",
    "graceUntil" DATE,
    "decisionNote" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "decidedById" UUID,
    "cancelReason" TEXT,
    "cancelledAt" TIMESTAMPTZ(3),
    "plannedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "Visit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VisitParticipant" (
    "id" UUID NOT NULL,
    "visitId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "credentialNumber" TEXT NOT NULL,
    "credentialExpiresOn" DATE NOT NULL,
    "credentialShownAt" TIMESTAMPTZ(3),
    "credentialShownNumber" TEXT,

    CONSTRAINT "VisitParticipant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Evidence" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "visitId" UUID,
    "kind" "EvidenceKind" NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "contentType" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "capturedAt" TIMESTAMPTZ(3),
    "uploadedById" UUID,
    "uploadedAt" TIMESTAMPTZ(3) NOT NULL,
    "supersedesId" UUID,

    CONSTRAINT "Evidence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EvidenceCustody" (
    "id" UUID NOT NULL,
    "evidenceId" UUID NOT NULL,
    "action" "CustodyAction" NOT NULL,
    "actorId" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "requestId" TEXT,
    "detail" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "EvidenceCustody_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PromiseToPay" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "promisedFor" DATE NOT NULL,
    "paidAmount" BIGINT NOT NULL DEFAULT 0,
    "status" "PromiseStatus" NOT NULL DEFAULT 'OPEN',
    "capturedById" UUID,
    "contactAttemptId" UUID,
    "visitId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "settledAt" TIMESTAMPTZ(3),

    CONSTRAINT "PromiseToPay_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RepaymentPlan" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "kind" "PlanKind" NOT NULL,
    "status" "PlanStatus" NOT NULL DEFAULT 'PROPOSED',
    "currency" CHAR(3) NOT NULL,
    "totalAmount" BIGINT NOT NULL,
    "discountAmount" BIGINT NOT NULL DEFAULT 0,
    "paidAmount" BIGINT NOT NULL DEFAULT 0,
    "instalmentCount" INTEGER NOT NULL,
    "frequency" "PlanFrequency",
    "firstDueDate" DATE NOT NULL,
    "proposedById" UUID,
    "proposedAt" TIMESTAMPTZ(3) NOT NULL,
    "decidedById" UUID,
    "decidedAt" TIMESTAMPTZ(3),
    "decisionNote" TEXT,
    "activatedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "brokenAt" TIMESTAMPTZ(3),
    "cancelledAt" TIMESTAMPTZ(3),
    "cancelReason" TEXT,

    CONSTRAINT "RepaymentPlan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Instalment" (
    "id" UUID NOT NULL,
    "planId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "dueDate" DATE NOT NULL,
    "amount" BIGINT NOT NULL,
    "paidAmount" BIGINT NOT NULL DEFAULT 0,
    "status" "InstalmentStatus" NOT NULL DEFAULT 'DUE',
    "paidAt" TIMESTAMPTZ(3),

    CONSTRAINT "Instalment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Payment" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "channel" "PaymentChannel" NOT NULL,
    "externalReference" TEXT,
    "idempotencyKey" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "creditAmount" BIGINT NOT NULL DEFAULT 0,
    "recordedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PaymentAllocation" (
    "id" UUID NOT NULL,
    "paymentId" UUID NOT NULL,
    "target" "AllocationTarget" NOT NULL,
    "promiseId" UUID,
    "instalmentId" UUID,
    "amount" BIGINT NOT NULL,

    CONSTRAINT "PaymentAllocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "actorId" UUID,
    "actorRole" "Role",
    "agencyId" UUID,
    "action" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" TEXT,
    "caseId" UUID,
    "requestId" TEXT,
    "reason" TEXT,
    "data" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobLease" (
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "leaseUntil" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "JobLease_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "JobRun" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "JobRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Agency_code_key" ON "Agency"("code");

-- CreateIndex
CREATE INDEX "AgencyInspection_agencyId_inspectedOn_idx" ON "AgencyInspection"("agencyId", "inspectedOn");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "User_agencyId_role_idx" ON "User"("agencyId", "role");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "ApiKey_userId_idx" ON "ApiKey"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Debtor_externalRef_key" ON "Debtor"("externalRef");

-- CreateIndex
CREATE INDEX "Debtor_nationalIdBlindIndex_idx" ON "Debtor"("nationalIdBlindIndex");

-- CreateIndex
CREATE INDEX "Debtor_fullName_idx" ON "Debtor"("fullName");

-- CreateIndex
CREATE INDEX "ContactPoint_debtorId_idx" ON "ContactPoint"("debtorId");

-- CreateIndex
CREATE INDEX "ContactPoint_value_idx" ON "ContactPoint"("value");

-- CreateIndex
CREATE INDEX "Address_debtorId_idx" ON "Address"("debtorId");

-- CreateIndex
CREATE UNIQUE INDEX "CardAccount_externalRef_key" ON "CardAccount"("externalRef");

-- CreateIndex
CREATE INDEX "CardAccount_debtorId_idx" ON "CardAccount"("debtorId");

-- CreateIndex
CREATE UNIQUE INDEX "Case_caseNo_key" ON "Case"("caseNo");

-- CreateIndex
CREATE INDEX "Case_assignedAgencyId_status_dueDate_idx" ON "Case"("assignedAgencyId", "status", "dueDate");

-- CreateIndex
CREATE INDEX "Case_assignedCollectorId_status_idx" ON "Case"("assignedCollectorId", "status");

-- CreateIndex
CREATE INDEX "Case_debtorId_idx" ON "Case"("debtorId");

-- CreateIndex
CREATE INDEX "Case_stage_dueDate_idx" ON "Case"("stage", "dueDate");

-- CreateIndex
CREATE INDEX "Case_dueDate_idx" ON "Case"("dueDate");

-- CreateIndex
CREATE UNIQUE INDEX "Case_accountId_dueDate_key" ON "Case"("accountId", "dueDate");

-- CreateIndex
CREATE INDEX "Placement_caseId_startsAt_idx" ON "Placement"("caseId", "startsAt");

-- CreateIndex
CREATE INDEX "Placement_agencyId_endedAt_idx" ON "Placement"("agencyId", "endedAt");

-- CreateIndex
CREATE INDEX "Placement_endedAt_endsAt_idx" ON "Placement"("endedAt", "endsAt");

-- CreateIndex
CREATE INDEX "CaseEvent_caseId_occurredAt_idx" ON "CaseEvent"("caseId", "occurredAt");

-- CreateIndex
CREATE INDEX "CaseEvent_caseId_agencyId_occurredAt_idx" ON "CaseEvent"("caseId", "agencyId", "occurredAt");

-- CreateIndex
CREATE INDEX "BucketHistory_caseId_enteredAt_idx" ON "BucketHistory"("caseId", "enteredAt");

-- CreateIndex
CREATE INDEX "Hold_caseId_releasedAt_idx" ON "Hold"("caseId", "releasedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Reminder_idempotencyKey_key" ON "Reminder"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Reminder_caseId_scheduledAt_idx" ON "Reminder"("caseId", "scheduledAt");

-- CreateIndex
CREATE INDEX "Reminder_status_nextAttemptAt_idx" ON "Reminder"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Reminder_contactPointId_scheduledAt_idx" ON "Reminder"("contactPointId", "scheduledAt");

-- CreateIndex
CREATE INDEX "ContactAttempt_debtorId_attemptedAt_idx" ON "ContactAttempt"("debtorId", "attemptedAt");

-- CreateIndex
CREATE INDEX "ContactAttempt_contactPointId_attemptedAt_idx" ON "ContactAttempt"("contactPointId", "attemptedAt");

-- CreateIndex
CREATE INDEX "ContactAttempt_caseId_attemptedAt_idx" ON "ContactAttempt"("caseId", "attemptedAt");

-- CreateIndex
CREATE INDEX "VisitConsent_caseId_windowStart_idx" ON "VisitConsent"("caseId", "windowStart");

-- CreateIndex
CREATE UNIQUE INDEX "ContactPolicy_jurisdiction_key" ON "ContactPolicy"("jurisdiction");

-- CreateIndex
CREATE UNIQUE INDEX "MessageTemplate_key_channel_language_key" ON "MessageTemplate"("key", "channel", "language");

-- CreateIndex
CREATE UNIQUE INDEX "DunningRule_name_key" ON "DunningRule"("name");

-- CreateIndex
CREATE INDEX "Visit_caseId_createdAt_idx" ON "Visit"("caseId", "createdAt");

-- CreateIndex
CREATE INDEX "Visit_status_windowStart_idx" ON "Visit"("status", "windowStart");

-- CreateIndex
CREATE INDEX "VisitParticipant_userId_idx" ON "VisitParticipant"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "VisitParticipant_visitId_userId_key" ON "VisitParticipant"("visitId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "Evidence_supersedesId_key" ON "Evidence"("supersedesId");

-- CreateIndex
CREATE INDEX "Evidence_caseId_uploadedAt_idx" ON "Evidence"("caseId", "uploadedAt");

-- CreateIndex
CREATE INDEX "Evidence_visitId_idx" ON "Evidence"("visitId");

-- CreateIndex
CREATE INDEX "Evidence_sha256_idx" ON "Evidence"("sha256");

-- CreateIndex
CREATE INDEX "EvidenceCustody_evidenceId_at_idx" ON "EvidenceCustody"("evidenceId", "at");

-- CreateIndex
CREATE INDEX "PromiseToPay_caseId_createdAt_idx" ON "PromiseToPay"("caseId", "createdAt");

-- CreateIndex
CREATE INDEX "PromiseToPay_status_promisedFor_idx" ON "PromiseToPay"("status", "promisedFor");

-- CreateIndex
CREATE INDEX "RepaymentPlan_caseId_proposedAt_idx" ON "RepaymentPlan"("caseId", "proposedAt");

-- CreateIndex
CREATE INDEX "RepaymentPlan_status_idx" ON "RepaymentPlan"("status");

-- CreateIndex
CREATE INDEX "Instalment_status_dueDate_idx" ON "Instalment"("status", "dueDate");

-- CreateIndex
CREATE UNIQUE INDEX "Instalment_planId_seq_key" ON "Instalment"("planId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "Payment_idempotencyKey_key" ON "Payment"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Payment_caseId_receivedAt_idx" ON "Payment"("caseId", "receivedAt");

-- CreateIndex
CREATE INDEX "PaymentAllocation_paymentId_idx" ON "PaymentAllocation"("paymentId");

-- CreateIndex
CREATE INDEX "PaymentAllocation_promiseId_idx" ON "PaymentAllocation"("promiseId");

-- CreateIndex
CREATE INDEX "PaymentAllocation_instalmentId_idx" ON "PaymentAllocation"("instalmentId");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_actorId_at_idx" ON "AuditEvent"("actorId", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_caseId_at_idx" ON "AuditEvent"("caseId", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_action_at_idx" ON "AuditEvent"("action", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_agencyId_at_idx" ON "AuditEvent"("agencyId", "at");

-- CreateIndex
CREATE INDEX "JobRun_name_startedAt_idx" ON "JobRun"("name", "startedAt");

-- AddForeignKey
ALTER TABLE "AgencyInspection" ADD CONSTRAINT "AgencyInspection_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Agency"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Agency"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_issuedById_fkey" FOREIGN KEY ("issuedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactPoint" ADD CONSTRAINT "ContactPoint_debtorId_fkey" FOREIGN KEY ("debtorId") REFERENCES "Debtor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Address" ADD CONSTRAINT "Address_debtorId_fkey" FOREIGN KEY ("debtorId") REFERENCES "Debtor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CardAccount" ADD CONSTRAINT "CardAccount_debtorId_fkey" FOREIGN KEY ("debtorId") REFERENCES "Debtor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Case" ADD CONSTRAINT "Case_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "CardAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Case" ADD CONSTRAINT "Case_debtorId_fkey" FOREIGN KEY ("debtorId") REFERENCES "Debtor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Case" ADD CONSTRAINT "Case_assignedAgencyId_fkey" FOREIGN KEY ("assignedAgencyId") REFERENCES "Agency"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Case" ADD CONSTRAINT "Case_assignedCollectorId_fkey" FOREIGN KEY ("assignedCollectorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Placement" ADD CONSTRAINT "Placement_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Placement" ADD CONSTRAINT "Placement_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Agency"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Placement" ADD CONSTRAINT "Placement_collectorId_fkey" FOREIGN KEY ("collectorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaseEvent" ADD CONSTRAINT "CaseEvent_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BucketHistory" ADD CONSTRAINT "BucketHistory_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Hold" ADD CONSTRAINT "Hold_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Reminder" ADD CONSTRAINT "Reminder_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Reminder" ADD CONSTRAINT "Reminder_contactPointId_fkey" FOREIGN KEY ("contactPointId") REFERENCES "ContactPoint"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactAttempt" ADD CONSTRAINT "ContactAttempt_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactAttempt" ADD CONSTRAINT "ContactAttempt_contactPointId_fkey" FOREIGN KEY ("contactPointId") REFERENCES "ContactPoint"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitConsent" ADD CONSTRAINT "VisitConsent_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitConsent" ADD CONSTRAINT "VisitConsent_contactAttemptId_fkey" FOREIGN KEY ("contactAttemptId") REFERENCES "ContactAttempt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_addressId_fkey" FOREIGN KEY ("addressId") REFERENCES "Address"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_consentId_fkey" FOREIGN KEY ("consentId") REFERENCES "VisitConsent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitParticipant" ADD CONSTRAINT "VisitParticipant_visitId_fkey" FOREIGN KEY ("visitId") REFERENCES "Visit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VisitParticipant" ADD CONSTRAINT "VisitParticipant_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_visitId_fkey" FOREIGN KEY ("visitId") REFERENCES "Visit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evidence" ADD CONSTRAINT "Evidence_supersedesId_fkey" FOREIGN KEY ("supersedesId") REFERENCES "Evidence"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvidenceCustody" ADD CONSTRAINT "EvidenceCustody_evidenceId_fkey" FOREIGN KEY ("evidenceId") REFERENCES "Evidence"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PromiseToPay" ADD CONSTRAINT "PromiseToPay_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PromiseToPay" ADD CONSTRAINT "PromiseToPay_contactAttemptId_fkey" FOREIGN KEY ("contactAttemptId") REFERENCES "ContactAttempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PromiseToPay" ADD CONSTRAINT "PromiseToPay_visitId_fkey" FOREIGN KEY ("visitId") REFERENCES "Visit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RepaymentPlan" ADD CONSTRAINT "RepaymentPlan_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instalment" ADD CONSTRAINT "Instalment_planId_fkey" FOREIGN KEY ("planId") REFERENCES "RepaymentPlan"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payment" ADD CONSTRAINT "Payment_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "Case"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentAllocation" ADD CONSTRAINT "PaymentAllocation_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentAllocation" ADD CONSTRAINT "PaymentAllocation_promiseId_fkey" FOREIGN KEY ("promiseId") REFERENCES "PromiseToPay"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentAllocation" ADD CONSTRAINT "PaymentAllocation_instalmentId_fkey" FOREIGN KEY ("instalmentId") REFERENCES "Instalment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
