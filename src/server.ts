import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createYoga, useReadinessCheck, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import persistedDocuments from '../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule, Kind, type ASTNode } from 'graphql';
import { schema } from './schema.ts';
import { createContext, type AppDeps, type Context } from './context.ts';
import type { Authenticator } from './auth/tokens.ts';
import { unauthenticated } from './lib/errors.ts';
import { classifyFault, faultError } from './lib/faults.ts';

interface RequestScope {
  requestId: string;
  startedAt: number;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/** A client's own request id is kept when it is short and plain; otherwise a new one is made. */
function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

export const MAX_QUERY_DEPTH = 12;

/** Refuses documents nested deeper than MAX_QUERY_DEPTH (fragments followed). */
export const depthLimitRule: ValidationRule = (context) => {
  const fragments = new Map(
    context.getDocument().definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const depthOf = (node: ASTNode, depth: number, seen: Set<string>): number => {
    if (node.kind === Kind.FIELD) {
      // Introspection (GraphiQL's schema query is 14 deep) is bounded by the schema itself.
      if (!node.selectionSet || node.name.value.startsWith('__')) return depth;
      return Math.max(depth, ...node.selectionSet.selections.map((s) => depthOf(s, depth + 1, seen)));
    }
    if (node.kind === Kind.INLINE_FRAGMENT || node.kind === Kind.OPERATION_DEFINITION || node.kind === Kind.FRAGMENT_DEFINITION) {
      return Math.max(depth, ...node.selectionSet.selections.map((s) => depthOf(s, depth, seen)));
    }
    if (node.kind === Kind.FRAGMENT_SPREAD) {
      const name = node.name.value;
      const frag = fragments.get(name);
      if (!frag || seen.has(name)) return depth;
      return depthOf(frag, depth, new Set([...seen, name]));
    }
    return depth;
  };
  return {
    OperationDefinition(node) {
      const depth = depthOf(node, 0, new Set());
      if (depth > MAX_QUERY_DEPTH) {
        context.reportError(
          new GraphQLError(`Query is nested ${depth} levels deep; the limit is ${MAX_QUERY_DEPTH}.`, {
            nodes: [node],
            extensions: { code: 'QUERY_TOO_DEEP' },
          }),
        );
      }
    },
  };
};

export interface AppOptions {
  deps: AppDeps;
  authenticator: Authenticator;
  production: boolean;
  /** Answers when the database answers (readiness). */
  ping: () => Promise<void>;
  /** More Yoga plugins: routes beside /graphql (evidence downloads), instrumentation. */
  plugins?: Plugin[];
  /** The largest request body: room for the largest evidence file and its multipart envelope. */
  maxRequestBodyBytes?: number;
  /** Browser origins allowed to call the API; default any (tokens are bearer tokens, never cookies). */
  corsOrigins?: string[];
}

export interface App {
  /** The Fetch API handler: tests call it directly, the HTTP server wraps it. */
  fetch(request: Request): Promise<Response>;
  yoga: YogaServerInstance<Record<string, never>, Context>;
}

export function createApp(options: AppOptions): App {
  const { deps, authenticator, production } = options;

  // Every response carries its request id, and every request is logged once (no personal data).
  const requestPlugin: Plugin = {
    onResponse({ request, response }) {
      const scope = requestScope.getStore();
      if (!scope) return;
      response.headers.set('x-request-id', scope.requestId);
      deps.logger.info(
        { requestId: scope.requestId, method: request.method, path: new URL(request.url).pathname, status: response.status, ms: Date.now() - scope.startedAt },
        'request',
      );
    },
  };

  // Production: introspection only for bank admins (API.md, "Running").
  const introspectionPlugin: Plugin<Context> = {
    onValidate({ context, addValidationRule }) {
      if (production && (context as Partial<Context>).viewer?.role !== 'BANK_ADMIN') {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      }
    },
  };

  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    maxRequestBodySize: options.maxRequestBodyBytes ?? 26 * 1024 * 1024,
    cors: {
      origin: options.corsOrigins?.length ? options.corsOrigins : '*',
      credentials: false,
      // Browsers may read these on cross-origin calls: the request id for support, Retry-After for backoff.
      exposedHeaders: ['x-request-id', 'retry-after'],
    },
    // GraphiQL's code is served from this package, not from a CDN: it works on a closed network.
    renderGraphiQL,
    graphiql: production
      ? false
      : {
          title: 'Arrears',
          defaultQuery: '# Set the header {"Authorization": "Bearer <token>"} below (npm run token -- admin@bank.example).\n{\n  viewer { user { fullName role } }\n}\n',
          headers: '{"Authorization": "Bearer <paste a token>"}',
        },
    logging: false,
    maskedErrors: {
      maskError(error, message) {
        const requestId = currentRequestId();
        const original = error instanceof GraphQLError ? error.originalError : error;
        // Our own GraphQL errors (codes set on purpose) pass; anything unexpected is masked and logged.
        if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
          const extensions = error.extensions as Record<string, unknown>;
          // Every error a client sees carries a code: those without one come from parsing the
          // request (a mistyped global ID, a variable of the wrong type): the client's input.
          extensions['code'] ??= 'BAD_USER_INPUT';
          if (requestId) extensions['requestId'] ??= requestId;
          return error;
        }
        // A database outage or a refused attempt is told as such, retryable (src/lib/faults.ts).
        const fault = classifyFault(original ?? error);
        if (fault) {
          deps.logger.warn({ err: original, requestId, fault: fault.reason }, `database fault: ${fault.kind}`);
          return faultError(fault, requestId, error instanceof GraphQLError ? error : undefined);
        }
        deps.logger.error({ err: original, requestId }, 'unexpected error');
        return new GraphQLError(message, {
          ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
        });
      },
    },
    context: async ({ request }) => {
      const requestId = currentRequestId() ?? randomUUID();
      const viewer = await authenticator.authenticate(request.headers.get('authorization'));
      if (!viewer) throw unauthenticated();
      return createContext(deps, viewer, requestId);
    },
    plugins: [
      requestPlugin,
      // The SDK may send the hash of a generated document instead of its text (its build's manifest);
      // any other document is still accepted as text.
      usePersistedOperations({
        allowArbitraryOperations: true,
        extractPersistedOperationId: (params) => {
          const p = params as { documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
          if (typeof p.documentId === 'string') return p.documentId;
          const hash = p.extensions?.persistedQuery?.sha256Hash;
          return typeof hash === 'string' ? `sha256:${hash.replace(/^sha256:/, '')}` : null;
        },
        getPersistedOperation: (id) => (persistedDocuments as Record<string, string>)[id] ?? null,
      }) as Plugin,
      introspectionPlugin,
      { onValidate: ({ addValidationRule }) => addValidationRule(depthLimitRule) } as Plugin,
      ...(options.plugins ?? []),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          await options.ping();
          return true;
        },
      }),
    ],
  });

  return {
    yoga,
    fetch(request) {
      const scope: RequestScope = { requestId: requestIdOf(request), startedAt: Date.now() };
      return requestScope.run(scope, async () => yoga.fetch(request));
    },
  };
}

export interface RunningServer {
  url: string;
  server: http.Server;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then resolves. */
  close(graceMs?: number): Promise<void>;
}

/** The HTTP server around the app: Node's http with Yoga's request adapter. */
export async function listen(app: App, host: string, port: number): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const given = req.headers['x-request-id'];
    const scope: RequestScope = {
      requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
      startedAt: Date.now(),
    };
    requestScope.run(scope, () => app.yoga.requestListener(req, res));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    server,
    close(graceMs = 10_000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
