import type { PrismaClient } from './generated/prisma/client.ts';
import type { Clock } from './lib/time.ts';
import type { Pii } from './lib/pii.ts';
import type { Viewer } from './auth/viewer.ts';
import { authScopeMap } from './auth/scopes.ts';
import type { Logger } from './lib/logger.ts';
import type { EventBus } from './events/bus.ts';
import type { EvidenceSettings } from './modules/evidence/service.ts';

/** What lives as long as the process: the store, the clock, the keys. */
export interface AppDeps {
  prisma: PrismaClient;
  clock: Clock;
  pii: Pii;
  logger: Logger;
  /** Live case events: written events are published after their transaction commits. */
  events?: EventBus;
  /** Evidence files: the blob store, the size limit, the download-link key, the public URL. */
  evidence?: EvidenceSettings;
}

/** One request's context: who asks, and the app's pieces. Resolvers get nothing else. */
export interface Context extends AppDeps {
  requestId: string;
  viewer: Viewer;
  authScopes(): ReturnType<typeof authScopeMap>;
}

export function createContext(deps: AppDeps, viewer: Viewer, requestId: string): Context {
  const scopes = authScopeMap(viewer);
  return {
    ...deps,
    requestId,
    viewer,
    logger: deps.logger.child({ requestId, userId: viewer.userId }),
    authScopes: () => scopes,
  };
}
