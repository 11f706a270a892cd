import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';

/**
 * The static limits of a GraphQL document, checked before anything runs (README, "Limits and
 * security"). The figures leave every operation of the SDK room (test/server/limits.test.ts
 * checks each one against them).
 */
export const LIMITS = {
  /** Nesting of fields, fragments flattened (the deepest SDK document is 9). */
  depth: 12,
  /** Aliased fields in an operation, fragments expanded. */
  aliases: 30,
  /** Lexical tokens in a document (the largest SDK document has about 600). */
  tokens: 3_000,
  /** Directives in an operation, fragments expanded. */
  directives: 30,
  /** Cost points of one operation (src/server/cost.ts): GraphiQL's introspection costs about 15,000, the largest SDK operation at 100 a page about 1,100. */
  cost: 20_000,
  /** Ids in one `nodes(ids:)`. */
  ids: 100,
} as const;

export type LimitName = keyof typeof LIMITS;

/** The error of a document over a static limit: refused before any resolver runs. */
export function tooComplex(limit: LimitName, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', limit, max: LIMITS[limit] } });
}

/**
 * GraphQL Armor's rules, each reporting our coded error. Each is linear in the document: the
 * depth, alias and directive rules memoise a fragment's figure on its first visit, so a chain of
 * fragments that each spread the previous one twice costs one visit per fragment (proved by
 * test/server/limits.test.ts with 20, 30 and 40 levels). The token limit counts while parsing
 * and stops the parser at the limit.
 */
const report =
  (limit: LimitName, what: string) =>
  (context: ValidationContext | null, error: GraphQLError): void => {
    const found = /found (\d+)/.exec(error.message)?.[1];
    const coded = tooComplex(limit, `The document has ${found ?? 'more'} ${what}; the limit is ${LIMITS[limit]}.`);
    if (context) context.reportError(coded);
    else throw coded; // the token limit stops the parser here
  };

/** The validation rules of the limits (also run by bench/validation.ts). */
export function limitRules(): ValidationRule[] {
  return [
    maxDepthRule({
      n: LIMITS.depth,
      flattenFragments: true,
      // Introspection is bounded by the schema (and by the cost), and GraphiQL's own query is 14 deep.
      ignoreIntrospection: true,
      onReject: [report('depth', 'levels of nesting')],
      propagateOnRejection: false,
    }),
    maxAliasesRule({ n: LIMITS.aliases, onReject: [report('aliases', 'aliases')], propagateOnRejection: false }),
    maxDirectivesRule({ n: LIMITS.directives, onReject: [report('directives', 'directives')], propagateOnRejection: false }),
  ] as unknown as ValidationRule[];
}

export function armorPlugins(): Plugin[] {
  const rules = limitRules();
  return [
    maxTokensPlugin({ n: LIMITS.tokens, onReject: [report('tokens', 'tokens')], propagateOnRejection: false }) as Plugin,
    { onValidate: ({ addValidationRule }) => rules.forEach((rule) => addValidationRule(rule)) } as Plugin,
  ];
}
