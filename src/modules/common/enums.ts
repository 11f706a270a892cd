import { builder } from '../../builder.ts';
import * as E from '../../generated/prisma/enums.ts';

/** The domain's enums, one GraphQL enum each, named as in the data model. */
export const Role = builder.enumType(E.Role, { name: 'Role' });
export const AgencyStatus = builder.enumType(E.AgencyStatus, { name: 'AgencyStatus' });
export const Jurisdiction = builder.enumType(E.Jurisdiction, { name: 'Jurisdiction' });
export const Language = builder.enumType(E.Language, { name: 'Language' });
export const ContactPointKind = builder.enumType(E.ContactPointKind, { name: 'ContactPointKind' });
export const ContactParty = builder.enumType(E.ContactParty, { name: 'ContactParty' });
export const AddressKind = builder.enumType(E.AddressKind, { name: 'AddressKind' });
export const ContactSource = builder.enumType(E.ContactSource, { name: 'ContactSource' });
export const VerificationStatus = builder.enumType(E.VerificationStatus, { name: 'VerificationStatus' });
export const LetterStatus = builder.enumType(E.LetterStatus, { name: 'LetterStatus' });
export const CaseStage = builder.enumType(E.CaseStage, { name: 'CaseStage' });
export const CaseStatus = builder.enumType(E.CaseStatus, { name: 'CaseStatus' });
export const CasePriority = builder.enumType(E.CasePriority, { name: 'CasePriority' });
export const Bucket = builder.enumType(E.Bucket, {
  name: 'Bucket',
  description: 'Delinquency bucket by days past due: M1 = 1–30, M2 = 31–60, … M6 = 151–180, M6_PLUS beyond.',
});
export const CloseReason = builder.enumType(E.CloseReason, { name: 'CloseReason' });
export const PlacementKind = builder.enumType(E.PlacementKind, { name: 'PlacementKind' });
export const RecallReason = builder.enumType(E.RecallReason, { name: 'RecallReason' });
export const HoldReason = builder.enumType(E.HoldReason, { name: 'HoldReason' });
export const ContactChannel = builder.enumType(E.ContactChannel, { name: 'ContactChannel' });
export const ReminderStatus = builder.enumType(E.ReminderStatus, { name: 'ReminderStatus' });
export const ContactDirection = builder.enumType(E.ContactDirection, { name: 'ContactDirection' });
export const ContactOutcome = builder.enumType(E.ContactOutcome, { name: 'ContactOutcome' });
export const ContactAttemptStatus = builder.enumType(E.ContactAttemptStatus, { name: 'ContactAttemptStatus' });
export const VisitStatus = builder.enumType(E.VisitStatus, { name: 'VisitStatus' });
export const VisitMaterial = builder.enumType(E.VisitMaterial, { name: 'VisitMaterial' });
export const DelinquencyReason = builder.enumType(E.DelinquencyReason, { name: 'DelinquencyReason' });
export const VisitOutcome = builder.enumType(E.VisitOutcome, { name: 'VisitOutcome' });
export const VisitDecision = builder.enumType(E.VisitDecision, { name: 'VisitDecision' });
export const PlanKind = builder.enumType(E.PlanKind, { name: 'PlanKind' });
export const EvidenceKind = builder.enumType(E.EvidenceKind, { name: 'EvidenceKind' });
export const CustodyAction = builder.enumType(E.CustodyAction, { name: 'CustodyAction' });
export const PromiseStatus = builder.enumType(E.PromiseStatus, { name: 'PromiseStatus' });
export const PlanStatus = builder.enumType(E.PlanStatus, { name: 'PlanStatus' });
export const PlanFrequency = builder.enumType(E.PlanFrequency, { name: 'PlanFrequency' });
export const InstalmentStatus = builder.enumType(E.InstalmentStatus, { name: 'InstalmentStatus' });
export const PaymentChannel = builder.enumType(E.PaymentChannel, { name: 'PaymentChannel' });
export const AllocationTarget = builder.enumType(E.AllocationTarget, { name: 'AllocationTarget' });
