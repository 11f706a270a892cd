// Every root field of the API (Query, Mutation, Subscription in schema/schema.graphql) has an
// operation in operations/*.graphql: `npx tsx sdk/scripts/check-coverage.ts` (also run by
// test/sdk/coverage.test.ts in CI). Exits 1 and lists the fields that have none.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, buildSchema, parse, type DefinitionNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface CoverageReport {
  /** `Type.field` of every root field of the schema. */
  rootFields: string[];
  /** `Type.field` → the operations that select it. */
  covered: Map<string, string[]>;
  /** Root fields no operation selects, e.g. `Mutation.scheduleReminder`. */
  missing: string[];
}

export function checkCoverage(
  options: { schemaFile?: string; operationsDir?: string } = {},
): CoverageReport {
  const schemaFile = options.schemaFile ?? path.join(sdkDir, '..', 'schema', 'schema.graphql');
  const operationsDir = options.operationsDir ?? path.join(sdkDir, 'operations');
  const schema = buildSchema(fs.readFileSync(schemaFile, 'utf8'));

  const definitions: DefinitionNode[] = [];
  for (const file of fs.readdirSync(operationsDir).filter((f) => f.endsWith('.graphql')).sort()) {
    definitions.push(...parse(fs.readFileSync(path.join(operationsDir, file), 'utf8')).definitions);
  }
  const fragments = new Map(
    definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );

  const rootFields: string[] = [];
  const covered = new Map<string, string[]>();
  const roots = { query: schema.getQueryType(), mutation: schema.getMutationType(), subscription: schema.getSubscriptionType() };
  for (const type of Object.values(roots)) {
    for (const name of Object.keys(type?.getFields() ?? {})) rootFields.push(`${type!.name}.${name}`);
  }

  /** The root fields selected by a selection set, through fragments (cycles cut). */
  const selected = (set: SelectionSetNode, seen: Set<string> = new Set()): string[] =>
    set.selections.flatMap((s) => {
      if (s.kind === Kind.FIELD) return s.name.value.startsWith('__') ? [] : [s.name.value];
      if (s.kind === Kind.INLINE_FRAGMENT) return selected(s.selectionSet, seen);
      const fragment = fragments.get(s.name.value);
      if (!fragment || seen.has(s.name.value)) return [];
      return selected(fragment.selectionSet, new Set([...seen, s.name.value]));
    });

  for (const definition of definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root = roots[definition.operation];
    if (!root) continue;
    for (const field of selected(definition.selectionSet)) {
      const key = `${root.name}.${field}`;
      covered.set(key, [...(covered.get(key) ?? []), definition.name?.value ?? '(anonymous)']);
    }
  }
  return { rootFields, covered, missing: rootFields.filter((f) => !covered.has(f)) };
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const report = checkCoverage();
  if (report.missing.length > 0) {
    console.error(
      `${report.missing.length} of ${report.rootFields.length} root fields of schema/schema.graphql have no operation in sdk/operations/*.graphql:\n` +
        report.missing.map((f) => `  - ${f}`).join('\n') +
        '\nWrite one (sdk/operations/<domain>.graphql), then run `npm run sdk:generate`.',
    );
    process.exit(1);
  }
  console.log(`SDK coverage: all ${report.rootFields.length} root fields have an operation.`);
}
