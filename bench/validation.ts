/**
 * What the gate in front of every document costs (issue 10, "Validation linear in the document"):
 * parsing with the token limit, graphql-js validation with GraphQL Armor's depth, alias and
 * directive rules, and the cost walk, for the heaviest SDK document, GraphiQL's introspection
 * query and the hostile fan-outs (each fragment spreading the previous one twice) of 20, 30 and
 * 40 levels, with and without an alias in the innermost fragment.
 *
 *   npx tsx bench/validation.ts            # medians of 50 runs each
 *   npx tsx bench/validation.ts --runs 200
 *
 * Prints one row per document: its size, tokens, the median and the worst time of each stage in
 * microseconds, and what the gate answered. Nothing here touches a database.
 */
import { parse, validate, specifiedRules, getIntrospectionQuery, Kind, type DocumentNode, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import { schema } from '../src/schema.ts';
import { LIMITS, limitRules } from '../src/server/limits.ts';
import { operationCost } from '../src/server/cost.ts';
import persistedDocuments from '../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { sampleVariables } from '../test/support/sample-variables.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;

const rules: ValidationRule[] = [...specifiedRules, ...limitRules()];

function fanOut(levels: number, leaf = 'user { id }'): string {
  const parts = [`fragment F0 on Viewer { ${leaf} }`];
  for (let i = 1; i <= levels; i++) parts.push(`fragment F${i} on Viewer { ...F${i - 1} ...F${i - 1} }`);
  return `query { viewer { ...F${levels} } }\n${parts.join('\n')}`;
}

/** The tokens of a document: the least token limit it parses under (a binary search). */
function countTokens(text: string): number {
  const ok = (max: number) => {
    try {
      parse(text, { maxTokens: max });
      return true;
    } catch {
      return false;
    }
  };
  let hi = 1;
  while (!ok(hi)) hi *= 2;
  let lo = Math.floor(hi / 2) + 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface Row {
  name: string;
  bytes: number;
  tokens: number;
  parse: number[];
  validate: number[];
  cost: number[];
  answer: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(name: string, text: string, variables: (doc: DocumentNode) => Record<string, unknown>): Row {
  const row: Row = { name, bytes: text.length, tokens: countTokens(text), parse: [], validate: [], cost: [], answer: '' };
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const doc = parse(text, { maxTokens: LIMITS.tokens });
    row.parse.push((performance.now() - t) * 1000);
    t = performance.now();
    const errors = validate(schema, doc, rules);
    row.validate.push((performance.now() - t) * 1000);
    t = performance.now();
    let answer: string;
    if (errors.length) {
      answer = `refused (${String(errors[0]!.extensions['limit'] ?? errors[0]!.extensions['code'] ?? 'invalid')}): ${errors[0]!.message.slice(0, 50)}`;
    } else {
      try {
        const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
        answer = `cost ${operationCost(schema, doc, variables(doc), op.name?.value)}`;
      } catch (e) {
        answer = `refused (cost): ${(e as Error).message.slice(0, 50)}`;
      }
    }
    row.cost.push((performance.now() - t) * 1000);
    row.answer = answer;
  }
  return row;
}

const rows: Row[] = [];
const sdkDocs = Object.values(persistedDocuments as Record<string, string>);
const firstOp = (doc: DocumentNode) => doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
// The heaviest SDK document: the one with the most tokens.
const heaviest = sdkDocs.map((text) => ({ text, tokens: countTokens(text) })).sort((a, b) => b.tokens - a.tokens)[0]!;
rows.push(measure(`SDK ${firstOp(parse(heaviest.text)).name?.value} (first: 100)`, heaviest.text, (doc) => sampleVariables(schema, firstOp(doc))));
rows.push(measure('GraphiQL introspection', getIntrospectionQuery(), () => ({})));
for (const levels of [20, 30, 40]) {
  rows.push(measure(`fan-out ${levels} levels`, fanOut(levels), () => ({})));
  rows.push(measure(`fan-out ${levels} levels, aliased`, fanOut(levels, 'a: user { id }'), () => ({})));
}

const us = (xs: number[]) => `${Math.round(median(xs))} / ${Math.round(Math.max(...xs))}`;
console.log(`\nValidation gate, ${RUNS} runs each (µs: median / worst), Node ${process.version}\n`);
console.log('| document | bytes | tokens | parse | validate | cost | answer |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.bytes} | ${r.tokens} | ${us(r.parse)} | ${us(r.validate)} | ${us(r.cost)} | ${r.answer} |`);
}
