import type { Viewer } from '../auth/viewer.ts';
import type { AuditActor } from '../modules/audit/service.ts';

/** Who performs a service call: the viewer and the request it came from (for the audit log). */
export interface Actor {
  viewer: Viewer;
  requestId: string | null;
}

export function auditActor(actor: Actor): AuditActor {
  return { userId: actor.viewer.userId, role: actor.viewer.role, agencyId: actor.viewer.agencyId, requestId: actor.requestId };
}

/** The label of an actor on a case timeline. */
export function actorLabel(actor: Actor): string {
  return actor.viewer.fullName;
}
