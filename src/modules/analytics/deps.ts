import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../lib/time.ts';
import type { CaseSearchDeps } from '../cases/queries.ts';

/** What the analytics services need: the store, the clock, and the case list's search. */
export interface AnalyticsDeps {
  prisma: PrismaClient;
  clock: Clock;
  search: CaseSearchDeps & { prisma: Pick<PrismaClient, 'case' | 'debtor' | 'contactPoint'> };
}
