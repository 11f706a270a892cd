import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import { visibleRecords } from '../../auth/scopes.ts';
import type { Context } from '../../context.ts';

/** Page cursors (Pothos's, for an `id` cursor): base64 of `GPC:S:<uuid>`. */
const CURSOR = /^GPC:S:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

type Model = keyof typeof visibleRecords;

/**
 * A page cursor names a record, and Prisma places the page by that record whatever the filter:
 * a cursor naming a record the viewer may not see (another agency's era, a case not theirs)
 * would return the rows around it, where a cursor of a record that does not exist returns an
 * empty page. Every connection therefore treats a cursor of a record the viewer may not see (the
 * rule of `node(id)`) as one of no record at all: the same empty page, the same page info, the
 * same count.
 */
export function guardCursors(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const connection = getNamedType(field.type);
      if (!isObjectType(connection) || !connection.name.endsWith('Connection')) continue;
      if (!field.args.some((a) => a.name === 'after' || a.name === 'before')) continue;
      const nodes = connection.getFields().nodes;
      const model = nodes ? (getNamedType(nodes.type).extensions?.pothosPrismaModel as string | undefined) : undefined;
      if (!model || !(model in visibleRecords)) continue; // bank-only lists (audit, keys) need no guard
      const resolve = field.resolve;
      if (!resolve) continue;
      field.resolve = async (source, args, ctx: Context, info) => {
        const page = await resolve(source, args, ctx, info);
        for (const name of ['after', 'before'] as const) {
          const cursor = args[name] as string | null | undefined;
          if (cursor == null || page == null) continue;
          const id = CURSOR.exec(Buffer.from(cursor, 'base64').toString('utf8'))?.[1];
          if (!id) continue; // not one of ours: Pothos refused it already
          if (!(await visible(ctx, model as Model, id))) return noRecordPage(page as ConnectionPage, args);
        }
        return page;
      };
    }
  }
  return schema;
}

interface ConnectionPage {
  edges: unknown[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** What Pothos answers for a cursor of no record: no rows; a page before an `after`, after a `before`. */
function noRecordPage(page: ConnectionPage, args: { after?: unknown; before?: unknown }): ConnectionPage {
  return {
    ...page,
    edges: [],
    pageInfo: { ...page.pageInfo, startCursor: null, endCursor: null, hasNextPage: args.before != null, hasPreviousPage: args.after != null },
  };
}

async function visible(ctx: Context, model: Model, id: string): Promise<boolean> {
  const delegate = (ctx.prisma as unknown as Record<string, { count(a: object): Promise<number> }>)[model.charAt(0).toLowerCase() + model.slice(1)]!;
  return (await delegate.count({ where: { id, AND: [visibleRecords[model](ctx.viewer)] } })) > 0;
}
