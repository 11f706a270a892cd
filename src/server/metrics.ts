import { timingSafeEqual } from 'node:crypto';
import { GraphQLError, Kind, getOperationAST, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createCounter, createHistogram, usePrometheus, type FillLabelsFnParams } from '@graphql-yoga/plugin-prometheus';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SqlRunner } from '../db/sql.ts';
import type { Clock } from '../lib/time.ts';
import type { Logger } from '../lib/logger.ts';

/** What the scrape reads from the database: cheap queries, cached for a few seconds. */
export interface MetricsSources {
  sql: SqlRunner;
  clock: Clock;
  logger: Logger;
  /** The periodic jobs by name: their last success is looked up one indexed row each. */
  jobNames: string[];
  /** PostgreSQL only: the application pool's connections (node-postgres counts). */
  pool?: () => { total: number; idle: number; waiting: number; max: number };
}

/** Queue figures are fresh within this long; the evidence sum (a table scan) within EVIDENCE_TTL_MS. */
const QUEUE_TTL_MS = 5_000;
const EVIDENCE_TTL_MS = 60_000;

/** An operation name as a label: only names of the SDK's documents, else 'other' (or 'anonymous'). */
export function operationLabeller(knownDocuments: Iterable<string>): (name: string | undefined | null) => string {
  const known = new Set<string>();
  for (const text of knownDocuments) {
    try {
      for (const def of parse(text).definitions) {
        if (def.kind === Kind.OPERATION_DEFINITION && def.name) known.add(def.name.value);
      }
    } catch {
      // not a document: no name from it
    }
  }
  // The Prometheus plugin names an unnamed operation 'Anonymous'.
  return (name) => (!name || name === 'Anonymous' ? 'anonymous' : known.has(name) ? name : 'other');
}

/** An error's code as a label: the codes of API.md are upper-case words; anything else is one bucket. */
function errorCode(error: unknown, phase: string): string {
  const code = error instanceof GraphQLError ? error.extensions['code'] : undefined;
  if (typeof code === 'string' && /^[A-Z][A-Z_]{1,39}$/.test(code)) return code;
  if (phase === 'parse') return 'GRAPHQL_PARSE_FAILED';
  if (phase === 'validate') return 'GRAPHQL_VALIDATION_FAILED';
  return 'INTERNAL_SERVER_ERROR';
}

/** The routes of this server, as a label (any other path is 'other'). */
function routeOf(pathname: string): string {
  if (pathname.startsWith('/evidence/')) return '/evidence';
  return ['/graphql', '/healthz', '/readyz', '/metrics', '/webhooks/delivery', '/graphiql/sign-in'].includes(pathname) ? pathname : 'other';
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics (prom-client): the process's own (CPU, memory, event loop, GC), GraphQL
 * operations through Yoga's Prometheus plugin, and what Arrears itself counts. Served at /metrics
 * in the Prometheus text format to a scraper that sends `Authorization: Bearer
 * <ARREARS_METRICS_TOKEN>`; without that setting the endpoint does not exist. Every label has a
 * bounded set of values: operation names come from the SDK's documents, codes from API.md, jobs
 * from the job registry, routes from this server's own.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly sqlStatements = new Counter({ name: 'arrears_sql_statements_total', help: 'SQL statements sent to the database', registers: [this.registry] });
  readonly throttled = new Counter({
    name: 'arrears_throttled_requests_total',
    help: 'Requests refused with 429: over a principal’s cost budget, or from an address without valid credentials',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'arrears_http_requests_total',
    help: 'HTTP requests answered, by route and status (refusals before GraphQL included: 401, 429)',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  });
  readonly userErrors = new Counter({
    name: 'arrears_graphql_user_errors_total',
    help: 'Expected refusals of mutations (payload userErrors), by operation and UserErrorCode',
    labelNames: ['operationName', 'code'],
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'arrears_job_runs_total',
    help: 'Job runs started by this process, by job and outcome (SUCCEEDED, FAILED)',
    labelNames: ['job', 'status'],
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'arrears_job_duration_seconds',
    help: 'How long the job runs of this process took',
    labelNames: ['job'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [this.registry],
  });

  private sources: MetricsSources | undefined;
  private queue: Promise<QueueFigures> | undefined;
  private queueAt = 0;
  private evidence: Promise<{ bytes: number; files: number }> | undefined;
  private evidenceAt = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'arrears_' });
    const self = this;
    const fromQueue = (name: string, help: string, pick: (q: QueueFigures) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const q = await self.queueFigures();
          if (q) this.set(pick(q));
        },
      });
    fromQueue('arrears_reminder_outbox_due', 'Reminders due and not yet sent: SCHEDULED whose time has come, or SENDING', (q) => q.remindersDue);
    fromQueue('arrears_reminder_outbox_oldest_due_seconds', 'How long the oldest due, unsent reminder has waited (0: none)', (q) => q.oldestReminderSeconds);
    fromQueue('arrears_event_outbox_unpublished', 'Case events committed and not yet published to live streams', (q) => q.eventsUnpublished);
    fromQueue('arrears_event_relay_lag_seconds', 'Age of the oldest case event not yet published (0: none)', (q) => q.relayLagSeconds);
    new Gauge({
      name: 'arrears_job_last_success_timestamp_seconds',
      help: 'When each job last succeeded, on any instance (Unix seconds); absent: never',
      labelNames: ['job'],
      registers: [this.registry],
      async collect() {
        const q = await self.queueFigures();
        this.reset();
        for (const [job, at] of q?.lastSuccess ?? []) this.set({ job }, at / 1000);
      },
    });
    new Gauge({
      name: 'arrears_job_seconds_since_last_success',
      help: 'Seconds since each job last succeeded, on any instance; absent: never',
      labelNames: ['job'],
      registers: [this.registry],
      async collect() {
        const q = await self.queueFigures();
        this.reset();
        for (const [job, at] of q?.lastSuccess ?? []) this.set({ job }, Math.max(0, (q!.at - at) / 1000));
      },
    });
    const fromEvidence = (name: string, help: string, pick: (e: { bytes: number; files: number }) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const e = await self.evidenceFigures();
          if (e) this.set(pick(e));
        },
      });
    fromEvidence('arrears_evidence_stored_bytes', 'Bytes of evidence files recorded (every version kept)', (e) => e.bytes);
    fromEvidence('arrears_evidence_stored_files', 'Evidence files recorded', (e) => e.files);
    new Gauge({
      name: 'arrears_db_pool_connections',
      help: 'PostgreSQL pool connections by state (in_use, idle) and the pool size (max); absent on the embedded store',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const p = self.sources?.pool?.();
        if (!p) return;
        this.set({ state: 'in_use' }, p.total - p.idle);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'max' }, p.max);
      },
    });
  }

  /** The database behind the scrape-time figures (queues, jobs, evidence, pool). */
  attach(sources: MetricsSources): void {
    this.sources = sources;
    const pool = sources.pool;
    // Only on PostgreSQL: a gauge without labels would otherwise read 0 on the embedded store.
    if (pool && !this.registry.getSingleMetric('arrears_db_pool_waiting')) {
      new Gauge({
        name: 'arrears_db_pool_waiting',
        help: 'Queries waiting for a free PostgreSQL pool connection',
        registers: [this.registry],
        collect() {
          this.set(pool().waiting);
        },
      });
    }
  }

  /** The next scrape reads the database again (tests; the cache otherwise lasts a few seconds). */
  forgetFigures(): void {
    this.queue = undefined;
    this.evidence = undefined;
  }

  /** A job run of this process ended (the scheduler reports it). */
  recordJobRun(result: { name: string; status: string; startedAt?: Date; finishedAt?: Date }): void {
    if (result.status !== 'SUCCEEDED' && result.status !== 'FAILED') return;
    this.jobRuns.inc({ job: result.name, status: result.status });
    if (result.startedAt && result.finishedAt) this.jobDuration.observe({ job: result.name }, (result.finishedAt.getTime() - result.startedAt.getTime()) / 1000);
  }

  /** Yoga's Prometheus plugin on our registry: operations, durations and errors by operation and code. */
  graphqlPlugin(knownDocuments: Iterable<string>): Plugin {
    const operation = operationLabeller(knownDocuments);
    const labels = (p: FillLabelsFnParams) => ({ operationName: operation(p.operationName), operationType: p.operationType ?? 'unknown' });
    const registry = this.registry;
    const userErrors = this.userErrors;
    const prometheus = usePrometheus({
      registry: this.registry,
      endpoint: false, // served by useMetricsEndpoint, behind its token
      skipIntrospection: true,
      metrics: {
        graphql_envelop_request: createCounter({
          registry,
          counter: { name: 'arrears_graphql_operations_total', help: 'GraphQL operations executed, by operation', labelNames: ['operationName', 'operationType'] },
          fillLabelsFn: labels,
        }),
        graphql_envelop_request_duration: createHistogram({
          registry,
          histogram: {
            name: 'arrears_graphql_operation_duration_seconds',
            help: 'Time to execute a GraphQL operation, by operation',
            labelNames: ['operationName', 'operationType'],
            buckets: DURATION_BUCKETS,
          },
          fillLabelsFn: labels,
        }),
        graphql_envelop_error_result: createCounter({
          registry,
          counter: {
            name: 'arrears_graphql_errors_total',
            help: 'Errors in GraphQL results, by operation, phase and code (extensions.code)',
            labelNames: ['operationName', 'operationType', 'phase', 'code'],
          },
          fillLabelsFn: (p) => ({ ...labels(p), phase: p.errorPhase ?? 'execute', code: errorCode(p.error, p.errorPhase ?? 'execute') }),
        }),
        graphql_yoga_http_duration: createHistogram({
          registry,
          histogram: {
            name: 'arrears_graphql_http_duration_seconds',
            help: 'Time from a GraphQL request’s arrival to its response, by operation and status',
            labelNames: ['operationName', 'operationType', 'statusCode'],
            buckets: DURATION_BUCKETS,
          },
          fillLabelsFn: (p, ctx: { response?: Response }) => ({ ...labels(p), statusCode: String(ctx.response?.status ?? 0) }),
        }),
        graphql_envelop_request_time_summary: false,
        graphql_envelop_phase_parse: false,
        graphql_envelop_phase_validate: false,
        graphql_envelop_phase_context: false,
        graphql_envelop_phase_execute: false,
        graphql_envelop_phase_subscribe: false,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
        graphql_envelop_execute_resolver: false,
      },
    }) as Plugin;
    return {
      onPluginInit({ addPlugin }) {
        addPlugin(prometheus);
      },
      // Mutations' userErrors (API.md): read from the payloads the client asked for with their code.
      onExecute({ args }) {
        const op = getOperationAST(args.document, args.operationName);
        if (op?.operation !== 'mutation') return;
        const operationName = operation(op.name?.value);
        return {
          onExecuteDone({ result }) {
            if (!result || Symbol.asyncIterator in (result as object)) return;
            const data = (result as { data?: Record<string, unknown> | null }).data;
            for (const payload of Object.values(data ?? {})) {
              const list = (payload as { userErrors?: unknown } | null)?.userErrors;
              if (!Array.isArray(list)) continue;
              for (const e of list) {
                const code = (e as { code?: unknown } | null)?.code;
                userErrors.inc({ operationName, code: typeof code === 'string' && /^[A-Z][A-Z_]{1,39}$/.test(code) ? code : 'unknown' });
              }
            }
          },
        };
      },
    };
  }

  /** Counts every HTTP response by route and status, refusals before GraphQL included. */
  httpPlugin(): Plugin {
    return {
      onResponse: ({ request, response }) => {
        this.httpRequests.inc({ route: routeOf(new URL(request.url).pathname), status: String(response.status) });
      },
    };
  }

  private queueFigures(): Promise<QueueFigures | undefined> {
    const s = this.sources;
    if (!s) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.queue || now - this.queueAt > QUEUE_TTL_MS) {
      this.queueAt = now;
      this.queue = readQueueFigures(s).catch((err: unknown) => {
        s.logger.warn({ err }, 'metrics: queue figures not read');
        this.queue = undefined;
        throw err;
      });
    }
    return this.queue.catch(() => undefined);
  }

  private evidenceFigures(): Promise<{ bytes: number; files: number } | undefined> {
    const s = this.sources;
    if (!s) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.evidence || now - this.evidenceAt > EVIDENCE_TTL_MS) {
      this.evidenceAt = now;
      this.evidence = s.sql
        .query<{ bytes: string; files: string }>(`SELECT coalesce(sum("sizeBytes"), 0)::text AS bytes, count(*)::text AS files FROM "Evidence"`)
        .then(([r]) => ({ bytes: Number(r?.bytes ?? 0), files: Number(r?.files ?? 0) }))
        .catch((err: unknown) => {
          s.logger.warn({ err }, 'metrics: evidence figures not read');
          this.evidence = undefined;
          throw err;
        });
    }
    return this.evidence.catch(() => undefined);
  }
}

interface QueueFigures {
  /** The clock's time when read (ms). */
  at: number;
  remindersDue: number;
  oldestReminderSeconds: number;
  eventsUnpublished: number;
  relayLagSeconds: number;
  /** Job name → time of its last success (ms). */
  lastSuccess: Map<string, number>;
}

/**
 * One statement: due reminders (the dispatcher's own index, status + nextAttemptAt), unpublished
 * outbox rows (few: published rows are the many), and each job's latest success (its index on
 * name + startedAt, read backwards).
 */
async function readQueueFigures(s: MetricsSources): Promise<QueueFigures> {
  const at = s.clock.now();
  const [row] = await s.sql.query<{ due: string; oldest_due: string | Date | null; unpublished: string; oldest_event: string | Date | null; jobs: { job: string; at: string }[] | string | null }>(
    `SELECT
       (SELECT count(*) FROM "Reminder" WHERE (status = 'SCHEDULED' AND "nextAttemptAt" <= $1::timestamptz) OR status = 'SENDING')::text AS due,
       (SELECT min("nextAttemptAt") FROM "Reminder" WHERE status = 'SCHEDULED' AND "nextAttemptAt" <= $1::timestamptz) AS oldest_due,
       (SELECT count(*) FROM "EventOutbox" WHERE "publishedAt" IS NULL)::text AS unpublished,
       (SELECT min("createdAt") FROM "EventOutbox" WHERE "publishedAt" IS NULL) AS oldest_event,
       (SELECT json_agg(json_build_object('job', j.name, 'at', r."finishedAt"))
          FROM unnest($2::text[]) AS j(name)
          CROSS JOIN LATERAL (SELECT "finishedAt" FROM "JobRun" WHERE name = j.name AND status = 'SUCCEEDED' AND "finishedAt" IS NOT NULL
                              ORDER BY "startedAt" DESC LIMIT 1) r) AS jobs`,
    [at.toISOString(), s.jobNames],
  );
  const ms = (v: string | Date | null | undefined) => (v == null ? undefined : new Date(v).getTime());
  const since = (v: string | Date | null | undefined) => {
    const t = ms(v);
    return t === undefined ? 0 : Math.max(0, (at.getTime() - t) / 1000);
  };
  const jobs = typeof row?.jobs === 'string' ? (JSON.parse(row.jobs) as { job: string; at: string }[]) : (row?.jobs ?? []);
  return {
    at: at.getTime(),
    remindersDue: Number(row?.due ?? 0),
    oldestReminderSeconds: since(row?.oldest_due),
    eventsUnpublished: Number(row?.unpublished ?? 0),
    relayLagSeconds: since(row?.oldest_event),
    lastSuccess: new Map(jobs.map((j) => [j.job, new Date(j.at).getTime()])),
  };
}

export function useMetricsEndpoint(metrics: Metrics, token: string | undefined): Plugin {
  const expected = token ? Buffer.from(`Bearer ${token}`) : null;
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics') return;
      const given = Buffer.from(request.headers.get('authorization') ?? '');
      if (!expected) return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return endResponse(new fetchAPI.Response('Unauthorized', { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }));
      }
      endResponse(new fetchAPI.Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }));
    },
  };
}
