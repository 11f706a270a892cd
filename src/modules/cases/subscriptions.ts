import { GraphQLError } from 'graphql';
import { builder } from '../../builder.ts';
import { canSeeCase, caseEventVisibility, caseVisibility } from '../../auth/scopes.ts';
import type { CaseEvent } from '../../generated/prisma/client.ts';
import { CaseEventRef, CaseRef } from './schema.ts';
import { lastEventIdOf, setEventId } from '../../events/sse.ts';
import { unauthenticated } from '../../lib/errors.ts';
import type { Context } from '../../context.ts';

/** How often an open stream re-checks that its viewer may still sign in (deactivation, a revoked key). */
const SIGNED_IN_CHECK_MS = 5_000;

/** The viewer's account is active, and the API key it came with is neither revoked nor expired. */
async function stillSignedIn(ctx: Context): Promise<boolean> {
  const user = await ctx.prisma.user.findUnique({ where: { id: ctx.viewer.userId }, select: { active: true } });
  if (!user?.active) return false;
  if (!ctx.viewer.apiKeyId) return true;
  const key = await ctx.prisma.apiKey.findUnique({ where: { id: ctx.viewer.apiKeyId }, select: { revokedAt: true, expiresAt: true } });
  return !!key && !key.revokedAt && !(key.expiresAt && key.expiresAt <= ctx.clock.now());
}

builder.subscriptionType({});

builder.subscriptionField('caseEvents', (t) =>
  t.field({
    type: CaseEventRef,
    description:
      'Timeline events as they happen (server-sent events). Only events of cases the viewer may see at the moment of delivery: a recall ends the stream for the agency.',
    args: { caseId: t.arg.globalID({ for: [CaseRef], required: false }) },
    subscribe: (_root, args, ctx) => {
      const caseId = args.caseId?.id ?? null;
      const bus = ctx.events;
      if (!bus) throw new GraphQLError('Live events are not available on this server.', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
      // SSE Last-Event-ID (the position of the last event the client got): resume after it.
      const after = lastEventIdOf(ctx);
      return (async function* () {
        if (caseId) {
          const visible = await ctx.prisma.case.findFirst({ where: { id: caseId, ...caseVisibility(ctx.viewer) }, select: { id: true } });
          // The same answer for a case that does not exist and one the viewer may not see.
          if (!visible) throw new GraphQLError('No such case.', { extensions: { code: 'NOT_FOUND' } });
        }
        let checkedAt = 0;
        for await (const message of bus.stream({ after, caseId })) {
          // A deactivated user's (or revoked key's) open stream ends at its next event: checked
          // at most every few seconds, not for every event.
          if (Date.now() - checkedAt >= SIGNED_IN_CHECK_MS) {
            if (!(await stillSignedIn(ctx))) throw unauthenticated('Signed out: the account was deactivated or the key revoked.');
            checkedAt = Date.now();
          }
          // Access is decided at delivery, from the database as it is now, not as it was at subscription.
          const c = await ctx.prisma.case.findUnique({
            where: { id: message.caseId },
            select: { assignedAgencyId: true, assignedCollectorId: true },
          });
          if (!c || !canSeeCase(ctx.viewer, c)) {
            if (caseId) return; // the case is gone for this viewer: the stream ends
            continue;
          }
          const event = await ctx.prisma.caseEvent.findFirst({ where: { id: message.eventId, AND: [caseEventVisibility(ctx.viewer)] } });
          if (!event) continue;
          setEventId(ctx, message.position); // the SSE id of what is yielded now
          yield event;
        }
      })();
    },
    resolve: (event: CaseEvent) => event,
  }),
);
