/**
 * Tracing with OpenTelemetry, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (README, "Operations").
 * Spans: each HTTP request (a server span, continuing the caller's W3C `traceparent`, carrying
 * the request id that the logs carry), each GraphQL operation, each root field (Query.*,
 * Mutation.*), Prisma's operations and SQL statements, each job run. Off, nothing of the SDK is
 * loaded and no plugin is added: the API's no-op tracer is all that remains (job runs).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, trace, SpanKind, SpanStatusCode, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { GraphQLError, getOperationAST, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useOnResolve } from '@envelop/on-resolve';

export interface Tracing {
  tracer: Tracer;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Instead of OTLP over HTTP (tests: an in-memory exporter). A SpanExporter of the OpenTelemetry SDK. */
  exporter?: unknown;
}

/** Loads the SDK and registers it for the process. */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const sdk = await import('./tracing-sdk.ts');
  return sdk.start(options);
}

/** The tracer of the process's jobs and services: a no-op unless tracing is on. */
export function appTracer(): Tracer {
  return trace.getTracer('arrears');
}

const fetchHeaders: TextMapGetter<Headers> = {
  get: (h, key) => h.get(key) ?? undefined,
  keys: (h) => [...h.keys()],
};
const nodeHeaders: TextMapGetter<IncomingHttpHeaders> = {
  get: (h, key) => h[key],
  keys: (h) => Object.keys(h),
};

/**
 * Runs `fn` in a new server span for one request: the caller's trace continues when it sent a
 * `traceparent`. `fn` ends the span with `endRequestSpan` when the response is known.
 */
export function inRequestSpan<T>(
  tracer: Tracer,
  request: { method: string; path: string; headers: Headers | IncomingHttpHeaders },
  requestId: string,
  fn: (span: Span) => T,
): T {
  const parent =
    request.headers instanceof Headers
      ? propagation.extract(context.active(), request.headers, fetchHeaders)
      : propagation.extract(context.active(), request.headers, nodeHeaders);
  // The path only: a GET's query string holds the document and its variables.
  const route = request.path.startsWith('/evidence/') ? '/evidence/{id}' : request.path;
  const span = tracer.startSpan(
    `${request.method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'arrears.request_id': requestId } },
    parent,
  );
  return context.with(trace.setSpan(parent, span), () => fn(span));
}

export function endRequestSpan(span: Span, status: number, error?: unknown): void {
  span.setAttribute('http.response.status_code', status);
  if (error !== undefined) span.recordException(error instanceof Error ? error : String(error));
  if (status >= 500 || error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** The trace id of the active span, for the request's log line. */
export function activeTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/**
 * The GraphQL spans: one per operation (its name and type; the codes of its errors), and one per
 * root field, each the active span of what runs beneath it (services, SQL). No document text and
 * no variables: they may hold personal data.
 */
export function useTracing(tracer: Tracer): Plugin {
  const rootFields = useOnResolve(({ info, replaceResolver, resolver }) => {
    // Root fields of queries and mutations (a subscription's root resolves once per event: no span each).
    if (info.path.prev !== undefined || info.operation.operation === 'subscription') return;
    const name = `${info.parentType.name}.${info.fieldName}`;
    replaceResolver((root, args, ctx, i) =>
      tracer.startActiveSpan(name, { attributes: { 'graphql.field.path': name } }, async (span) => {
        try {
          return await resolver(root, args, ctx, i);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          if (error instanceof Error) span.recordException(error);
          throw error;
        } finally {
          span.end();
        }
      }),
    );
  }) as Plugin;
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(rootFields);
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const op = getOperationAST(args.document, args.operationName);
      const type = op?.operation ?? 'query';
      const opName = op?.name?.value;
      const span = tracer.startSpan(opName ? `${type} ${opName}` : type, {
        attributes: { 'graphql.operation.type': type, ...(opName ? { 'graphql.operation.name': opName } : {}) },
      });
      const active = trace.setSpan(context.active(), span);
      setExecuteFn(((a: unknown) => context.with(active, () => (executeFn as (x: unknown) => unknown)(a))) as typeof executeFn);
      return {
        onExecuteDone({ result }) {
          if (result && !(Symbol.asyncIterator in (result as object))) {
            const errors = (result as ExecutionResult).errors ?? [];
            if (errors.length) {
              const codes = [...new Set(errors.map((e) => String((e instanceof GraphQLError ? e.extensions['code'] : undefined) ?? 'INTERNAL_SERVER_ERROR')))];
              span.setAttribute('graphql.error.codes', codes);
              span.setStatus({ code: SpanStatusCode.ERROR, message: codes.join(',') });
            }
          }
          span.end();
        },
      };
    },
  };
}
