// Tracing: spans for the request (continuing the caller's trace, carrying the request id), the
// operation, its root fields, Prisma's SQL and job runs, exported to an in-memory exporter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/bootstrap.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { Pii } from '../../src/lib/pii.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { JobScheduler } from '../../src/jobs/index.ts';
import { createTestStore } from '../support/store.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { TEST_NOW } from '../support/app.ts';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';
const exporter = new InMemorySpanExporter();
let runtime: Runtime;
let server: RunningServer;
let clock: FixedClock;
let s: Scenario;
let admin: string;

beforeAll(async () => {
  clock = new FixedClock(TEST_NOW);
  const config = loadConfig({ NODE_ENV: 'test', ARREARS_DATA_DIR: '/nonexistent-test-dir', ARREARS_USER_COST_BUDGET: '100000000/10000000' });
  runtime = await startRuntime(config, {
    clock,
    store: await createTestStore(),
    secrets: { jwtSecret: SECRET, pii: Pii.randomKeys() },
    migrate: false,
    logger: createLogger('silent'),
    spanExporter: exporter,
  });
  server = await listen(runtime.app, '127.0.0.1', 0);
  s = await createPeople(runtime.store.prisma);
  admin = await signToken(SECRET, s.users.admin, { now: clock.now() });
});
afterAll(async () => {
  await server?.close(100);
  await runtime?.close();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** Is `span` beneath `ancestor` (through parents among `all`)? */
function beneath(span: ReadableSpan, ancestor: ReadableSpan, all: ReadableSpan[]): boolean {
  let at: ReadableSpan | undefined = span;
  while (at) {
    if (parentOf(at) === idOf(ancestor)) return true;
    at = all.find((x) => idOf(x) === parentOf(at!));
  }
  return false;
}

async function settle(): Promise<ReadableSpan[]> {
  // The request span ends when the socket's response closes: a tick after the body arrives.
  for (let i = 0; i < 50 && !exporter.getFinishedSpans().some((x) => x.name === 'POST /graphql'); i++) await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}

describe('tracing with OTEL on', () => {
  it('traces a request: server span with the request id, operation, root field and SQL, in the caller’s trace', async () => {
    exporter.reset();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${admin}`,
        'x-request-id': 'req-trace-0001',
        traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ query: 'query Queue { cases(first: 3) { totalCount nodes { number } } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-trace-0001');
    await response.text();
    const spans = await settle();

    const request = spans.find((x) => x.name === 'POST /graphql')!;
    expect(request).toBeDefined();
    expect(request.spanContext().traceId).toBe(TRACE_ID);
    expect(request.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(request.attributes['arrears.request_id']).toBe('req-trace-0001');
    expect(request.attributes['http.response.status_code']).toBe(200);

    const operation = spans.find((x) => x.name === 'query Queue')!;
    expect(operation.attributes['graphql.operation.name']).toBe('Queue');
    expect(parentOf(operation)).toBe(idOf(request));

    const field = spans.find((x) => x.name === 'Query.cases')!;
    expect(beneath(field, operation, spans)).toBe(true);

    // Prisma's spans (its operation and the SQL it sent) sit beneath the field that asked.
    const sql = spans.filter((x) => x.name.startsWith('prisma:'));
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.some((x) => beneath(x, field, spans))).toBe(true);
    expect(spans.some((x) => x.name === 'prisma:client:db_query' && String(x.attributes['db.query.text'] ?? '').includes('"Case"'))).toBe(true);
    expect(new Set(spans.map((x) => x.spanContext().traceId))).toEqual(new Set([TRACE_ID]));
    // No document text or variables in any span.
    expect(JSON.stringify(spans.map((x) => x.attributes))).not.toContain('totalCount');
  });

  it('marks an operation with errors with their codes', async () => {
    exporter.reset();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: 'query Big { cases(first: 1000) { totalCount } }' }),
    });
    await response.text();
    const spans = await settle();
    const request = spans.find((x) => x.name === 'POST /graphql')!;
    // A request id is made when the client sent none, and is the one the response carries.
    expect(request.attributes['arrears.request_id']).toBe(response.headers.get('x-request-id'));
    const op = spans.find((x) => x.name === 'query Big');
    expect(op!.attributes['graphql.error.codes']).toContain('BAD_USER_INPUT');
  });

  it('traces a job run, with its SQL beneath it', async () => {
    exporter.reset();
    const scheduler = new JobScheduler(runtime.deps, [{ name: 'bucket-history', everyMs: 60_000, run: async ({ prisma }) => ({ cases: await prisma.case.count() }) }]);
    expect((await scheduler.runOnce('bucket-history')).status).toBe('SUCCEEDED');
    const spans = exporter.getFinishedSpans();
    const job = spans.find((x) => x.name === 'job bucket-history')!;
    expect(job.attributes['arrears.job.status']).toBe('SUCCEEDED');
    expect(spans.some((x) => x.name.startsWith('prisma:') && beneath(x, job, spans))).toBe(true);
  });

  it('traces requests through the Fetch handler too (tests, embedding)', async () => {
    exporter.reset();
    const r = await runtime.app.fetch(new Request('http://arrears.test/healthz'));
    expect(r.status).toBe(200);
    const span = exporter.getFinishedSpans().find((x) => x.name === 'GET /healthz')!;
    expect(span.attributes['arrears.request_id']).toBe(r.headers.get('x-request-id'));
  });
});
