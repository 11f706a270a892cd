import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import PrismaPlugin from '@pothos/plugin-prisma';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import { DateResolver, DateTimeResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars';
import type PrismaTypes from './generated/pothos-prisma-types.ts';
import { getDatamodel } from './generated/pothos-prisma-types.ts';
import type { Context } from './context.ts';
import type { Role } from './generated/prisma/enums.ts';
import { badUserInput, forbidden } from './lib/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The scopes a field or type may ask for (src/auth/scopes.ts fills them per request). */
export interface AuthScopes {
  /** Any signed-in principal. */
  authenticated: boolean;
  /** The viewer holds one of these roles. */
  role: Role[];
  /** Bank staff of any role (not an agency principal). */
  bank: boolean;
  /** May write (every role but the auditor). */
  writer: boolean;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  DefaultInputFieldRequiredness: true;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Date: { Input: Date; Output: Date | string };
    SafeInt: { Input: number; Output: number };
    JSON: { Input: unknown; Output: unknown };
    /** An upload (GraphQL multipart request spec): input only. */
    File: { Input: File; Output: never };
    ID: { Input: string; Output: string | number };
  };
}>({
  // Relay before scope-auth, so that scopes see parsed global IDs (Pothos scope-auth docs).
  plugins: [RelayPlugin, ScopeAuthPlugin, PrismaPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    edgeCursorType: 'String',
    pageInfoCursorType: 'String',
    nodesOnConnection: {},
    // Every id Arrears issues wraps a UUID: anything else is refused here, before it reaches the database.
    decodeGlobalID: (globalID) => {
      let decoded: { typename: string; id: string };
      try {
        decoded = decodeGlobalID(globalID);
      } catch {
        throw badUserInput(`Invalid ID: ${JSON.stringify(globalID.slice(0, 80))}`);
      }
      if (!UUID.test(decoded.id)) throw badUserInput(`Invalid ID: ${JSON.stringify(globalID.slice(0, 80))}`);
      return decoded;
    },
  },
  scopeAuth: {
    authScopes: async (ctx) => ctx.authScopes(),
    // An authorization failure is a GraphQL error with extensions.code FORBIDDEN.
    unauthorizedError: () => forbidden(),
    treatErrorsAsUnauthorized: false,
    authorizeOnSubscribe: true,
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
    defaultConnectionSize: 20,
    maxConnectionSize: 100,
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('Date', DateResolver);
builder.addScalarType('SafeInt', SafeIntResolver);
builder.addScalarType('JSON', JSONResolver);
builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request spec. Input only.',
  serialize: () => {
    throw new Error('File is an input-only scalar');
  },
});

builder.queryType({});

builder.mutationType({});
