// @arrears/sdk: the typed client of the Arrears GraphQL API.
export {
  createArrearsClient,
  type ArrearsClient,
  type ArrearsClientOptions,
  type OperationMethods,
  type PaginateMethods,
  type SubscribeMethods,
} from './client.ts';
export {
  backoffDelay,
  createGraphQLClient,
  type AnyConnection,
  type ArrearsDocument,
  type ArrearsSubscription,
  type ClientOptions,
  type ConnectionAt,
  type DocumentNode,
  type DocumentString,
  type FetchFunction,
  type FetchRequestInit,
  type FetchResponse,
  type GraphQLClient,
  type NodeOf,
  type OperationArgs,
  type OutgoingRequest,
  type PaginateOptions,
  type Paginator,
  type ReconnectOptions,
  type QueryCost,
  type RequestOptions,
  type RetryOptions,
  type SubscribeOptions,
  type TokenProvider,
} from './core.ts';
export {
  ArrearsError,
  AuthenticationError,
  ForbiddenError,
  GraphQLRequestError,
  HttpError,
  NetworkError,
  RateLimitedError,
  TimeoutError,
  UserErrorsError,
  isArrearsError,
  parseRetryAfter,
  type AnyArrearsError,
  type ArrearsErrorKind,
  type GraphQLErrorEntry,
  type UserError,
} from './errors.ts';
export type { OperationType } from './document.ts';
export type { ReactNativeFile, Upload } from './upload.ts';
export { connections, operations, subscriptions } from './operations.ts';
export type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
// The generated documents (e.g. CasesDocument, for `client.request` or urql/Apollo/TanStack Query)
// and their types (CasesQuery, CasesQueryVariables, CaseSummaryFragment, CaseFilter, enums as
// string unions, UserErrorCode).
export * from './generated/graphql.ts';
