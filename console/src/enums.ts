// Runtime lists of the schema's enums the forms offer (the SDK's enums are type unions); each is
// checked against its type, so a renamed value fails the typecheck.
import type {
  Bucket,
  CaseStage,
  CloseReason,
  ContactChannel,
  ContactOutcome,
  DelinquencyReason,
  EvidenceKind,
  PaymentChannel,
  PlanFrequency,
  PlanKind,
  VisitDecision,
  VisitOutcome,
} from '@arrears/sdk';

export const BUCKETS = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M6_PLUS'] as const satisfies readonly Bucket[];
export const STAGES = ['EARLY_REMINDER', 'FIELD_VISIT', 'LEGAL', 'RESOLVED', 'CLOSED'] as const satisfies readonly CaseStage[];
export const CONTACT_OUTCOMES = ['ANSWERED', 'NO_ANSWER', 'PROMISE_TO_PAY', 'REFUSED', 'WRONG_NUMBER', 'DISPUTE', 'VISIT_CONSENT_GIVEN', 'VISIT_CONSENT_REFUSED', 'SENT', 'DELIVERED', 'FAILED'] as const satisfies readonly ContactOutcome[];
export const CHANNELS = ['CALL', 'SMS', 'EMAIL', 'LETTER'] as const satisfies readonly ContactChannel[];
export const PLAN_KINDS = ['INSTALMENTS', 'DEFERRAL', 'SETTLEMENT'] as const satisfies readonly PlanKind[];
export const FREQUENCIES = ['MONTHLY', 'FORTNIGHTLY', 'WEEKLY'] as const satisfies readonly PlanFrequency[];
export const PAYMENT_CHANNELS = ['BANK_TRANSFER', 'CARD', 'CASH', 'DIRECT_DEBIT', 'ONLINE', 'OTHER'] as const satisfies readonly PaymentChannel[];
export const EVIDENCE_KINDS = ['PHOTO', 'PROMISE_LETTER', 'REPAYMENT_AGREEMENT', 'NOTE', 'AUDIO', 'VIDEO', 'LETTER', 'OVERDUE_STATEMENT'] as const satisfies readonly EvidenceKind[];
export const VISIT_OUTCOMES = ['REFUSED', 'PROMISE_TO_PAY', 'PLAN_AGREED', 'NOT_AT_HOME', 'CONSENT_WITHDRAWN'] as const satisfies readonly VisitOutcome[];
export const DELINQUENCY_REASONS = ['JOB_LOSS', 'ILLNESS', 'BUSINESS_FAILURE', 'FORGOT', 'DISPUTE', 'OTHER'] as const satisfies readonly DelinquencyReason[];
export const VISIT_DECISIONS = ['CONTINUE', 'GRACE_PERIOD', 'ESCALATE_TO_LEGAL', 'CLOSE'] as const satisfies readonly VisitDecision[];
export const CLOSE_REASONS = ['PAID_IN_FULL', 'SETTLED', 'RETURNED_TO_BANK', 'WRITTEN_OFF', 'BANKRUPTCY', 'DECEASED'] as const satisfies readonly CloseReason[];

/** A stable idempotency key for one submission of a form. */
export function newKey(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** `<input type="datetime-local">` value ↔ ISO instant (the browser's time zone). */
export function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function isoOfLocalInput(v: string): string {
  return new Date(v).toISOString();
}
export function dateInputValue(d: Date): string {
  return localInputValue(d).slice(0, 10);
}
