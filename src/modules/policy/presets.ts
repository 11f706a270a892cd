import type { Jurisdiction } from '../../generated/prisma/enums.ts';

/** The figures of one jurisdiction's contact policy, as stored in ContactPolicy. */
export interface ContactPolicyFigures {
  jurisdiction: Jurisdiction;
  /** Minutes after local midnight in the debtor's zone. */
  contactHoursStart: number;
  contactHoursEnd: number;
  maxConnectedCallsPerDay: number | null;
  maxAttemptsPerNumberPerDay: number | null;
  maxCallAttemptsPer7Days: number | null;
  quietDaysAfterConversation: number | null;
  optOutLineRequired: boolean;
  promiseGraceDays: number;
  instalmentGraceDays: number;
  maxPromiseDays: number;
  maxDeferralDays: number;
  settlementDiscountThresholdBps: number;
  /** Days to answer a complaint, and to close it (DOMAIN.md "Care, complaints and disputes"). */
  complaintResponseDays: number;
  complaintResolutionDays: number;
  retentionYears: number;
}

/**
 * The two presets of DOMAIN.md ("Reminders"), with the source of each figure.
 * They seed the ContactPolicy rows; from then on the rows are the policy (admins change them).
 */
export const POLICY_PRESETS: Record<Jurisdiction, ContactPolicyFigures> = {
  CN: {
    jurisdiction: 'CN',
    // GB/T 45251-2025; China Banking Association collection guideline (2026): none 22:00–08:00.
    contactHoursStart: 8 * 60,
    contactHoursEnd: 22 * 60,
    // GB/T 45251-2025: at most 3 connected calls per debtor per day.
    maxConnectedCallsPerDay: 3,
    // China Banking Association guideline: at most 6 attempts to one unanswered number per day.
    maxAttemptsPerNumberPerDay: 6,
    maxCallAttemptsPer7Days: null,
    quietDaysAfterConversation: null,
    optOutLineRequired: false,
    promiseGraceDays: 3,
    instalmentGraceDays: 5,
    maxPromiseDays: 30,
    maxDeferralDays: 90,
    settlementDiscountThresholdBps: 2000,
    // The 2020 rules on banks' consumer complaint handling: answered within 15 days, 30 for complex cases.
    complaintResponseDays: 15,
    complaintResolutionDays: 30,
    // 2011 credit-card measures: records of collection kept 2 years (the 2018 convention asks 5; the longer applies).
    retentionYears: 5,
  },
  US: {
    jurisdiction: 'US',
    // Regulation F 12 CFR 1006.6(b)(1)(i): 8 a.m. to 9 p.m. local time.
    contactHoursStart: 8 * 60,
    contactHoursEnd: 21 * 60,
    maxConnectedCallsPerDay: null,
    maxAttemptsPerNumberPerDay: null,
    // Regulation F 1006.14(b)(2): 7 call attempts per debt in 7 days; none for 7 days after a conversation.
    maxCallAttemptsPer7Days: 7,
    quietDaysAfterConversation: 7,
    // Regulation F 1006.6(e): electronic messages carry an opt-out notice.
    optOutLineRequired: true,
    promiseGraceDays: 3,
    instalmentGraceDays: 5,
    maxPromiseDays: 30,
    maxDeferralDays: 90,
    settlementDiscountThresholdBps: 2000,
    // The CFPB's complaint process: a first response within 15 days, closed within 60.
    complaintResponseDays: 15,
    complaintResolutionDays: 60,
    retentionYears: 3,
  },
};
