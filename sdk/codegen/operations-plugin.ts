// A graphql-codegen plugin of the SDK: writes src/generated/operations.ts, the client's method
// table, from operations/*.graphql. Each operation becomes a method named after it
// (`query CaseByNumber` → `client.caseByNumber`); subscriptions go to `client.subscribe`; an
// operation that pages one connection with its `$after` variable gets `client.paginate.<name>`,
// with the path of that connection in its result.
import {
  Kind,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

interface DocumentFile {
  document?: DocumentNode;
  location?: string;
}

interface Found {
  method: string;
  operation: OperationDefinitionNode;
  location: string;
}

const lowerFirst = (name: string): string => name[0]!.toLowerCase() + name.slice(1);

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** The response keys under which `set` selects fields, fragments flattened. */
function selectedFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, into = new Map<string, SelectionSetNode | undefined>()) {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) into.set(selection.alias?.value ?? selection.name.value, selection.selectionSet);
    else if (selection.kind === Kind.INLINE_FRAGMENT) selectedFields(selection.selectionSet, fragments, into);
    else {
      const fragment = fragments.get(selection.name.value);
      if (fragment) selectedFields(fragment.selectionSet, fragments, into);
    }
  }
  return into;
}

/**
 * The paths (response keys) of the connections that the operation pages with its `$after`
 * variable: fields whose type has `pageInfo` and whose `after` argument is `$after`, not under a list.
 */
export function connectionPaths(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): string[][] {
  const found: string[][] = [];
  const root = schema.getRootType(operation.operation);
  if (!root) return found;
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, path: string[], seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field || !selection.selectionSet) continue;
        const type = getNamedType(field.type);
        if (!isCompositeType(type) || isList(field.type)) continue; // a connection per list item is not one connection
        const key = selection.alias?.value ?? selection.name.value;
        const after = selection.arguments?.find((a) => a.name.value === 'after');
        const pagesWithAfter = after?.value.kind === Kind.VARIABLE && after.value.name.value === 'after';
        if (pagesWithAfter && isObjectType(type) && type.getFields()['pageInfo']) {
          const pageInfo = selectedFields(selection.selectionSet, fragments).get('pageInfo');
          const inner = pageInfo ? selectedFields(pageInfo, fragments) : new Map();
          if (!inner.has('hasNextPage') || !inner.has('endCursor')) {
            throw new Error(`${operation.name?.value}: pages ${[...path, key].join('.')} with $after but does not select pageInfo { hasNextPage endCursor }`);
          }
          found.push([...path, key]);
          continue;
        }
        walk(selection.selectionSet, type, [...path, key], seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) walk(selection.selectionSet, type, path, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        if (type && isCompositeType(type)) walk(fragment.selectionSet, type, path, new Set([...seen, name]));
      }
    }
  };
  walk(operation.selectionSet, root, [], new Set());
  return found;
}

const HEADER = `// The client's method table: one entry per operation of operations/*.graphql.
`;

export const operationsPlugin = {
  plugin(schema: GraphQLSchema, documents: DocumentFile[]): string {
    const fragments = new Map<string, FragmentDefinitionNode>();
    const operations: Found[] = [];
    for (const file of documents) {
      for (const definition of file.document?.definitions ?? []) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
        if (definition.kind === Kind.OPERATION_DEFINITION) {
          if (!definition.name) throw new Error(`${file.location}: every operation needs a name (it names the client's method)`);
          operations.push({ method: lowerFirst(definition.name.value), operation: definition, location: file.location ?? '' });
        }
      }
    }
    operations.sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
    const methods = new Map<string, Found>();
    for (const found of operations) {
      const clash = methods.get(found.method);
      if (clash) throw new Error(`Two operations make the method "${found.method}": ${clash.location} and ${found.location}`);
      methods.set(found.method, found);
    }

    const documentName = (found: Found) => `${found.operation.name!.value}Document`;
    const entry = (found: Found) => `  ${found.method}: ${documentName(found)},`;
    const requests = operations.filter((o) => o.operation.operation !== 'subscription');
    const subscriptions = operations.filter((o) => o.operation.operation === 'subscription');
    const paged: string[] = [];
    for (const found of requests) {
      const paths = connectionPaths(schema, found.operation, fragments);
      if (paths.length > 1) {
        throw new Error(`${found.operation.name!.value}: $after pages ${paths.length} connections (${paths.map((p) => p.join('.')).join(', ')}); page one per operation`);
      }
      if (paths.length === 1) paged.push(`  ${found.method}: [${paths[0]!.map((k) => `'${k}'`).join(', ')}],`);
    }

    return [
      HEADER,
      `import {\n${operations.map((o) => `  ${documentName(o)},`).join('\n')}\n} from './graphql.ts';`,
      '',
      '/** Queries and mutations: `client.<name>(variables, options)`. */',
      `export const operations = {\n${requests.map(entry).join('\n')}\n} as const;`,
      '',
      '/** Subscriptions (server-sent events): `client.subscribe.<name>(variables, options)`. */',
      `export const subscriptions = {\n${subscriptions.map(entry).join('\n')}\n} as const;`,
      '',
      '/** Operations that page one connection with their `$after` variable, and where it is in the result: `client.paginate.<name>(variables)`. */',
      `export const connections = {\n${paged.join('\n')}\n} as const;`,
      '',
    ].join('\n');
  },
};
