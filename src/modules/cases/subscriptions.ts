import { GraphQLError } from 'graphql';
import { builder } from '../../builder.ts';
import { agencyEra, canSeeCase, caseVisibility } from '../../auth/scopes.ts';
import type { CaseEvent } from '../../generated/prisma/client.ts';
import { CaseEventRef, CaseRef } from './schema.ts';
import { lastEventIdOf, setEventId } from '../../events/sse.ts';

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
        for await (const message of bus.stream({ after, caseId })) {
          // Access is decided at delivery, from the database as it is now, not as it was at subscription.
          const c = await ctx.prisma.case.findUnique({
            where: { id: message.caseId },
            select: { assignedAgencyId: true, assignedCollectorId: true },
          });
          if (!c || !canSeeCase(ctx.viewer, c)) {
            if (caseId) return; // the case is gone for this viewer: the stream ends
            continue;
          }
          const event = await ctx.prisma.caseEvent.findFirst({ where: { id: message.eventId, ...agencyEra(ctx.viewer) } });
          if (!event) continue;
          setEventId(ctx, message.position); // the SSE id of what is yielded now
          yield event;
        }
      })();
    },
    resolve: (event: CaseEvent) => event,
  }),
);
