// /metrics after traffic: operations, durations and errors by operation and code (bounded labels),
// HTTP refusals, outbox backlog and the oldest due reminder, event relay lag, jobs, evidence bytes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/bootstrap.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { Pii } from '../../src/lib/pii.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { JobScheduler, type Job } from '../../src/jobs/index.ts';
import { createTestStore } from '../support/store.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';
import { TEST_NOW } from '../support/app.ts';

const TOKEN = 'metrics-token-0123456789';
const SECRET = 'test-secret-that-is-at-least-32-characters-long';
let runtime: Runtime;
let server: RunningServer;
let clock: FixedClock;
let s: Scenario;
let admin: string;

beforeAll(async () => {
  clock = new FixedClock(TEST_NOW);
  const store = await createTestStore();
  const config = loadConfig({ NODE_ENV: 'test', ARREARS_DATA_DIR: '/nonexistent-test-dir', ARREARS_METRICS_TOKEN: TOKEN, ARREARS_USER_COST_BUDGET: '100000000/10000000' });
  // The relay is off: unpublished outbox rows stay put while we measure their age.
  runtime = await startRuntime(config, {
    clock,
    store,
    secrets: { jwtSecret: SECRET, pii: Pii.randomKeys() },
    migrate: false,
    logger: createLogger('silent'),
    liveEvents: { relay: false },
  });
  server = await listen(runtime.app, '127.0.0.1', 0);
  s = await createPeople(store.prisma);
  admin = await signToken(SECRET, s.users.admin, { now: clock.now() });
});
afterAll(async () => {
  await server?.close(100);
  await runtime?.close();
});

async function post(body: unknown, token: string | null = admin): Promise<Response> {
  return fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function scrape(token: string | null = TOKEN): Promise<{ status: number; text: string }> {
  const r = await fetch(`${server.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, text: await r.text() };
}

/** The value of one sample, by its metric name and labels (all given labels must match). */
function sample(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric} `) && !line.startsWith(`${metric}{`)) continue;
    const given = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => given[k] === v)) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('/metrics over HTTP', () => {
  it('is refused without the scraper token, and answers with it', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('not-the-token-0123456789')).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/^# HELP arrears_graphql_operations_total/m);
  });

  it('counts operations and their duration by operation name, only names of the SDK’s documents', async () => {
    // An SDK document (its name is in the persisted manifest), a name of the client's own, and none.
    expect((await post({ query: 'query Viewer { viewer { user { id } } }' })).status).toBe(200);
    expect((await post({ query: 'query MySecretReport123 { viewer { user { id } } }' })).status).toBe(200);
    expect((await post({ query: '{ viewer { user { id } } }' })).status).toBe(200);
    const { text } = await scrape();
    expect(sample(text, 'arrears_graphql_operations_total', { operationName: 'Viewer', operationType: 'query' })).toBe(1);
    expect(sample(text, 'arrears_graphql_operations_total', { operationName: 'other', operationType: 'query' })).toBe(1);
    expect(sample(text, 'arrears_graphql_operations_total', { operationName: 'anonymous', operationType: 'query' })).toBe(1);
    expect(text).not.toContain('MySecretReport123');
    expect(sample(text, 'arrears_graphql_operation_duration_seconds_count', { operationName: 'Viewer' })).toBe(1);
    expect(sample(text, 'arrears_graphql_http_duration_seconds_count', { operationName: 'Viewer', statusCode: '200' })).toBe(1);
  });

  it('counts errors by code, and refusals before GraphQL by status', async () => {
    // Out of range: BAD_USER_INPUT (validation of the argument), and a field that does not exist.
    const big = await post({ query: 'query Big { cases(first: 1000) { totalCount } }' });
    expect(((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    await post({ query: '{ nope }' });
    // Over the cost limit: refused by the gate before execution, counted all the same.
    const costly = await post({ query: 'query Costly { cases(first: 100) { nodes { reminders(first: 100) { nodes { id } } visits(first: 100) { nodes { id } } } } }' });
    expect(((await costly.json()) as { errors: { extensions: { code: string; limit?: string } }[] }).errors[0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    const refused = await post({ query: '{ viewer { user { id } } }' }, null);
    expect(refused.status).toBe(401);
    const { text } = await scrape();
    expect(sample(text, 'arrears_graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'arrears_graphql_errors_total', { phase: 'validate', code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(sample(text, 'arrears_graphql_errors_total', { operationName: 'other', code: 'QUERY_TOO_COMPLEX' })).toBe(1);
    expect(sample(text, 'arrears_http_requests_total', { route: '/graphql', status: '401' })).toBe(1);
    expect(sample(text, 'arrears_http_requests_total', { route: '/graphql', status: '200' })).toBeGreaterThanOrEqual(5);
    // The scraper's own refusals are counted too.
    expect(sample(text, 'arrears_http_requests_total', { route: '/metrics', status: '401' })).toBe(2);
  });

  it('counts mutations’ user errors by operation and code', async () => {
    const taken = await post({
      query: 'mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code field message } } }',
      variables: { input: { email: 'admin@bank.example', fullName: 'Again', role: 'BANK_ADMIN' } },
    });
    const body = (await taken.json()) as { data: { createUser: { userErrors: { code: string }[] } } };
    const code = body.data.createUser.userErrors[0]!.code;
    expect(code).toBe('DUPLICATE');
    const { text } = await scrape();
    expect(sample(text, 'arrears_graphql_user_errors_total', { operationName: 'CreateUser', code })).toBe(1);
  });

  it('reports the reminder backlog, the oldest due reminder, the relay lag and the evidence stored', async () => {
    const prisma = runtime.store.prisma;
    const now = clock.now();
    const c = await createCase(prisma, runtime.deps.pii, { now });
    const mobile = await prisma.contactPoint.findFirstOrThrow({ where: { debtorId: c.debtorId } });
    const reminder = (minutesAgo: number, status: 'SCHEDULED' | 'SENT' = 'SCHEDULED') => ({
      caseId: c.id,
      contactPointId: mobile.id,
      channel: 'SMS' as const,
      language: 'ZH_CN' as const,
      status,
      idempotencyKey: randomUUID(),
      requestHash: 'h',
      scheduledAt: new Date(now.getTime() - minutesAgo * 60_000),
      nextAttemptAt: new Date(now.getTime() - minutesAgo * 60_000),
    });
    runtime.metrics.forgetFigures();
    const unpublished = sample((await scrape()).text, 'arrears_event_outbox_unpublished')!;
    // Two due (10 and 3 minutes overdue), one not yet due, one sent: the backlog is 2, the oldest 600 s.
    await prisma.reminder.createMany({ data: [reminder(10), reminder(3), reminder(-30), reminder(60, 'SENT')] });
    await prisma.eventOutbox.createMany({
      data: [
        { eventId: randomUUID(), caseId: c.id, createdAt: new Date(now.getTime() - 45_000) },
        { eventId: randomUUID(), caseId: c.id, createdAt: new Date(now.getTime() - 5_000) },
        { eventId: randomUUID(), caseId: c.id, createdAt: new Date(now.getTime() - 90_000), position: 1n, publishedAt: now },
      ],
    });
    const evidence = (sizeBytes: number) => ({ caseId: c.id, kind: 'PHOTO' as const, sha256: randomUUID(), sizeBytes, contentType: 'image/jpeg', fileName: 'a.jpg', uploadedAt: now });
    await prisma.evidence.createMany({ data: [evidence(1000), evidence(2345)] });
    runtime.metrics.forgetFigures();

    const { text } = await scrape();
    expect(sample(text, 'arrears_reminder_outbox_due')).toBe(2);
    expect(sample(text, 'arrears_reminder_outbox_oldest_due_seconds')).toBe(600);
    expect(sample(text, 'arrears_event_outbox_unpublished')).toBe(unpublished + 2);
    expect(sample(text, 'arrears_event_relay_lag_seconds')).toBe(45);
    expect(sample(text, 'arrears_evidence_stored_bytes')).toBe(3345);
    expect(sample(text, 'arrears_evidence_stored_files')).toBe(2);
  });

  it('caches the database figures for a few seconds: a burst of scrapes costs one read', async () => {
    runtime.metrics.forgetFigures();
    const before = (await scrape()).text;
    await runtime.store.prisma.eventOutbox.create({ data: { eventId: randomUUID(), caseId: randomUUID(), createdAt: clock.now() } });
    const after = (await scrape()).text;
    expect(sample(after, 'arrears_event_outbox_unpublished')).toBe(sample(before, 'arrears_event_outbox_unpublished'));
    runtime.metrics.forgetFigures();
    expect(sample((await scrape()).text, 'arrears_event_outbox_unpublished')).toBe(sample(before, 'arrears_event_outbox_unpublished')! + 1);
  });

  it('reports job runs, failures and the time since each job last succeeded', async () => {
    const ok: Job = { name: 'bucket-history', everyMs: 60_000, run: async () => ({ done: 1 }) };
    const broken: Job = { name: 'promise-checks', everyMs: 60_000, run: async () => Promise.reject(new Error('boom')) };
    const scheduler = new JobScheduler(runtime.deps, [ok, broken], { onRunFinished: (r) => runtime.metrics.recordJobRun(r) });
    expect((await scheduler.runOnce('bucket-history')).status).toBe('SUCCEEDED');
    expect((await scheduler.runOnce('promise-checks')).status).toBe('FAILED');
    clock.advance(90_000);
    runtime.metrics.forgetFigures();
    const { text } = await scrape();
    expect(sample(text, 'arrears_job_runs_total', { job: 'bucket-history', status: 'SUCCEEDED' })).toBe(1);
    expect(sample(text, 'arrears_job_runs_total', { job: 'promise-checks', status: 'FAILED' })).toBe(1);
    expect(sample(text, 'arrears_job_seconds_since_last_success', { job: 'bucket-history' })).toBe(90);
    // Never succeeded: no sample (an alert on absence, not a fake age).
    expect(sample(text, 'arrears_job_seconds_since_last_success', { job: 'promise-checks' })).toBeUndefined();
    expect(sample(text, 'arrears_job_last_success_timestamp_seconds', { job: 'bucket-history' })).toBe(Date.parse(TEST_NOW) / 1000);
  });

  it('reports the PostgreSQL pool (absent on the embedded store)', async () => {
    const { text } = await scrape();
    if (runtime.store.kind === 'postgres') {
      expect(sample(text, 'arrears_db_pool_connections', { state: 'max' })).toBe(5);
      expect(sample(text, 'arrears_db_pool_connections', { state: 'in_use' })).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'arrears_db_pool_waiting')).toBe(0);
    } else {
      expect(sample(text, 'arrears_db_pool_connections')).toBeUndefined();
      expect(sample(text, 'arrears_db_pool_waiting')).toBeUndefined();
    }
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('loads no SDK: no tracer on the app, no Prisma tracing helper', () => {
    expect(runtime.tracing).toBeUndefined();
    expect(runtime.app.tracer).toBeUndefined();
    expect((globalThis as Record<string, unknown>)['PRISMA_INSTRUMENTATION']).toBeUndefined();
  });

  it('reads the OpenTelemetry settings', () => {
    const base = { NODE_ENV: 'test', ARREARS_DATA_DIR: '/nonexistent-test-dir' };
    expect(loadConfig(base).otelEndpoint).toBeUndefined();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otelEndpoint).toBe('http://collector:4318');
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).otelEndpoint).toBeUndefined();
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' })).toThrow(/OTLP over HTTP/);
  });
});
