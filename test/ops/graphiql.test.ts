// GraphiQL for newcomers (outside production): a sign-in box for demo users that fills the
// Authorization header, the docs pane without a token (introspection only, this machine or
// ARREARS_GRAPHIQL_DEMO), a first tab that runs; production unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { FIRST_QUERY, isLoopback } from '../../src/server/graphiql.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import persistedDocuments from '../../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let server: RunningServer;
let s: Scenario;

beforeAll(async () => {
  t = await createTestApp();
  server = await listen(t.runtime.app, '127.0.0.1', 0);
  s = await createPeople(t.prisma);
  await t.prisma.user.create({ data: { email: 'real.person@bank.example', fullName: 'Real Person', role: 'BANK_ADMIN' } });
});
afterAll(async () => {
  await server?.close(100);
  await t?.close();
});

const page = async (base: string, query = '', fetcher: (r: Request) => Promise<Response> = fetch) => {
  const r = await fetcher(new Request(`${base}/graphql${query}`, { headers: { accept: 'text/html' } }));
  return { status: r.status, headers: r.headers, html: await r.text() };
};
const tokenIn = (html: string) => /Bearer (ey[\w-]+\.[\w-]+\.[\w-]+)/.exec(html)?.[1];

async function post(base: string, body: unknown, token?: string, fetcher: (r: Request) => Promise<Response> = fetch) {
  const r = await fetcher(
    new Request(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }),
  );
  return { status: r.status, body: (await r.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('GraphiQL on this machine (loopback)', () => {
  it('offers the demo users, and only them, in a sign-in box; the first tab holds an example query', async () => {
    const p = await page(server.url);
    expect(p.status).toBe(200);
    expect(p.html).toContain('id="arrears-sign-in"');
    expect(p.html).toContain('agent@north.example (AGENCY_COLLECTOR)');
    expect(p.html).toContain('admin@bank.example (BANK_ADMIN)');
    expect(p.html).not.toContain('real.person@bank.example');
    expect(p.html).toContain('query FirstLook');
    expect(tokenIn(p.html)).toBeUndefined(); // nobody signed in yet
    // The page may hold a token: never framed, cached or referred.
    expect(p.headers.get('x-frame-options')).toBe('DENY');
    expect(p.headers.get('cache-control')).toBe('no-store');
  });

  it('signing in fills the Authorization header with a working token for that user, and the first query runs', async () => {
    const p = await page(server.url, '?as=agent@north.example');
    expect(p.html).toMatch(/<option value="agent@north.example" selected>/);
    const token = tokenIn(p.html)!;
    expect(token).toBeDefined();
    const me = await post(server.url, { query: '{ viewer { user { email role } } }' }, token);
    expect(me.body.data.viewer.user).toEqual({ email: 'agent@north.example', role: 'AGENCY_COLLECTOR' });
    const first = await post(server.url, { query: FIRST_QUERY }, token);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.viewer.user.agency.name).toBe('North Recovery');
    expect(first.body.data.cases.totalCount).toBe(0);
  });

  it('never signs in as an account outside the demo set', async () => {
    const p = await page(server.url, '?as=real.person@bank.example');
    expect(tokenIn(p.html)).toBeUndefined();
  });

  it('answers an introspection without a token (the docs pane), and nothing else', async () => {
    const intro = await post(server.url, { query: getIntrospectionQuery(), operationName: 'IntrospectionQuery' });
    expect(intro.status).toBe(200);
    expect(intro.body.data.__schema.queryType.name).toBe('Query');
    expect((await post(server.url, { query: '{ __type(name: "Case") { fields { name } } }' })).body.data.__type.fields.length).toBeGreaterThan(5);

    const refused = [
      '{ cases(first: 1) { totalCount } }',
      '{ __schema { queryType { name } } cases(first: 1) { totalCount } }',
      'query { ...Q } fragment Q on Query { cases(first: 1) { totalCount } }',
      'query { ... on Query { viewer { user { email } } } }',
      'mutation { __typename }',
      '{ a: __typename b: __typename c: __typename d: __typename }',
    ];
    for (const query of refused) {
      const r = await post(server.url, { query });
      expect(r.status, query).toBe(401);
      expect(r.body.errors?.[0]?.extensions?.code, query).toBe('UNAUTHENTICATED');
      expect(r.body.data ?? null, query).toBeNull();
    }
    // A persisted document by id is not an introspection either: refused (an unknown id: not found).
    const viewerDoc = Object.entries(persistedDocuments as Record<string, string>).find(([, text]) => text.startsWith('query Viewer'))![0];
    expect((await post(server.url, { documentId: viewerDoc })).status).toBe(401);
    const unknown = await post(server.url, { documentId: 'sha256:0000' });
    expect(unknown.body.data ?? null).toBeNull();
    expect(unknown.body.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|BAD_USER_INPUT/);
    // A bad token is still refused, introspection or not.
    expect((await post(server.url, { query: '{ __typename }' }, 'ey.bad.token')).status).toBe(401);
  });
});

describe('GraphiQL from another machine', () => {
  it('without ARREARS_GRAPHIQL_DEMO: no sign-in box and no anonymous introspection (an in-process call has no loopback address either)', async () => {
    const fetcher = (r: Request) => t.runtime.app.fetch(r);
    const p = await page('http://arrears.test', '?as=admin@bank.example', fetcher);
    expect(p.status).toBe(200);
    expect(p.html).not.toContain('arrears-sign-in');
    expect(tokenIn(p.html)).toBeUndefined();
    expect((await post('http://arrears.test', { query: getIntrospectionQuery() }, undefined, fetcher)).status).toBe(401);
    expect(isLoopback('10.0.0.7')).toBe(false);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
  });

  it('with ARREARS_GRAPHIQL_DEMO=on: the helpers answer any address, within the anonymous budget', async () => {
    const demo = await createTestApp({ env: { ARREARS_GRAPHIQL_DEMO: 'on', ARREARS_ANONYMOUS_REQUESTS_PER_MINUTE: '3' } });
    try {
      await createPeople(demo.prisma);
      const fetcher = (r: Request) => demo.runtime.app.fetch(r);
      const p = await page('http://arrears.test', '?as=supervisor@bank.example', fetcher);
      expect(p.html).toContain('arrears-sign-in');
      expect(tokenIn(p.html)).toBeDefined();
      for (let i = 0; i < 3; i++) expect((await post('http://arrears.test', { query: '{ __schema { queryType { name } } }' }, undefined, fetcher)).status).toBe(200);
      const over = await post('http://arrears.test', { query: '{ __schema { queryType { name } } }' }, undefined, fetcher);
      expect(over.status).toBe(429);
      expect(over.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
    } finally {
      await demo.close();
    }
  });
});

describe('production is unchanged', () => {
  it('refuses ARREARS_GRAPHIQL_DEMO with NODE_ENV=production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ARREARS_GRAPHIQL_DEMO: 'on' })).toThrow(ConfigError);
  });

  it('no page, no sign-in, no introspection without a token, even from this machine', async () => {
    const prod = await createTestApp({ env: { NODE_ENV: 'production', ARREARS_DATA_DIR: '/nonexistent-test-dir' } });
    const prodServer = await listen(prod.runtime.app, '127.0.0.1', 0);
    try {
      await createPeople(prod.prisma);
      expect((await page(prodServer.url)).status).toBe(401);
      const signIn = await page(prodServer.url, '?as=admin@bank.example');
      expect(signIn.status).toBe(401);
      expect(tokenIn(signIn.html)).toBeUndefined();
      const intro = await post(prodServer.url, { query: getIntrospectionQuery() });
      expect(intro.status).toBe(401);
      expect(intro.body.data ?? null).toBeNull();
    } finally {
      await prodServer.close(100);
      await prod.close();
    }
  });
});
