import { builder } from '../../builder.ts';
import type { Viewer } from '../../auth/viewer.ts';
import { Role } from '../common/enums.ts';
import { COUNT_CAP, WORK_QUEUE_ORDER, workQueueWhere } from '../cases/queries.ts';
import { CaseConnection } from '../cases/schema.ts';

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'Who is asking, and their work.',
  fields: (t) => ({
    user: t.prismaField({
      type: 'User',
      resolve: (query, v, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: v.userId } }),
    }),
    role: t.field({ type: Role, resolve: (v) => v.role }),
    agency: t.prismaField({
      type: 'Agency',
      nullable: true,
      resolve: (query, v, _a, ctx) => (v.agencyId ? ctx.prisma.agency.findUnique({ ...query, where: { id: v.agencyId } }) : null),
    }),
    authMethod: t.string({ description: 'JWT or API_KEY.', resolve: (v) => v.authMethod }),
    workQueue: t.prismaConnection({
      type: 'Case',
      cursor: 'id',
      description: 'Open cases assigned to me, not on hold: broken promises first, then days past due, then amount.',
      totalCount: (v, _a, ctx) => ctx.prisma.case.count({ where: workQueueWhere(v, ctx.clock.now()), take: COUNT_CAP, orderBy: WORK_QUEUE_ORDER }),
      resolve: (query, v, _a, ctx) =>
        ctx.prisma.case.findMany({ ...query, where: workQueueWhere(v, ctx.clock.now()), orderBy: WORK_QUEUE_ORDER }),
    }, CaseConnection),
  }),
});

builder.queryField('viewer', (t) => t.field({ type: ViewerRef, resolve: (_root, _args, ctx) => ctx.viewer }));
