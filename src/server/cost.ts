import {
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  GraphQLError,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { LIMITS, tooComplex } from './limits.ts';
import { MAX_PAGE_SIZE } from '../schema.ts';

/**
 * The cost model (README, "Limits and security"), in Shopify's manner: what a field costs is
 * roughly the rows it makes the server read.
 * - a scalar or enum: 0; an object: 1 plus what is selected inside it;
 * - a connection: 2 plus `first` (or `last`; the default page size when absent) times the cost
 *   of one item (1, plus what is selected inside it, through `nodes` or `edges { node }`);
 * - another list: LIST_ITEMS times the cost of one item (such lists are short by nature:
 *   contact points, addresses, allocation lines);
 * - `nodes(ids:)`: 1 plus the number of ids times the cost of one node;
 * - a mutation: MUTATION_COST plus what its payload selects.
 * Every operation costs at least 1.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const LIST_ITEMS = 10;
export const MUTATION_COST = 10;

/**
 * graphql-query-complexity walks fragments without memoising them, so a chain of fragments that
 * spread the previous one twice would take 2^n steps. Its `maxQueryNodes` bound stops the walk
 * after that many selections, which keeps the work linear in min(document, bound): about 5 µs a
 * selection here, so at most ~10 ms. GraphiQL's introspection query walks under 300 selections
 * and the largest SDK document under 150; a document that expands past the bound is refused as
 * over the cost limit (test/server/limits.test.ts times fan-outs of 20, 30 and 40 levels).
 */
export const MAX_QUERY_NODES = 2_000;

function pageSize(args: Record<string, unknown>): number {
  const given = typeof args['first'] === 'number' ? args['first'] : typeof args['last'] === 'number' ? args['last'] : DEFAULT_PAGE_SIZE;
  // Above the page size limit the resolver refuses with BAD_USER_INPUT naming the argument.
  return Math.max(0, Math.min(MAX_PAGE_SIZE, given));
}

function estimator(schema: GraphQLSchema): ComplexityEstimator {
  const mutation = schema.getMutationType();
  const query = schema.getQueryType();
  return ({ type, field, args, childComplexity }) => {
    const named = getNamedType(field.type);
    if (mutation && type === mutation) return MUTATION_COST + childComplexity;
    if (query && type === query && field.name === 'nodes' && Array.isArray(args['ids'])) {
      const ids = (args['ids'] as unknown[]).length;
      if (ids > LIMITS.ids) throw tooComplex('ids', `nodes(ids:) takes at most ${LIMITS.ids} ids; got ${ids}.`);
      return 1 + ids * childComplexity;
    }
    if (named.name.endsWith('Connection') && !isListType(getNullableType(field.type))) return 2 + pageSize(args) * childComplexity;
    // Each item of a page is an object: 1, counted once whether it is read through `nodes` or `edges { node }`.
    if (type.name.endsWith('Connection') && (field.name === 'edges' || field.name === 'nodes')) return 1 + childComplexity;
    if (type.name.endsWith('Edge') && field.name === 'node') return childComplexity;
    if (isListType(getNullableType(field.type))) return isLeafType(named) ? 0 : 1 + LIST_ITEMS * childComplexity;
    if (isLeafType(named)) return 0;
    return 1 + childComplexity;
  };
}

const estimators = new WeakMap<GraphQLSchema, ComplexityEstimator>();

/**
 * The cost of the operation a request runs, with its variables, before anything executes.
 * Throws QUERY_TOO_COMPLEX for too many ids or a document that expands past the walk's bound;
 * returns null when the variables do not fit the operation (execution reports that).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): number | null {
  let estimate = estimators.get(schema);
  if (!estimate) estimators.set(schema, (estimate = estimator(schema)));
  try {
    const cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      ...(operationName ? { operationName } : {}),
      estimators: [estimate],
      maxQueryNodes: MAX_QUERY_NODES,
    });
    return Number.isFinite(cost) ? Math.max(1, Math.ceil(cost)) : LIMITS.cost + 1;
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions['code'] === 'QUERY_TOO_COMPLEX') throw error;
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
      throw tooComplex('cost', `The document expands to more than ${MAX_QUERY_NODES} selections: over the cost limit of ${LIMITS.cost}.`);
    }
    return null;
  }
}
