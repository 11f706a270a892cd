/**
 * bucket-history (hourly): appends a BucketHistory row for every open case whose current bucket
 * differs from its latest recorded one (or that has none yet). Append-only: it never updates or
 * deletes a row. Idempotent: a second run at the same instant finds nothing to append.
 *
 * Set-based and batched: the open cases are read a page at a time (keyset on id), each with its
 * latest history row in the same statement (a lateral join), and the page's new rows go in with
 * one INSERT. The bucket is `bucketOf(daysPastDue(dueDate, now))` itself, so it cannot drift from
 * what the API shows (days counted in the bank's zone, Asia/Shanghai).
 */
import type { Prisma } from '../generated/prisma/client.ts';
import type { Bucket } from '../generated/prisma/enums.ts';
import { bucketOf, daysPastDue } from '../lib/time.ts';
import { uuidv7 } from '../lib/ids.ts';
import { OPEN_STAGES } from '../modules/cases/write.ts';
import type { Job } from './scheduler.ts';

export const BUCKET_HISTORY_JOB = 'bucket-history';

export interface BucketHistoryOptions {
  /** Cases per page; default 1000. */
  batchSize?: number;
  everyMs?: number;
}

export function bucketHistoryJob(options: BucketHistoryOptions = {}): Job {
  const batchSize = options.batchSize ?? 1000;
  return {
    name: BUCKET_HISTORY_JOB,
    everyMs: options.everyMs ?? 60 * 60_000,
    description: 'append a bucket history row for each open case whose bucket changed (hourly)',
    async run({ prisma, clock, signal }) {
      const now = clock.now();
      let examined = 0;
      let appended = 0;
      let pages = 0;
      const entered: Partial<Record<Bucket, number>> = {};
      let cursor: string | undefined;
      for (;;) {
        if (signal.aborted) return { examined, appended, entered, pages, interrupted: true };
        const page = await prisma.case.findMany({
          where: { stage: { in: [...OPEN_STAGES] }, ...(cursor ? { id: { gt: cursor } } : {}) },
          orderBy: { id: 'asc' },
          take: batchSize,
          select: {
            id: true,
            dueDate: true,
            bucketHistory: { orderBy: [{ enteredAt: 'desc' }, { id: 'desc' }], take: 1, select: { bucket: true } },
          },
        });
        if (page.length === 0) break;
        pages++;
        examined += page.length;
        cursor = page[page.length - 1]!.id;
        const rows: Prisma.BucketHistoryCreateManyInput[] = [];
        for (const c of page) {
          const bucket: Bucket = bucketOf(daysPastDue(c.dueDate, now));
          if (c.bucketHistory[0]?.bucket === bucket) continue;
          rows.push({ id: uuidv7(now.getTime()), caseId: c.id, bucket, enteredAt: now });
          entered[bucket] = (entered[bucket] ?? 0) + 1;
        }
        if (rows.length) appended += (await prisma.bucketHistory.createMany({ data: rows })).count;
        if (page.length < batchSize) break;
      }
      return { examined, appended, entered, pages };
    },
  };
}
