// /metrics: Prometheus text, behind its own bearer token, counting what the benchmarks read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';

const TOKEN = 'metrics-token-0123456789';
let t: TestApp;
let s: Scenario;

beforeAll(async () => {
  t = await createTestApp({ env: { ARREARS_METRICS_TOKEN: TOKEN } });
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const scrape = (token?: string) =>
  t.runtime.app.fetch(new Request('http://arrears.test/metrics', { headers: token ? { authorization: `Bearer ${token}` } : {} }));

function value(text: string, metric: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `) || l.startsWith(`${metric}{`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

describe('/metrics', () => {
  it('answers the scraper with its token only', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('wrong-token-0123456789')).status).toBe(401);
    const ok = await scrape(TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await ok.text()).toMatch(/arrears_process_cpu_user_seconds_total/);
  });

  it('counts the SQL statements that requests cost', async () => {
    const before = value(await (await scrape(TOKEN)).text(), 'arrears_sql_statements_total');
    const admin = await t.token(s.users.admin);
    for (let i = 0; i < 3; i++) expect((await t.gql(admin, '{ cases(first: 5) { nodes { number } } }')).errors).toBeUndefined();
    const after = value(await (await scrape(TOKEN)).text(), 'arrears_sql_statements_total');
    // Each request: the principal, then one statement for the page.
    expect(after - before).toBe(6);
  });

  it('does not exist without ARREARS_METRICS_TOKEN', async () => {
    const plain = await createTestApp();
    try {
      expect((await plain.runtime.app.fetch(new Request('http://arrears.test/metrics'))).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
