// The Arrears client: the GraphQL client of core.ts with one typed method per operation of
// operations/*.graphql (`client.cases(…)`), a paginator per paged connection
// (`client.paginate.cases(…)`) and the subscriptions (`client.subscribe.caseEvents(…)`).
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import {
  createGraphQLClient,
  type ArrearsSubscription,
  type ClientOptions,
  type ConnectionAt,
  type GraphQLClient,
  type OperationArgs,
  type PaginateOptions,
  type Paginator,
  type RequestOptions,
  type SubscribeOptions,
} from './core.ts';
import type { UntypedDocument } from './document.ts';
import { connections, operations, subscriptions } from './operations.ts';

/** The core client with the document types erased: what the method table calls. */
interface UntypedClient {
  request(document: UntypedDocument, variables?: unknown, options?: RequestOptions): Promise<unknown>;
  paginate(document: UntypedDocument, variables?: unknown, options?: PaginateOptions): unknown;
  subscribe(document: UntypedDocument, variables?: unknown, options?: SubscribeOptions): unknown;
}

export type ArrearsClientOptions = ClientOptions;

type Operations = typeof operations;
type Subscriptions = typeof subscriptions;
type Connections = typeof connections;

/** One typed method per query and mutation: `client.cases({ first: 10 })`. */
export type OperationMethods = {
  readonly [K in keyof Operations]: (...args: OperationArgs<VariablesOf<Operations[K]>, RequestOptions>) => Promise<ResultOf<Operations[K]>>;
};

/** One paginator per operation that pages a connection: `client.paginate.cases({ first: 50 })`. */
export type PaginateMethods = {
  readonly [K in keyof Connections & keyof Operations]: (
    ...args: OperationArgs<VariablesOf<Operations[K]>, RequestOptions>
  ) => Paginator<ConnectionAt<ResultOf<Operations[K]>, Connections[K]>>;
};

/** One method per subscription: `client.subscribe.caseEvents({ caseId })`. */
export type SubscribeMethods = {
  readonly [K in keyof Subscriptions]: (
    ...args: OperationArgs<VariablesOf<Subscriptions[K]>, SubscribeOptions>
  ) => ArrearsSubscription<ResultOf<Subscriptions[K]>>;
};

export interface ArrearsClient extends OperationMethods {
  /** The endpoint this client talks to. */
  readonly url: string;
  /** Sends any document (a generated one, a TypedDocumentNode, a string) and returns its typed data. */
  readonly request: GraphQLClient['request'];
  /** `paginate.<operation>(variables)`, or `paginate(document, variables, { path })` for any document. */
  readonly paginate: GraphQLClient['paginate'] & PaginateMethods;
  /** `subscribe.<subscription>(variables)`, or `subscribe(document, variables)` for any document. */
  readonly subscribe: GraphQLClient['subscribe'] & SubscribeMethods;
}

const RESERVED = new Set(['url', 'request', 'paginate', 'subscribe']);

/** Adds `methods` to a function (a namespace that is also callable), refusing names a function already has. */
function withMethods<F extends (...args: never[]) => unknown>(fn: F, methods: Record<string, unknown>): F {
  const target = ((...args: Parameters<F>) => fn(...args)) as F;
  for (const [name, method] of Object.entries(methods)) {
    if (name in target) throw new Error(`operations: "${name}" is a name the client already uses.`);
    Object.defineProperty(target, name, { value: method, enumerable: true });
  }
  return Object.freeze(target);
}

export function createArrearsClient(options: ArrearsClientOptions): ArrearsClient {
  const core = createGraphQLClient(options);
  const untyped = core as unknown as UntypedClient;
  const methods: Record<string, unknown> = {};
  for (const [name, document] of Object.entries(operations)) {
    if (RESERVED.has(name)) throw new Error(`operations: "${name}" is a name the client already uses.`);
    methods[name] = (variables?: unknown, requestOptions?: RequestOptions) => untyped.request(document, variables, requestOptions);
  }
  const pagers: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(connections)) {
    const document = operations[name as keyof Connections];
    pagers[name] = (variables?: unknown, requestOptions?: RequestOptions) => untyped.paginate(document, variables, { ...requestOptions, path });
  }
  const streams: Record<string, unknown> = {};
  for (const [name, document] of Object.entries(subscriptions)) {
    streams[name] = (variables?: unknown, subscribeOptions?: SubscribeOptions) => untyped.subscribe(document, variables, subscribeOptions);
  }
  return Object.freeze({
    ...methods,
    url: core.url,
    request: core.request,
    paginate: withMethods(core.paginate, pagers),
    subscribe: withMethods(core.subscribe, streams),
  }) as unknown as ArrearsClient;
}
