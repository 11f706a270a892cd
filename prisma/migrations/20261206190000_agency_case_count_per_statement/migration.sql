-- AgencyCaseCount is kept per statement, not per row. A row trigger updated the agency's counter
-- row once for each case: a statement placing 800,000 cases updated two rows 800,000 times in one
-- transaction, and each update had to walk the versions the earlier ones left (none can be pruned
-- while the transaction runs): quadratic, 40 minutes and more for the bench book's placements.
-- Statement triggers read the statement's transition tables and write one delta per agency.
DROP TRIGGER "Case_agency_case_count_insert_delete" ON "Case";
DROP TRIGGER "Case_agency_case_count_update" ON "Case";
DROP FUNCTION arrears_agency_case_count();

-- The rows a statement changed (new_rows, old_rows: whichever the event has) as one delta per agency.
CREATE FUNCTION arrears_agency_case_count_apply(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "AgencyCaseCount" ("agencyId", "cases")
    SELECT (d.key)::uuid, (d.value)::int FROM jsonb_each_text(deltas) d WHERE (d.value)::int <> 0
    ON CONFLICT ("agencyId") DO UPDATE SET "cases" = "AgencyCaseCount"."cases" + EXCLUDED."cases";
END;
$$;

CREATE FUNCTION arrears_agency_case_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arrears_agency_case_count_apply(COALESCE((
    SELECT jsonb_object_agg(a, n) FROM (SELECT "assignedAgencyId"::text AS a, COUNT(*) AS n FROM new_rows WHERE "assignedAgencyId" IS NOT NULL GROUP BY 1) x), '{}'));
  RETURN NULL;
END;
$$;

CREATE FUNCTION arrears_agency_case_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arrears_agency_case_count_apply(COALESCE((
    SELECT jsonb_object_agg(a, -n) FROM (SELECT "assignedAgencyId"::text AS a, COUNT(*) AS n FROM old_rows WHERE "assignedAgencyId" IS NOT NULL GROUP BY 1) x), '{}'));
  RETURN NULL;
END;
$$;

CREATE FUNCTION arrears_agency_case_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM arrears_agency_case_count_apply(COALESCE((
    SELECT jsonb_object_agg(a, n) FROM (
      SELECT a, SUM(n) AS n FROM (
        SELECT "assignedAgencyId"::text AS a, -1 AS n FROM old_rows WHERE "assignedAgencyId" IS NOT NULL
        UNION ALL
        SELECT "assignedAgencyId"::text, 1 FROM new_rows WHERE "assignedAgencyId" IS NOT NULL
      ) d GROUP BY a HAVING SUM(n) <> 0
    ) x), '{}'));
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Case_agency_case_count_insert" AFTER INSERT ON "Case"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION arrears_agency_case_count_insert();
CREATE TRIGGER "Case_agency_case_count_delete" AFTER DELETE ON "Case"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION arrears_agency_case_count_delete();
CREATE TRIGGER "Case_agency_case_count_update" AFTER UPDATE ON "Case"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION arrears_agency_case_count_update();
