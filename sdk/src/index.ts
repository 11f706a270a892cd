// @arrears/sdk: the typed client of the Arrears GraphQL API.
export {
  createArrearsClient,
  type ArrearsClient,
  type ArrearsClientOptions,
  type ArrearsDocument,
  type DocumentNode,
  type DocumentString,
  type FetchFunction,
  type FetchRequestInit,
  type FetchResponse,
  type OperationArgs,
  type OperationMethods,
  type RequestOptions,
  type TokenProvider,
} from './client.ts';
export {
  ArrearsError,
  AuthenticationError,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  isArrearsError,
  type AnyArrearsError,
  type ArrearsErrorKind,
  type GraphQLErrorEntry,
} from './errors.ts';
export { operations } from './operations.ts';
export type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
// The generated documents (e.g. CasesDocument, for `client.request`) and their types
// (CasesQuery, CasesQueryVariables, CaseSummaryFragment, CaseFilter, enums as string unions).
export * from './generated/graphql.ts';
