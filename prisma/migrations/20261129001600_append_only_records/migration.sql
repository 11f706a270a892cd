-- Append-only records (DOMAIN.md): the audit log, case timelines, bucket history and the chain of
-- custody are never changed or removed; evidence is immutable (a correction supersedes); records
-- of collection (contact attempts, visits, evidence, payments) are never deleted by the
-- application. The database itself refuses, whoever asks. A retention purge after the legal
-- period is a supervised maintenance procedure that lifts these triggers for its transaction.

CREATE OR REPLACE FUNCTION arrears_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'arrears: % on "%" is refused: the record is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "CaseEvent_append_only" BEFORE UPDATE OR DELETE ON "CaseEvent"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "BucketHistory_append_only" BEFORE UPDATE OR DELETE ON "BucketHistory"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "EvidenceCustody_append_only" BEFORE UPDATE OR DELETE ON "EvidenceCustody"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Evidence_immutable" BEFORE UPDATE OR DELETE ON "Evidence"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "ContactAttempt_kept" BEFORE DELETE ON "ContactAttempt"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Visit_kept" BEFORE DELETE ON "Visit"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "Payment_kept" BEFORE DELETE ON "Payment"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
CREATE TRIGGER "PaymentAllocation_kept" BEFORE DELETE ON "PaymentAllocation"
  FOR EACH ROW EXECUTE FUNCTION arrears_refuse_change();
