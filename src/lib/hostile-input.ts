import {
  BREAK,
  GraphQLError,
  TypeInfo,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isInputObjectType,
  isListType,
  isObjectType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from './errors.ts';

/**
 * Arguments no resolver should have to think about, refused before execution with
 * BAD_USER_INPUT naming the argument (API.md, "Limits, throttling and failures"):
 * - a NUL character in any string, anywhere in the arguments (PostgreSQL refuses it in text:
 *   it used to surface as a masked INTERNAL_SERVER_ERROR from the driver);
 * - a connection cursor that is not one Arrears issued: every connection's cursor is its
 *   record's id (a UUID), so a hand-made cursor (`GPC:S:x`, `GPC:N:1`, garbage) never reaches SQL;
 * - a date outside years 1900 to 9999: no record of Arrears is that old, and beyond 9999 the
 *   store's types and the time-zone arithmetic give way.
 * Domain ranges (days past due, amounts) are checked where they are used (cases/queries.ts, services).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MIN_DATE_MS = Date.UTC(1900, 0, 1);
const MAX_DATE_MS = Date.UTC(10000, 0, 1);
const CURSOR_ARGS = new Set(['after', 'before']);

/** True when a cursor is one a connection of Arrears issued: base64 of `GPC:S:<uuid>`. */
export function isIssuedCursor(cursor: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor) || cursor.length > 100) return false;
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  return decoded.startsWith('GPC:S:') && UUID.test(decoded.slice(6));
}

function problemIn(value: unknown, type: GraphQLInputType, path: string): GraphQLError | null {
  if (value === null || value === undefined) return null;
  const t = getNullableType(type);
  if (isListType(t)) {
    if (!Array.isArray(value)) return problemIn(value, t.ofType, path);
    for (let i = 0; i < value.length; i += 1) {
      const p = problemIn(value[i], t.ofType, `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (isInputObjectType(t)) {
    if (typeof value !== 'object') return null;
    const fields = t.getFields();
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      const p = field ? problemIn(v, field.type, `${path}.${name}`) : null;
      if (p) return p;
    }
    return null;
  }
  if (typeof value === 'string' && value.includes('\u0000')) {
    return badUserInput(`Argument "${path}" contains a NUL character.`, { argument: path });
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms) || ms < MIN_DATE_MS || ms >= MAX_DATE_MS) {
      return badUserInput(`Argument "${path}" is out of range: dates run from 1900 to 9999.`, { argument: path });
    }
  }
  return null;
}

/** The first hostile argument of the operation to execute, or null. Linear in the document. */
export function findHostileInput(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  const op = getOperationAST(document, operationName ?? undefined);
  if (!op) return null;
  const coerced = getVariableValues(schema, op.variableDefinitions ?? [], rawVariables ?? {}, { maxErrors: 1 });
  // Variables that do not coerce are refused by execution itself, with their own message.
  if (coerced.errors) return null;
  const variables = coerced.coerced;
  const typeInfo = new TypeInfo(schema);
  let problem: GraphQLError | null = null;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const def = typeInfo.getFieldDef();
        if (!def || !node.arguments?.length) return undefined;
        let args: Record<string, unknown>;
        try {
          args = getArgumentValues(def, node, variables);
        } catch {
          return undefined; // a fragment of another operation, or an argument execution refuses anyway
        }
        const connection = isObjectType(getNamedType(def.type)) && getNamedType(def.type).name.endsWith('Connection');
        for (const arg of def.args) {
          const value = args[arg.name];
          const path = `${def.name}.${arg.name}`;
          if (connection && CURSOR_ARGS.has(arg.name) && typeof value === 'string' && !isIssuedCursor(value)) {
            problem = badUserInput(`Argument "${path}" is not a cursor this API issued.`, { argument: path });
          } else {
            problem = problemIn(value, arg.type, path);
          }
          if (problem) return BREAK;
        }
        return undefined;
      },
    }),
  );
  return problem;
}

/** A Yoga plugin: a hostile argument ends the request with BAD_USER_INPUT before any resolver runs. */
export function useInputGuard(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const problem = findHostileInput(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined);
      if (problem) setResultAndStopExecution({ errors: [problem] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const problem = findHostileInput(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined);
      if (problem) setResultAndStopExecution({ errors: [problem] });
    },
  };
}
