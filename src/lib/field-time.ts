/**
 * Offline field work (DOMAIN.md "Care, complaints and disputes": steps on site may be recorded up
 * to 72 h after they happened; every rule is judged at the time the step happened, and both
 * times are kept). A field app without signal keeps the step with its device time (`occurredAt`)
 * and sends it later; the server keeps its own time of recording (`recordedAt`) beside it.
 */
import { DomainError } from './errors.ts';

/** How long after a step it may still be recorded: 72 hours, exactly included. */
export const OFFLINE_WINDOW_MS = 72 * 3_600_000;
/** How far a device's clock may run ahead of the server's: a step a little "in the future" is the device's drift. */
export const DEVICE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The instant a step happened: the device's `occurredAt`, or now when none was sent. Refused
 * (VALIDATION, naming the field) more than DEVICE_CLOCK_SKEW_MS ahead of the server's clock, or
 * more than OFFLINE_WINDOW_MS behind it. A time within the skew ahead counts as now: nothing is
 * recorded as having happened after it was recorded.
 */
export function stepTime(occurredAt: Date | null | undefined, now: Date, field = 'occurredAt'): Date {
  if (!occurredAt) return now;
  const ahead = occurredAt.getTime() - now.getTime();
  if (ahead > DEVICE_CLOCK_SKEW_MS) throw new DomainError('VALIDATION', `${field} is in the future (more than ${DEVICE_CLOCK_SKEW_MS / 60_000} minutes ahead of the server's clock)`, field);
  if (-ahead > OFFLINE_WINDOW_MS) throw new DomainError('VALIDATION', `${field} is more than 72 hours ago: a step is recorded within 72 hours of it`, field);
  return ahead > 0 ? now : occurredAt;
}
