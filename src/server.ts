import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createYoga, useReadinessCheck, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import persistedDocuments from '../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { schema } from './schema.ts';
import { createContext, type AppDeps, type Context } from './context.ts';
import type { Authenticator } from './auth/tokens.ts';
import { unauthenticated } from './lib/errors.ts';
import { classifyFault, faultError } from './lib/faults.ts';
import { useInputGuard } from './lib/hostile-input.ts';
import { useDenialAudit } from './modules/audit/denials.ts';
import { isAgencyRole } from './auth/viewer.ts';
import { armorPlugins } from './server/limits.ts';
import { useGuard, viewerOfRequest, type Denial } from './server/guard.ts';
import { AddressLimiter, MemoryCostBuckets, type CostBuckets } from './server/rate-limit.ts';
import type { Tracer } from '@opentelemetry/api';
import { activeTraceId, endRequestSpan, inRequestSpan, useTracing } from './server/tracing.ts';
import type { NewcomerGraphiQL } from './server/graphiql.ts';

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

export interface AppOptions {
  deps: AppDeps;
  authenticator: Authenticator;
  production: boolean;
  /** Answers when the database answers (readiness). */
  ping: () => Promise<void>;
  /** More Yoga plugins: routes beside /graphql (evidence downloads), instrumentation. */
  plugins?: Plugin[];
  /** Plugins that observe every request before the gate (metrics): they see its refusals too. */
  observers?: Plugin[];
  /** The largest request body: room for the largest evidence file and its multipart envelope. */
  maxRequestBodyBytes?: number;
  /** Browser origins allowed to call the API; none given: loopback pages outside production, none in production. */
  corsOrigins?: string[];
  /** Leaky buckets of cost points per principal (Redis-shared or in memory). */
  buckets?: CostBuckets;
  /** Requests without valid credentials, per client address. */
  addresses?: AddressLimiter;
  /** A running operation is stopped after this long (default 10 s). */
  executionTimeoutMs?: number;
  /** The cost budget of a signed-in user (JWT). */
  userBudget?: { maximumAvailable: number; restoreRate: number };
  /** The largest JSON response (default 10 MiB). */
  maxResponseBytes?: number;
  /** Behind a reverse proxy: the client is the last hop of X-Forwarded-For. */
  trustProxy?: boolean;
  /** Refusals worth an audit event (throttled principals, failed authentications). */
  onDenial?: (denial: Denial) => void;
  /** Tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): request, operation and root-field spans. */
  tracer?: Tracer;
  /** Outside production: GraphiQL's sign-in box, first tab and docs without a token (src/server/graphiql.ts). */
  graphiql?: NewcomerGraphiQL;
}

/** Pages served from this machine: GraphiQL and local front ends during development. */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/** Who sent a request: the socket's peer, or the proxy's record of it when the proxy is trusted. */
export function clientAddressOf(request: Request, serverContext: Record<string, unknown>, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = (request.headers.get('x-forwarded-for') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    if (hops.length) return hops[hops.length - 1]!;
  }
  const req = serverContext['req'] as http.IncomingMessage | undefined;
  return req?.socket?.remoteAddress ?? 'local';
}

export interface App {
  /** The Fetch API handler: tests call it directly, the HTTP server wraps it. */
  fetch(request: Request): Promise<Response>;
  yoga: YogaServerInstance<Record<string, never>, Context>;
  /** Set when tracing is on: each request runs in its own server span. */
  tracer?: Tracer;
}

export function createApp(options: AppOptions): App {
  const { deps, authenticator, production } = options;
  const newcomers = production ? undefined : options.graphiql;

  // Every response carries its request id, and every request is logged once (no personal data).
  const requestPlugin: Plugin = {
    onResponse({ request, response }) {
      const scope = requestScope.getStore();
      if (!scope) return;
      response.headers.set('x-request-id', scope.requestId);
      // GraphiQL's page may hold a demo token: not framed by other sites, not cached, not referred.
      if (response.headers.get('content-type')?.startsWith('text/html')) {
        response.headers.set('x-frame-options', 'DENY');
        if (!response.headers.has('content-security-policy')) response.headers.set('content-security-policy', "frame-ancestors 'none'");
        // A page that says how it is cached (the console's index.html: no-cache) keeps its own.
        if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'no-store');
        response.headers.set('referrer-policy', 'no-referrer');
      }
      const traceId = options.tracer ? activeTraceId() : undefined;
      deps.logger.info(
        { requestId: scope.requestId, ...(traceId ? { traceId } : {}), method: request.method, path: new URL(request.url).pathname, status: response.status, ms: Date.now() - scope.startedAt },
        'request',
      );
    },
  };

  // Production: introspection only for bank admins (API.md, "Running"). Validation runs before
  // the context is built: the viewer comes from the guard, which authenticated the request.
  const introspectionPlugin: Plugin<Context> = {
    onValidate({ context, addValidationRule }) {
      if (production && viewerOfRequest((context as { request?: Request }).request)?.role !== 'BANK_ADMIN') {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      }
    },
  };

  // "Did you mean …?" names fields of the schema: hidden from agency principals. Done on the
  // result, not in validation: Yoga caches validation results by document, so a rewrite there
  // would reach the next viewer of the same document (GraphQL Armor's plugin rewrites in place).
  const withoutSuggestion = (e: GraphQLError): GraphQLError => {
    const at = e.message.indexOf(' Did you mean ');
    return at < 0 ? e : new GraphQLError(e.message.slice(0, at), { nodes: e.nodes, extensions: e.extensions });
  };
  const suggestionsPlugin: Plugin<Context> = {
    onResultProcess({ request, result, setResult }) {
      const viewer = viewerOfRequest(request);
      if (viewer && !isAgencyRole(viewer.role)) return;
      if (Array.isArray(result) || Symbol.asyncIterator in result || !result.errors?.length) return;
      setResult({ ...result, errors: result.errors.map((e) => withoutSuggestion(e as GraphQLError)) });
    },
  };
  const csrf = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }) as Plugin;

  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    maxRequestBodySize: options.maxRequestBodyBytes ?? 26 * 1024 * 1024,
    // An allow-list: cross-origin pages are answered only when named (ARREARS_CORS_ORIGINS), or,
    // outside production and with none named, when served from this machine.
    cors: (request) => {
      const origin = request.headers.get('origin');
      const allowed = origin !== null && (options.corsOrigins?.length ? options.corsOrigins.includes(origin) : !production && LOOPBACK_ORIGIN.test(origin));
      return {
        origin: allowed ? origin : 'null',
        credentials: false,
        methods: ['GET', 'POST', 'OPTIONS'],
        // Browsers may read these on cross-origin calls: the request id for support, Retry-After for backoff.
        exposedHeaders: ['x-request-id', 'retry-after'],
      };
    },
    // GraphiQL's code is served from this package, not from a CDN: it works on a closed network.
    renderGraphiQL: newcomers ? (o) => newcomers.render(o) : renderGraphiQL,
    graphiql: production
      ? false
      : newcomers
        ? (request, serverContext) => newcomers.options(request, clientAddressOf(request, (serverContext ?? {}) as Record<string, unknown>, options.trustProxy ?? false))
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
          // Yoga puts the parser's message here, which quotes the request body back: never sent.
          delete extensions['originalError'];
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
      // The guard authenticated the request before its document was read.
      const viewer = viewerOfRequest(request) ?? (await authenticator.authenticate(request.headers.get('authorization')));
      if (!viewer) throw unauthenticated();
      return createContext(deps, viewer, requestId);
    },
    plugins: [
      requestPlugin,
      ...(options.tracer ? [useTracing(options.tracer)] : []),
      ...(options.observers ?? []),
      // First: credentials before the body is read; cost and budget before execution.
      useGuard({
        schema,
        graphqlEndpoint: '/graphql',
        authenticator,
        buckets: options.buckets ?? new MemoryCostBuckets(),
        addresses: options.addresses ?? new AddressLimiter(undefined),
        logger: deps.logger,
        graphiql: !production,
        executionTimeoutMs: options.executionTimeoutMs ?? 10_000,
        ...(options.userBudget ? { userBudget: options.userBudget } : {}),
        maxResponseBytes: options.maxResponseBytes ?? 10 * 1024 * 1024,
        clientAddress: (request, serverContext) => clientAddressOf(request, serverContext, options.trustProxy ?? false),
        requestId: currentRequestId,
        ...(options.onDenial ? { onDenial: options.onDenial } : {}),
        // Outside production: GraphiQL's docs pane loads before anyone signs in (src/server/graphiql.ts).
        ...(newcomers ? { anonymousIntrospection: (_request: Request, address: string) => newcomers.helpsAddress(address) } : {}),
      }),
      // Multipart posts (uploads) are "simple" requests that browsers send without a preflight:
      // they must carry a header that only a script can set.
      { onRequestParse: (payload) => (payload.request.method === 'POST' ? csrf.onRequestParse?.(payload as never) : undefined) } as Plugin,
      // The SDK may send the hash of a generated document instead of its text (its build's manifest);
      // any other document is still accepted as text.
      usePersistedOperations({
        // A persisted-only API key (a partner's system) runs only the SDK's documents.
        allowArbitraryOperations: (request) => !viewerOfRequest(request)?.apiKey?.persistedOnly,
        customErrors: {
          persistedQueryOnly: {
            message: "This API key runs only the SDK's persisted documents: send a documentId of its manifest.",
            extensions: { code: 'PERSISTED_DOCUMENT_REQUIRED' },
          },
          notFound: { message: 'No persisted document has this id: send one of the SDK manifest.', extensions: { code: 'BAD_USER_INPUT', argument: 'documentId' } },
        },
        extractPersistedOperationId: (params) => {
          const p = params as { documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
          if (typeof p.documentId === 'string') return p.documentId;
          const hash = p.extensions?.persistedQuery?.sha256Hash;
          return typeof hash === 'string' ? `sha256:${hash.replace(/^sha256:/, '')}` : null;
        },
        getPersistedOperation: (id) => (persistedDocuments as Record<string, string>)[id] ?? null,
      }) as Plugin,
      introspectionPlugin,
      useInputGuard(),
      useDenialAudit(deps),
      suggestionsPlugin,
      ...armorPlugins(),
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

  const tracer = options.tracer;
  return {
    yoga,
    ...(tracer ? { tracer } : {}),
    fetch(request) {
      const scope: RequestScope = { requestId: requestIdOf(request), startedAt: Date.now() };
      const handle = () => requestScope.run(scope, async () => yoga.fetch(request));
      if (!tracer) return handle();
      return inRequestSpan(tracer, { method: request.method, path: new URL(request.url).pathname, headers: request.headers }, scope.requestId, async (span) => {
        try {
          const response = await handle();
          endRequestSpan(span, response.status);
          return response;
        } catch (error) {
          endRequestSpan(span, 500, error);
          throw error;
        }
      });
    },
  };
}

export interface RunningServer {
  url: string;
  server: http.Server;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then resolves. */
  close(graceMs?: number): Promise<void>;
}

export interface TransportLimits {
  /** Time to receive a request's headers (slow-header attacks), ms. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (uploads), ms. */
  requestTimeoutMs?: number;
  /** Open connections one client address may hold; past it a new connection is closed at once. */
  maxConnectionsPerAddress?: number;
}

/** The HTTP server around the app: Node's http with Yoga's request adapter. */
export async function listen(app: App, host: string, port: number, limits: TransportLimits = {}): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const given = req.headers['x-request-id'];
    const scope: RequestScope = {
      requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
      startedAt: Date.now(),
    };
    const handle = () => requestScope.run(scope, () => app.yoga.requestListener(req, res));
    if (!app.tracer) return void handle();
    const path = (req.url ?? '/').split('?')[0]!;
    inRequestSpan(app.tracer, { method: req.method ?? 'GET', path, headers: req.headers }, scope.requestId, (span) => {
      res.once('close', () => endRequestSpan(span, res.statusCode));
      void handle();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = limits.headersTimeoutMs ?? 10_000;
  server.requestTimeout = limits.requestTimeoutMs ?? 120_000;
  const perAddress = new Map<string, number>();
  const cap = limits.maxConnectionsPerAddress ?? 64;
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > cap) {
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
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
