import type { Config } from './config.ts';
import { openStore, type Store } from './db/store.ts';
import { applyMigrations } from './db/migrations.ts';
import { loadSecrets, type Secrets } from './lib/secrets.ts';
import { Pii } from './lib/pii.ts';
import { systemClock, type Clock } from './lib/time.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { Authenticator } from './auth/tokens.ts';
import { clientAddressOf, createApp, currentRequestId, type App } from './server.ts';
import { useConsole } from './server/console.ts';
import { FolderBlobStore } from './modules/evidence/blob-store.ts';
import type { BlobStore } from './modules/evidence/blob-store.ts';
import { evidenceSigningKey, useEvidenceDownloads } from './modules/evidence/download.ts';
import { useExportDownloads } from './modules/exports/download.ts';
import { exportSigningKey } from './modules/exports/link.ts';
import { ensureContactPolicies } from './modules/policy/service.ts';
import { ensureDefaultDunningRules, ensureDefaultTemplates } from './modules/contact/templates.ts';
import { useDeliveryReceipts } from './modules/contact/webhooks.ts';
import { useInboundSms } from './modules/care/inbound.ts';
import type { AppDeps } from './context.ts';
import { createEventBus, type EventTransport } from './events/bus.ts';
import { LiveEvents, type LiveEventsOptions } from './events/live.ts';
import { useLiveEventStreams } from './events/sse.ts';
import { useReadiness } from './readiness.ts';
import { Metrics, useMetricsEndpoint } from './server/metrics.ts';
import { recordDenial } from './modules/audit/denials.ts';
import { JOB_REGISTRY } from './jobs/index.ts';
import { startTracing, type Tracing } from './server/tracing.ts';
import { newcomerGraphiQL } from './server/graphiql.ts';
import persistedDocuments from '../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { AddressLimiter, ANONYMOUS_REQUESTS, MemoryCostBuckets, RedisCostBuckets, type CostBuckets } from './server/rate-limit.ts';

export interface Runtime {
  config: Config;
  store: Store;
  secrets: Secrets;
  deps: AppDeps;
  authenticator: Authenticator;
  app: App;
  logger: Logger;
  events: LiveEvents;
  /** Shutdown, first step: open event streams end cleanly (clients reconnect and resume elsewhere). */
  beginShutdown(): void;
  metrics: Metrics;
  /** Set when tracing is on. */
  tracing: Tracing | undefined;
  close(): Promise<void>;
}

/**
 * Opens the store, applies pending migrations, makes sure the contact policies exist, and builds
 * the app. One path for the embedded store and PostgreSQL.
 */
export async function startRuntime(
  config: Config,
  options: {
    clock?: Clock;
    logger?: Logger;
    purpose?: string;
    store?: Store;
    secrets?: Secrets;
    migrate?: boolean;
    events?: EventTransport;
    liveEvents?: LiveEventsOptions;
    blobs?: BlobStore;
    /** Spans go to this exporter (an OpenTelemetry SpanExporter: tests) instead of OTEL_EXPORTER_OTLP_ENDPOINT. */
    spanExporter?: unknown;
  } = {},
): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // First, so that the migrations' and start-up's SQL is traced too.
  const tracing =
    config.otelEndpoint || options.spanExporter
      ? await startTracing({ serviceName: config.otelServiceName, ...(options.spanExporter ? { exporter: options.spanExporter } : {}) })
      : undefined;
  const secrets = options.secrets ?? loadSecrets(config);
  const store = options.store ?? (await openStore(config, options.purpose ?? 'server', (err) => logger.warn({ err }, 'a database connection dropped; the pool replaces it')));
  try {
    if (options.migrate !== false) {
      const { applied } = await applyMigrations(store.sql, { log: (m) => logger.info(m) });
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
    await ensureContactPolicies(store.prisma);
    await ensureDefaultTemplates(store.prisma);
    await ensureDefaultDunningRules(store.prisma);
  } catch (err) {
    await store.close();
    await tracing?.shutdown();
    throw err;
  }
  const clock = options.clock ?? systemClock;
  const transport = options.events ?? createEventBus(config.redisUrl, redisWarning(logger));
  const events = new LiveEvents({ sql: store.sql, clock, logger }, transport, options.liveEvents).start();
  const blobs = options.blobs ?? new FolderBlobStore(config.evidenceDir);
  if (blobs instanceof FolderBlobStore) await blobs.sweepStaging(clock.now());
  const evidenceKey = evidenceSigningKey(secrets.jwtSecret);
  const evidence = { blobs, maxBytes: config.evidenceMaxBytes, signingKey: evidenceKey, publicUrl: config.publicUrl };
  const deps: AppDeps = { prisma: store.prisma, clock, pii: new Pii(secrets.pii), logger, events, evidence };
  const authenticator = new Authenticator(store.prisma, clock, {
    jwtSecret: secrets.jwtSecret,
    jwksUrl: config.jwksUrl,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    maxTtlSeconds: config.jwtMaxTtlSeconds,
    onApiKeyFailure: ({ reason, prefix, apiKeyId, userId, clientAddress, requestId }) =>
      void recordDenial(deps, { kind: 'AUTH_FAILED_API_KEY', apiKeyId, userId, clientAddress, requestId: requestId ?? currentRequestId() ?? 'unknown', detail: { reason, prefix } }),
  });
  const metrics = new Metrics();
  const stopCounting = store.onQuery(() => metrics.sqlStatements.inc());
  metrics.attach({ sql: store.sql, clock, logger, jobNames: Object.keys(JOB_REGISTRY), ...(store.poolStats ? { pool: () => store.poolStats!() } : {}) });
  // Rate limits are shared by every instance through Redis when it is configured.
  const buckets: CostBuckets = config.redisUrl ? new RedisCostBuckets(config.redisUrl, logger) : new MemoryCostBuckets();
  const addresses = new AddressLimiter(config.redisUrl, { ...ANONYMOUS_REQUESTS, points: config.anonymousRequestsPerMinute });
  const app = createApp({
    deps,
    authenticator,
    production: config.production,
    buckets,
    addresses,
    executionTimeoutMs: config.executionTimeoutMs,
    userBudget: config.userCostBudget,
    maxResponseBytes: config.maxResponseBytes,
    trustProxy: config.trustProxy,
    ...(tracing ? { tracer: tracing.tracer } : {}),
    ...(config.production
      ? {}
      : {
          graphiql: newcomerGraphiQL({
            prisma: store.prisma,
            clock,
            jwtSecret: secrets.jwtSecret,
            demo: config.graphiqlDemo,
            tokenTtlSeconds: Math.min(3600, config.jwtMaxTtlSeconds),
          }),
        }),
    // Throttled principals go to the audit of denials; failed API keys are reported by the
    // authenticator itself (onApiKeyFailure, with the key's id and user), other failed
    // credentials only count against their address.
    onDenial: (d) => {
      if (d.kind !== 'THROTTLED') return;
      metrics.throttled.inc({ reason: d.userId ? 'budget' : 'address' });
      void recordDenial(deps, { kind: 'THROTTLED', userId: d.userId, apiKeyId: d.apiKeyId, clientAddress: d.clientAddress || null, requestId: d.requestId ?? 'unknown', detail: d.detail });
    },
    ping: () => store.ping(),
    maxRequestBodyBytes: config.evidenceMaxBytes + 1024 * 1024,
    corsOrigins: config.corsOrigins,
    // Before the gate: refusals of cost and budget (QUERY_TOO_COMPLEX, THROTTLED) are counted by code too.
    observers: [metrics.httpPlugin(), metrics.graphqlPlugin(Object.values(persistedDocuments as Record<string, string>))],
    plugins: [
      useReadiness({ store, blobs, events: transport, evidenceDir: config.evidenceDir, logger }),
      useLiveEventStreams(() => events),
      useMetricsEndpoint(metrics, config.metricsToken),
      useEvidenceDownloads({ prisma: store.prisma, clock, blobs, secret: evidenceKey, logger, requestId: currentRequestId }),
      useExportDownloads({ prisma: store.prisma, clock, logger, dir: config.exportsDir, key: exportSigningKey(evidenceKey), requestId: currentRequestId }),
      // The Arrears Console at /console/ (console/dist), with its demo sign-in outside production.
      useConsole({
        dir: config.consoleDir,
        production: config.production,
        clientAddress: (request, serverContext) => clientAddressOf(request, serverContext, config.trustProxy),
        ...(config.production
          ? {}
          : { demo: { prisma: store.prisma, clock, jwtSecret: secrets.jwtSecret, anyAddress: config.graphiqlDemo, tokenTtlSeconds: Math.min(3600, config.jwtMaxTtlSeconds) } }),
      }),
      ...(config.smsWebhookSecret ? [useDeliveryReceipts({ prisma: store.prisma, clock, secret: config.smsWebhookSecret, logger, events })] : []),
      // Debtors' replies (STOP, 退订…), signed like the delivery receipts, with the same secret.
      ...(config.smsWebhookSecret ? [useInboundSms({ prisma: store.prisma, clock, secret: config.smsWebhookSecret, logger, events })] : []),
    ],
  });
  return {
    config,
    store,
    secrets,
    deps,
    authenticator,
    app,
    logger,
    events,
    beginShutdown() {
      events.endStreams();
    },
    metrics,
    tracing,
    async close() {
      stopCounting();
      await Promise.allSettled([buckets.close(), addresses.close()]);
      await events.close();
      await store.close();
      await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing: spans not flushed'));
    },
  };
}

/** Redis warnings, at most one every 10 s (a Redis outage would otherwise log every retry). */
function redisWarning(logger: Logger): (err: Error) => void {
  let last = 0;
  let dropped = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < 10_000) {
      dropped++;
      return;
    }
    logger.warn({ err, repeated: dropped }, 'redis (live events) unavailable: events are kept in the outbox and relayed when it returns');
    last = now;
    dropped = 0;
  };
}

/**
 * Stops a serving process within `graceMs`: event streams end first (their responses end
 * normally), the server stops accepting and lets requests in flight finish, jobs stop between
 * batches, then the store closes.
 */
export async function shutdown(
  runtime: Runtime,
  server: { close(graceMs?: number): Promise<void>; server?: { closeIdleConnections(): void } },
  scheduler?: { stop(): Promise<void> } | null,
  graceMs = 10_000,
): Promise<void> {
  runtime.beginShutdown();
  // A keep-alive connection whose stream just ended is idle: closed now, not after keepAliveTimeout.
  const sweep = server.server ? setInterval(() => server.server!.closeIdleConnections(), 50) : undefined;
  try {
    await Promise.all([server.close(graceMs), scheduler?.stop()]);
  } finally {
    if (sweep) clearInterval(sweep);
  }
  await runtime.close();
}
