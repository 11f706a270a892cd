import { exportsDirOf } from '../config.ts';
import { runPendingExports } from '../modules/exports/service.ts';
import type { Job } from './scheduler.ts';

export const EXPORTS_JOB = 'exports';

/**
 * Writes the exports that wait (src/modules/exports), one after the other, and deletes the files
 * of expired ones. Every 5 s: a requested export starts within seconds of the request.
 */
export function exportsJob(options: { dir?: string; everyMs?: number } = {}): Job {
  const dir = options.dir ?? exportsDirOf(process.env);
  return {
    name: EXPORTS_JOB,
    everyMs: options.everyMs ?? 5_000,
    leaseMs: 60_000,
    description: 'write the requested exports (CSV, XLSX) and delete expired export files (every 5 s)',
    run: ({ prisma, clock, pii, logger, owner, signal }) => runPendingExports({ prisma, clock, ...(pii ? { pii } : {}), logger, dir, owner, signal }),
  };
}
