import { GraphQLError, Kind, execute, getOperationAST, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema, type SelectionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/tokens.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { Logger } from '../lib/logger.ts';
import { operationCost } from './cost.ts';
import { classifyFault, faultMessage, type Fault } from '../lib/faults.ts';
import { LIMITS, tooComplex } from './limits.ts';
import { API_KEY_BUDGET, USER_BUDGET, type AddressLimiter, type Budget, type CostBuckets, type ThrottleStatus } from './rate-limit.ts';

/** What one request has established: who asks, and what its operation cost. */
interface RequestState {
  viewer: Viewer;
  principal: string;
  budget: Budget;
  cost?: { requested: number; throttle: ThrottleStatus };
}

const states = new WeakMap<Request, RequestState>();
/** Requests without credentials let through to introspect (outside production): their client address. */
const anonymous = new WeakMap<Request, string>();

/** The viewer that the guard authenticated for this request (before its document was read). */
export function viewerOfRequest(request: Request | undefined): Viewer | undefined {
  return request ? states.get(request)?.viewer : undefined;
}

/** A denial worth an audit event; the audit module decides what to keep (rate-limited there). */
export interface Denial {
  kind: 'THROTTLED' | 'AUTH_FAILED';
  userId?: string | undefined;
  apiKeyId?: string | undefined;
  clientAddress: string;
  requestId?: string | undefined;
  detail?: string | undefined;
}

export interface GuardOptions {
  schema: GraphQLSchema;
  graphqlEndpoint: string;
  authenticator: Authenticator;
  buckets: CostBuckets;
  addresses: AddressLimiter;
  logger: Logger;
  /** GraphiQL's page is served to browsers outside production without credentials. */
  graphiql: boolean;
  /** The budget of a signed-in user (JWT); default USER_BUDGET. */
  userBudget?: Budget;
  /** Ends a runaway execution (ms). */
  executionTimeoutMs: number;
  /** The largest response body (bytes of JSON). */
  maxResponseBytes: number;
  /** Who sent the request (the socket's address, or the proxy's first hop when it is trusted). */
  clientAddress(request: Request, serverContext: Record<string, unknown>): string;
  requestId(): string | undefined;
  onDenial?: (denial: Denial) => void;
  /**
   * Outside production only: may this request, sent without credentials, introspect the schema
   * (GraphiQL's docs pane for newcomers)? Only an introspection-only query is answered; anything
   * else is refused as before. Unset: never.
   */
  anonymousIntrospection?: (request: Request, clientAddress: string) => boolean;
}

/** The root fields an anonymous introspection may select. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);
/** GraphiQL's introspection query is about 1,600 characters and one __schema. */
const MAX_ANONYMOUS_INTROSPECTION = { chars: 10_000, rootFields: 3 };

/** The document, when it is one query that selects only introspection fields at its root. */
function introspectionOnly(query: unknown, operationName: unknown): { document: DocumentNode; operationName: string | undefined } | null {
  if (typeof query !== 'string' || query.length > MAX_ANONYMOUS_INTROSPECTION.chars) return null;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: 2_000 });
  } catch {
    return null;
  }
  const name = typeof operationName === 'string' ? operationName : undefined;
  const op = getOperationAST(document, name);
  if (!op || op.operation !== 'query') return null;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  let roots = 0;
  const onlyIntrospection = (selections: readonly SelectionNode[], seen: Set<string>): boolean =>
    selections.every((sel) => {
      if (sel.kind === Kind.FIELD) return INTROSPECTION_FIELDS.has(sel.name.value) && ++roots <= MAX_ANONYMOUS_INTROSPECTION.rootFields;
      if (sel.kind === Kind.INLINE_FRAGMENT) return onlyIntrospection(sel.selectionSet.selections, seen);
      const fragment = fragments.get(sel.name.value);
      return !!fragment && !seen.has(sel.name.value) && onlyIntrospection(fragment.selectionSet.selections, new Set([...seen, sel.name.value]));
    });
  return onlyIntrospection(op.selectionSet.selections, new Set()) ? { document, operationName: name } : null;
}

export function throttled(retryAfterMs: number, message: string): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GraphQLError(message, {
    extensions: { code: 'THROTTLED', retryAfterSeconds: seconds, http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}

/** 429 for an address past its budget of requests without valid credentials. */
function addressThrottled(fetchAPI: { Response: typeof Response }, waitMs: number): Response {
  const t = throttled(waitMs, 'Too many requests without valid credentials from this address.');
  const seconds = String(t.extensions['retryAfterSeconds']);
  return errorResponse(fetchAPI, 429, { message: t.message, extensions: { code: 'THROTTLED', retryAfterSeconds: t.extensions['retryAfterSeconds'] } }, { 'Retry-After': seconds });
}

function errorResponse(fetchAPI: { Response: typeof Response }, status: number, error: { message: string; extensions: Record<string, unknown> }, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [error] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

function faultResponse(fetchAPI: { Response: typeof Response }, fault: Fault, requestId: string | undefined, logger: Logger, err: unknown): Response {
  logger.warn({ err, requestId, fault: fault.reason }, `database fault: ${fault.kind}`);
  const extensions = { code: fault.kind, ...(requestId ? { requestId } : {}) };
  return fault.kind === 'UNAVAILABLE'
    ? errorResponse(fetchAPI, 503, { message: faultMessage(fault), extensions }, { 'Retry-After': String(fault.retryAfterSeconds) })
    : errorResponse(fetchAPI, 200, { message: faultMessage(fault), extensions });
}

function codeOf(error: unknown): string | undefined {
  return error instanceof GraphQLError ? (error.extensions['code'] as string | undefined) : undefined;
}

/**
 * The gate in front of every GraphQL document (README, "Limits and security"):
 * 1. credentials first: a request without valid ones gets 401 before its body is read, and
 *    counts against its address's budget (429 past it), so no schema name leaks to anyone and no
 *    document costs anything before we know who sent it;
 * 2. before execution, the operation's cost with its variables: over the limit, refused before
 *    any SQL; then the principal's bucket pays for it, or the request gets 429 with Retry-After;
 * 3. execution ends after `executionTimeoutMs`, and a response over `maxResponseBytes` is replaced
 *    by an error;
 * 4. every response carries `extensions.cost` in Shopify's shape.
 */
export function useGuard(options: GuardOptions): Plugin {
  const { schema, authenticator, buckets, addresses } = options;

  const deny = (denial: Denial) => {
    try {
      options.onDenial?.(denial);
    } catch (err) {
      options.logger.warn({ err }, 'denial not recorded');
    }
  };

  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (url.pathname !== options.graphqlEndpoint || request.method === 'OPTIONS') return;
      if (options.graphiql && request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) return;
      const address = options.clientAddress(request, serverContext as Record<string, unknown>);
      const refuse = async (error: GraphQLError | undefined) => {
        const waitMs = await addresses.fail(address);
        deny({ kind: 'AUTH_FAILED', clientAddress: address, requestId: options.requestId(), detail: error?.message ?? 'no credentials' });
        if (waitMs > 0) {
          deny({ kind: 'THROTTLED', clientAddress: address, requestId: options.requestId(), detail: 'requests without valid credentials' });
          return endResponse(addressThrottled(fetchAPI, waitMs));
        }
        return endResponse(
          errorResponse(fetchAPI, 401, { message: error?.message ?? 'Authentication required: send Authorization: Bearer <token>.', extensions: { code: 'UNAUTHENTICATED' } }, { 'WWW-Authenticate': 'Bearer' }),
        );
      };
      // A blocked address still gets its signed-in users through: a JWT's signature is checked
      // in memory before anything reaches the database. Anything else waits out the block.
      const header = request.headers.get('authorization') ?? '';
      const blockedMs = /^Bearer\s+ey/i.test(header) ? 0 : await addresses.blockedFor(address);
      if (blockedMs > 0) {
        deny({ kind: 'THROTTLED', clientAddress: address, requestId: options.requestId(), detail: 'address blocked after requests without valid credentials' });
        return endResponse(addressThrottled(fetchAPI, blockedMs));
      }
      // No credentials at all, from a caller GraphiQL's newcomer helpers serve: the document is
      // read, and answered only if it is an introspection (onParams below).
      if (!header && options.anonymousIntrospection?.(request, address)) {
        anonymous.set(request, address);
        return;
      }
      let viewer: Viewer | null;
      try {
        viewer = await authenticator.authenticate(header, { clientAddress: address, requestId: options.requestId() ?? undefined });
      } catch (error) {
        if (codeOf(error) === 'UNAUTHENTICATED') return refuse(error as GraphQLError);
        // The database unreachable while checking the credentials: UNAVAILABLE (src/lib/faults.ts).
        const fault = classifyFault(error);
        if (fault) return endResponse(faultResponse(fetchAPI, fault, options.requestId(), options.logger, error));
        throw error;
      }
      if (!viewer) return refuse(undefined);
      const budget = viewer.authMethod === 'API_KEY' ? (viewer.apiKey?.budget ?? API_KEY_BUDGET) : (options.userBudget ?? USER_BUDGET);
      const principal = viewer.apiKeyId ? `key:${viewer.apiKeyId}` : `user:${viewer.userId}`;
      states.set(request, { viewer, principal, budget });
    },

    async onParams({ request, params, setResult }) {
      const address = anonymous.get(request);
      if (address === undefined) return;
      const found = introspectionOnly(params.query, params.operationName);
      const refusal = (message: string) =>
        setResult({ errors: [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } } })] });
      // Every anonymous document counts against the address's budget, answered or not.
      const waitMs = await addresses.fail(address);
      if (waitMs > 0) {
        deny({ kind: 'THROTTLED', clientAddress: address, requestId: options.requestId(), detail: 'requests without valid credentials' });
        const t = throttled(waitMs, 'Too many requests without valid credentials from this address.');
        return setResult({ errors: [new GraphQLError(t.message, { extensions: { ...t.extensions } })] });
      }
      if (!found) {
        deny({ kind: 'AUTH_FAILED', clientAddress: address, requestId: options.requestId(), detail: 'no credentials' });
        return refusal('Authentication required: send Authorization: Bearer <token>.');
      }
      const errors = validate(schema, found.document);
      if (errors.length) return setResult({ errors });
      const variables = params.variables && typeof params.variables === 'object' ? (params.variables as Record<string, unknown>) : undefined;
      setResult((await execute({ schema, document: found.document, operationName: found.operationName, variableValues: variables })) as ExecutionResult);
    },

    onExecute({ args, setResultAndStopExecution, setExecuteFn, executeFn }) {
      return guardOperation(args, setResultAndStopExecution, setExecuteFn, executeFn);
    },

    onSubscribe({ args, setResultAndStopExecution }) {
      return guardOperation(args, setResultAndStopExecution as (r: ExecutionResult) => void);
    },

    onExecutionResult({ request, result, setResult }) {
      const state = states.get(request);
      if (!state || !result || Symbol.asyncIterator in result) return;
      const single = result as ExecutionResult;
      const cost = state.cost ?? { requested: 0, throttle: { ...state.budget, currentlyAvailable: state.budget.maximumAvailable } };
      const max = options.maxResponseBytes;
      setResult({
        ...single,
        extensions: { ...(single.extensions ?? {}), cost: { requested: cost.requested, limit: LIMITS.cost, throttle: cost.throttle } },
        // The ceiling is checked on the text Yoga sends, as it is made (one serialisation, not two):
        // a runaway response is replaced by an error.
        stringify(sanitized: ExecutionResult) {
          const text = JSON.stringify(sanitized);
          if (text.length <= max / 3 || Buffer.byteLength(text) <= max) return text;
          return JSON.stringify({
            errors: [
              {
                message: `The response is larger than ${max} bytes: ask for fewer items or fields.`,
                extensions: { code: 'RESPONSE_TOO_LARGE', limit: max },
              },
            ],
            extensions: sanitized.extensions,
          });
        },
      } as ExecutionResult);
    },
  } as Plugin;

  async function guardOperation(
    args: { schema: GraphQLSchema; document: import('graphql').DocumentNode; variableValues?: Record<string, unknown> | null | undefined; operationName?: string | null | undefined; contextValue: unknown },
    stop: (result: ExecutionResult) => void,
    setExecuteFn?: (fn: never) => void,
    executeFn?: (args: never) => unknown,
  ): Promise<void> {
    const request = (args.contextValue as { request?: Request }).request;
    const state = request ? states.get(request) : undefined;
    if (!state) return;
    let requested: number | null;
    try {
      requested = operationCost(args.schema ?? schema, args.document, args.variableValues, args.operationName);
    } catch (error) {
      if (codeOf(error) === 'QUERY_TOO_COMPLEX') return stop({ errors: [error as GraphQLError] });
      throw error;
    }
    if (requested === null) return; // the variables do not fit: execution says so, at no cost
    if (requested > LIMITS.cost) {
      return stop({ errors: [tooComplex('cost', `The operation costs ${requested} points; the limit is ${LIMITS.cost}.`)] });
    }
    const take = await buckets.take(state.principal, requested, state.budget);
    state.cost = { requested, throttle: take.status };
    if (!take.allowed) {
      deny({
        kind: 'THROTTLED',
        userId: state.viewer.userId,
        apiKeyId: state.viewer.apiKeyId ?? undefined,
        clientAddress: '',
        requestId: options.requestId(),
        detail: `requested ${requested}, available ${take.status.currentlyAvailable}`,
      });
      return stop({ errors: [throttled(take.retryAfterMs, `Throttled: the operation costs ${requested} points and ${take.status.currentlyAvailable} are available; ${take.status.restoreRate} are restored per second.`)] });
    }
    if (setExecuteFn && executeFn) {
      const execute = executeFn as (a: unknown) => Promise<unknown>;
      const timeoutMs = options.executionTimeoutMs;
      setExecuteFn(((executionArgs: { signal?: AbortSignal }) => {
        const controller = new AbortController();
        const signal = executionArgs.signal ? AbortSignal.any([executionArgs.signal, controller.signal]) : controller.signal;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<ExecutionResult>((resolve) => {
          timer = setTimeout(() => {
            controller.abort();
            resolve({
              errors: [
                new GraphQLError(`The operation ran longer than ${timeoutMs} ms and was stopped.`, {
                  extensions: { code: 'TIMEOUT', limit: timeoutMs },
                }),
              ],
            });
          }, timeoutMs);
          timer.unref();
        });
        return Promise.race([Promise.resolve(execute({ ...executionArgs, signal })), timeout]).finally(() => clearTimeout(timer));
      }) as never);
    }
  }
}
