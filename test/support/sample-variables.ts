/** Values that fit an operation's variables: page sizes at their largest, 100 ids, the least of every input. */
import { typeFromAST, isNonNullType, isListType, isInputObjectType, isEnumType, isScalarType, getNullableType, type GraphQLInputType, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
export function sampleValue(type: GraphQLInputType): unknown {
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) return [sampleValue(t.ofType)];
  if (isEnumType(t)) return t.getValues()[0]!.value;
  if (isInputObjectType(t)) {
    const o: Record<string, unknown> = {};
    for (const f of Object.values(t.getFields())) if (isNonNullType(f.type)) o[f.name] = sampleValue(f.type);
    return o;
  }
  if (isScalarType(t)) {
    switch (t.name) {
      case 'Int': case 'SafeInt': return 1;
      case 'Float': return 1;
      case 'Boolean': return true;
      case 'ID': return Buffer.from('Case:00000000-0000-0000-0000-000000000000').toString('base64');
      case 'DateTime': return '2026-01-01T00:00:00Z';
      case 'Date': return '2026-01-01';
      case 'JSON': return {};
      case 'File': return {}; // an upload's place; its bytes do not change the cost
      default: return 'x';
    }
  }
  return null;
}
export function sampleVariables(schema: GraphQLSchema, op: OperationDefinitionNode): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const v of op.variableDefinitions ?? []) {
    const n = v.variable.name.value;
    const type = typeFromAST(schema, v.type as never) as GraphQLInputType;
    if (n === 'first' || n === 'last') vars[n] = 100;
    else if (n === 'ids') vars[n] = Array.from({ length: 100 }, () => sampleValue((getNullableType(type) as { ofType: GraphQLInputType }).ofType));
    else if (isNonNullType(type)) vars[n] = sampleValue(type);
  }
  return vars;
}
