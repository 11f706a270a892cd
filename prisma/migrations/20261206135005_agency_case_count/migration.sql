-- CreateTable
CREATE TABLE "AgencyCaseCount" (
    "agencyId" UUID NOT NULL,
    "cases" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "AgencyCaseCount_pkey" PRIMARY KEY ("agencyId")
);

-- AddForeignKey
ALTER TABLE "AgencyCaseCount" ADD CONSTRAINT "AgencyCaseCount_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Agency"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The count follows every insert, placement change and delete of a case, in its transaction.
CREATE FUNCTION arrears_agency_case_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."assignedAgencyId" IS NOT NULL THEN
    UPDATE "AgencyCaseCount" SET "cases" = "cases" - 1 WHERE "agencyId" = OLD."assignedAgencyId";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."assignedAgencyId" IS NOT NULL THEN
    INSERT INTO "AgencyCaseCount" ("agencyId", "cases") VALUES (NEW."assignedAgencyId", 1)
      ON CONFLICT ("agencyId") DO UPDATE SET "cases" = "AgencyCaseCount"."cases" + 1;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Case_agency_case_count_insert_delete" AFTER INSERT OR DELETE ON "Case"
  FOR EACH ROW EXECUTE FUNCTION arrears_agency_case_count();
CREATE TRIGGER "Case_agency_case_count_update" AFTER UPDATE OF "assignedAgencyId" ON "Case"
  FOR EACH ROW WHEN (OLD."assignedAgencyId" IS DISTINCT FROM NEW."assignedAgencyId") EXECUTE FUNCTION arrears_agency_case_count();

-- The cases placed before this migration.
INSERT INTO "AgencyCaseCount" ("agencyId", "cases")
  SELECT "assignedAgencyId", count(*)::int FROM "Case" WHERE "assignedAgencyId" IS NOT NULL GROUP BY 1;
