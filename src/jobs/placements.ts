/**
 * placement-expiry (every 15 minutes): a placement past its agreed end (`endsAt ≤ now`, not yet
 * ended) is recalled as the system, through `recallCase`: the placement ends with
 * END_OF_PLACEMENT, the case leaves the agency (and collector), the timeline and the audit log
 * say so, all in one transaction per case.
 *
 * A failure on one case is recorded in the run's detail and does not stop the others. Each case
 * is re-read just before its recall and recalled at the version read: a case changed meanwhile
 * (reassigned, say) is left for the next run rather than recalled from its new placement.
 * Ended cases (RESOLVED, CLOSED) take no writes and are not looked at.
 */
import { BANK_TIME_ZONE, localDate } from '../lib/time.ts';
import { DomainError } from '../lib/errors.ts';
import { recallCase } from '../modules/cases/lifecycle.ts';
import { OPEN_STAGES } from '../modules/cases/write.ts';
import type { Job } from './scheduler.ts';

export const PLACEMENT_EXPIRY_JOB = 'placement-expiry';

/** At most this many failures are listed in a run's detail (all are counted and logged). */
const MAX_LISTED_FAILURES = 50;

export interface PlacementExpiryOptions {
  /** Placements read per page; default 500. */
  batchSize?: number;
  everyMs?: number;
  /** The recall itself; a test may wrap it. */
  recall?: typeof recallCase;
}

export function placementExpiryJob(options: PlacementExpiryOptions = {}): Job {
  const batchSize = options.batchSize ?? 500;
  const recall = options.recall ?? recallCase;
  return {
    name: PLACEMENT_EXPIRY_JOB,
    everyMs: options.everyMs ?? 15 * 60_000,
    description: 'recall the cases whose placement is past its end date (every 15 minutes)',
    async run({ prisma, clock, logger, signal }) {
      const now = clock.now();
      let due = 0;
      let recalled = 0;
      let changed = 0;
      let failed = 0;
      const failures: { caseId: string; placementId: string; error: string }[] = [];
      const where = { endedAt: null, endsAt: { lte: now }, case: { stage: { in: [...OPEN_STAGES] } } };
      let cursor: string | undefined;
      for (;;) {
        if (signal.aborted) return { due, recalled, changed, failed, failures, interrupted: true };
        const page = await prisma.placement.findMany({
          where: { ...where, ...(cursor ? { id: { gt: cursor } } : {}) },
          orderBy: { id: 'asc' },
          take: batchSize,
          select: { id: true, caseId: true },
        });
        if (page.length === 0) break;
        cursor = page[page.length - 1]!.id;
        for (const p of page) {
          if (signal.aborted) return { due, recalled, changed, failed, failures, interrupted: true };
          due++;
          try {
            // Still open, still past its end, and the case's version now: recall at that version.
            const fresh = await prisma.placement.findFirst({ where: { id: p.id, ...where }, select: { endsAt: true, case: { select: { version: true } } } });
            if (!fresh) {
              changed++;
              continue;
            }
            const note = `placement ended ${localDate(fresh.endsAt!, BANK_TIME_ZONE)}`;
            await recall(
              { prisma, clock },
              null,
              { caseId: p.caseId, reason: 'END_OF_PLACEMENT', note, expectedVersion: fresh.case.version },
              { system: true },
            );
            recalled++;
            logger.info({ caseId: p.caseId, placementId: p.id }, 'placement expired: case recalled');
          } catch (err) {
            if (err instanceof DomainError && err.code === 'STALE_VERSION') {
              changed++; // written to meanwhile: the next run looks again
              continue;
            }
            failed++;
            const error = err instanceof DomainError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
            if (failures.length < MAX_LISTED_FAILURES) failures.push({ caseId: p.caseId, placementId: p.id, error });
            logger.warn({ err, caseId: p.caseId, placementId: p.id }, 'placement expiry: recall failed');
          }
        }
        if (page.length < batchSize) break;
      }
      return { due, recalled, changed, failed, failures };
    },
  };
}
