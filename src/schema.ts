import { GraphQLError, type GraphQLSchema, assertValidSchema, isObjectType, getNamedType, lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import { guardCursors } from './modules/common/cursors.ts';
import { enforceTextLimits } from './modules/common/text-limits.ts';
import './modules/common/schema.ts';
import './modules/common/enums.ts';
import './modules/agencies/schema.ts';
import './modules/cases/schema.ts';
import './modules/cases/mutations.ts';
import './modules/cases/subscriptions.ts';
import './modules/contact/schema.ts';
import './modules/contact/mutations.ts';
import './modules/contact/versions-schema.ts';
import './modules/tracing/schema.ts';
import './modules/visits/schema.ts';
import './modules/visits/mutations.ts';
import './modules/evidence/schema.ts';
import './modules/evidence/mutations.ts';
import './modules/letters/schema.ts';
import './modules/repayment/schema.ts';
import './modules/repayment/mutations.ts';
import './modules/audit/schema.ts';
import './modules/policy/schema.ts';
import './modules/care/schema.ts';
import './modules/care/mutations.ts';
import './modules/viewer/schema.ts';
import './modules/analytics/schema.ts';
import './modules/exports/schema.ts';
import './modules/visitpack/usage-schema.ts';
import './modules/visitpack/schema.ts';
import './modules/commission/schema.ts';
import './modules/legal/schema.ts';
import './modules/strategy/schema.ts';

export const MAX_PAGE_SIZE = 100;

/**
 * API.md: `first`/`last` at most 100; above that is a validation error, not a silent cap.
 * Every connection field gets the check, whichever module defined it.
 */
function enforcePageSize(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!getNamedType(field.type).name.endsWith('Connection')) continue;
      if (!field.args.some((a) => a.name === 'first' || a.name === 'last')) continue;
      const resolve = field.resolve;
      if (!resolve) continue;
      field.resolve = (source, args, ctx, info) => {
        for (const name of ['first', 'last'] as const) {
          const v = args[name] as number | null | undefined;
          if (v != null && (v < 0 || v > MAX_PAGE_SIZE)) {
            throw new GraphQLError(`Argument "${name}" must be between 0 and ${MAX_PAGE_SIZE}, got ${v}.`, {
              extensions: { code: 'BAD_USER_INPUT', argument: name, max: MAX_PAGE_SIZE },
            });
          }
        }
        return resolve(source, args, ctx, info);
      };
    }
  }
  return schema;
}

export const schema = enforceTextLimits(enforcePageSize(guardCursors(builder.toSchema({ sortSchema: false }))));
// Fail at start-up, not on the first request.
assertValidSchema(schema);

/** The printed contract is sorted so that it diffs well. */
export function printableSchema(): GraphQLSchema {
  return lexicographicSortSchema(schema);
}
