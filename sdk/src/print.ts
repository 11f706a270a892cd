// Prints an executable GraphQL document (operations and fragments) from its AST, so that the
// client accepts a TypedDocumentNode without shipping graphql-js to browsers and apps. The
// types are structural: a graphql-js DocumentNode fits them, and nothing here imports graphql.

interface Name {
  readonly value: string;
}

interface NamedType {
  readonly kind: string; // 'NamedType'
  readonly name: Name;
}

type TypeNode = NamedType | { readonly kind: string; readonly type: TypeNode };

interface ValueNode {
  readonly kind: string;
  readonly name?: Name;
  readonly value?: string | boolean;
  readonly values?: readonly ValueNode[];
  readonly fields?: ReadonlyArray<{ readonly name: Name; readonly value: ValueNode }>;
}

interface Argument {
  readonly name: Name;
  readonly value: ValueNode;
}

interface Directive {
  readonly name: Name;
  readonly arguments?: readonly Argument[];
}

interface Selection {
  readonly kind: string; // 'Field' | 'FragmentSpread' | 'InlineFragment'
  readonly alias?: Name;
  readonly name?: Name;
  readonly arguments?: readonly Argument[];
  readonly typeCondition?: NamedType;
  readonly directives?: readonly Directive[];
  readonly selectionSet?: SelectionSet;
}

interface SelectionSet {
  readonly selections: readonly Selection[];
}

interface VariableDefinition {
  readonly variable: { readonly name: Name };
  readonly type: TypeNode;
  readonly defaultValue?: ValueNode;
  readonly directives?: readonly Directive[];
}

export interface DefinitionNode {
  readonly kind: string; // 'OperationDefinition' | 'FragmentDefinition' (others are refused)
  readonly operation?: string;
  readonly name?: Name;
  readonly variableDefinitions?: readonly VariableDefinition[];
  readonly typeCondition?: NamedType;
  readonly directives?: readonly Directive[];
  readonly selectionSet?: SelectionSet;
}

/** A parsed GraphQL document, as graphql-js and graphql-codegen (documentMode 'documentNode') make it. */
export interface DocumentNodeLike {
  readonly kind: string; // 'Document'
  readonly definitions: readonly DefinitionNode[];
}

const join = (parts: ReadonlyArray<string | undefined>, separator = ' '): string => parts.filter((p) => p).join(separator);

function printValue(node: ValueNode): string {
  switch (node.kind) {
    case 'Variable':
      return `$${node.name!.value}`;
    case 'IntValue':
    case 'FloatValue':
    case 'EnumValue':
      return String(node.value);
    case 'StringValue':
      // A JSON string is a valid GraphQL string (block strings included, once decoded by the parser).
      return JSON.stringify(node.value);
    case 'BooleanValue':
      return node.value ? 'true' : 'false';
    case 'NullValue':
      return 'null';
    case 'ListValue':
      return `[${(node.values ?? []).map(printValue).join(', ')}]`;
    case 'ObjectValue':
      return `{${(node.fields ?? []).map((f) => `${f.name.value}: ${printValue(f.value)}`).join(', ')}}`;
    default:
      throw new TypeError(`Cannot print a GraphQL value of kind ${node.kind}.`);
  }
}

function printType(node: TypeNode): string {
  if ('name' in node) return node.name.value;
  if (node.kind === 'ListType') return `[${printType(node.type)}]`;
  if (node.kind === 'NonNullType') return `${printType(node.type)}!`;
  throw new TypeError(`Cannot print a GraphQL type of kind ${node.kind}.`);
}

function printArguments(args: readonly Argument[] | undefined): string {
  return args && args.length > 0 ? `(${args.map((a) => `${a.name.value}: ${printValue(a.value)}`).join(', ')})` : '';
}

function printDirectives(directives: readonly Directive[] | undefined): string | undefined {
  if (!directives || directives.length === 0) return undefined;
  return directives.map((d) => `@${d.name.value}${printArguments(d.arguments)}`).join(' ');
}

function printSelectionSet(set: SelectionSet | undefined): string | undefined {
  if (!set || set.selections.length === 0) return undefined;
  return `{ ${set.selections.map(printSelection).join(' ')} }`;
}

function printSelection(node: Selection): string {
  switch (node.kind) {
    case 'Field': {
      const name = node.alias ? `${node.alias.value}: ${node.name!.value}` : node.name!.value;
      return join([name + printArguments(node.arguments), printDirectives(node.directives), printSelectionSet(node.selectionSet)]);
    }
    case 'FragmentSpread':
      return join([`...${node.name!.value}`, printDirectives(node.directives)]);
    case 'InlineFragment':
      return join([
        '...',
        node.typeCondition ? `on ${node.typeCondition.name.value}` : undefined,
        printDirectives(node.directives),
        printSelectionSet(node.selectionSet),
      ]);
    default:
      throw new TypeError(`Cannot print a GraphQL selection of kind ${node.kind}.`);
  }
}

function printVariableDefinition(node: VariableDefinition): string {
  return join([
    `$${node.variable.name.value}: ${printType(node.type)}`,
    node.defaultValue ? `= ${printValue(node.defaultValue)}` : undefined,
    printDirectives(node.directives),
  ]);
}

function printDefinition(node: DefinitionNode): string {
  switch (node.kind) {
    case 'OperationDefinition': {
      const variables = node.variableDefinitions?.length ? `(${node.variableDefinitions.map(printVariableDefinition).join(', ')})` : '';
      return join([node.operation ?? 'query', (node.name?.value ?? '') + variables, printDirectives(node.directives), printSelectionSet(node.selectionSet)]);
    }
    case 'FragmentDefinition':
      return join([
        `fragment ${node.name!.value} on ${node.typeCondition!.name.value}`,
        printDirectives(node.directives),
        printSelectionSet(node.selectionSet),
      ]);
    default:
      throw new TypeError(`Only operations and fragments can be sent; got a definition of kind ${node.kind}.`);
  }
}

/** The document as GraphQL source text: one line per definition. */
export function printDocument(document: DocumentNodeLike): string {
  return document.definitions.map(printDefinition).join('\n');
}

/** The name of the document's operation when it holds exactly one named operation. */
export function operationNameOf(document: DocumentNodeLike): string | undefined {
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  return operations.length === 1 ? operations[0]!.name?.value : undefined;
}
