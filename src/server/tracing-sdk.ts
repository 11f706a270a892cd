/**
 * The OpenTelemetry SDK, loaded only when tracing is on (src/server/tracing.ts): a tracer provider
 * registered globally (AsyncLocalStorage context, W3C trace context), spans sent in batches to
 * OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP, and Prisma's own spans (@prisma/instrumentation).
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import type { Tracing, TracingOptions } from './tracing.ts';

export function start(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: options.serviceVersion ?? 'unknown' }),
    // A test's exporter sees each span as it ends; the network exporter gets batches.
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(options.exporter as SpanExporter) : new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  // SQL: Prisma reports its operations and the statements it sends as spans of the active context.
  const prisma = new PrismaInstrumentation({ enabled: false, ignoreSpanTypes: ['prisma:client:serialize'] });
  prisma.setTracerProvider(provider);
  prisma.enable();
  return {
    tracer: provider.getTracer('arrears', options.serviceVersion),
    async shutdown() {
      prisma.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
