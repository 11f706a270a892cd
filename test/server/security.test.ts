// The edge as an attacker meets it: trusted documents for partners' keys, introspection and field
// suggestions by role, nothing learned without credentials, CORS by allow-list, CSRF on uploads,
// a cap on connections per address, an execution timeout and a response ceiling.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createYoga, createSchema } from 'graphql-yoga';
import { getIntrospectionQuery } from 'graphql';
import persistedDocuments from '../../sdk/src/generated/persisted-documents.json' with { type: 'json' };
import { listen } from '../../src/server.ts';
import { useGuard } from '../../src/server/guard.ts';
import { AddressLimiter, MemoryCostBuckets } from '../../src/server/rate-limit.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { viewerOf } from '../../src/auth/viewer.ts';
import type { Authenticator } from '../../src/auth/tokens.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';

let t: TestApp;
let s: Scenario;
let admin: string;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
  admin = await t.token(s.users.admin);
});
afterAll(async () => t?.close());

async function post(app: TestApp, token: string | null, body: unknown, headers: Record<string, string> = {}) {
  const response = await app.runtime.app.fetch(
    new Request('http://arrears.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const ISSUE = /* GraphQL */ `
  mutation($input: IssueApiKeyInput!) { issueApiKey(input: $input) { secret apiKey { persistedOnly } userErrors { code } } }
`;

describe('trusted documents for partners’ keys', () => {
  const viewerDoc = Object.entries(persistedDocuments as Record<string, string>).find(([, text]) => /query Viewer\b/.test(text))!;

  it('a key is persisted-only by default: it runs the SDK’s documents by hash and nothing else', async () => {
    const issued = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', s.users.northManager.id), name: 'north system' } });
    expect(issued.data.issueApiKey.apiKey.persistedOnly).toBe(true);
    const key = issued.data.issueApiKey.secret as string;

    const text = await post(t, key, { query: '{ viewer { user { id } } }' });
    expect(text.body.errors[0].extensions.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect(text.body.data ?? null).toBeNull();
    // Even the exact text of an SDK document: the key must name it by its hash.
    const sameText = await post(t, key, { query: viewerDoc[1] });
    expect(sameText.body.errors[0].extensions.code).toBe('PERSISTED_DOCUMENT_REQUIRED');

    const byHash = await post(t, key, { documentId: viewerDoc[0] });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data.viewer.role).toBe('AGENCY_MANAGER');

    const unknown = await post(t, key, { documentId: 'sha256:' + '0'.repeat(64) });
    expect(unknown.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'documentId' });
  });

  it('a key issued with persistedOnly: false, and a bank user’s token, run any document', async () => {
    const issued = await t.gql(admin, ISSUE, { input: { userId: encodeGlobalID('User', s.users.northManager.id), name: 'north tools', persistedOnly: false } });
    expect(issued.data.issueApiKey.apiKey.persistedOnly).toBe(false);
    const any = await post(t, issued.data.issueApiKey.secret, { query: '{ viewer { role } }' });
    expect(any.body.data.viewer.role).toBe('AGENCY_MANAGER');
    const bank = await post(t, admin, { query: '{ viewer { role } }' });
    expect(bank.body.data.viewer.role).toBe('BANK_ADMIN');
  });
});

describe('nothing is learned without credentials', () => {
  it('a wrong field name and a right one get the same 401, with no schema name in it', async () => {
    const wrong = await post(t, null, { query: '{ secretAdminField }' });
    const right = await post(t, null, { query: '{ cases { totalCount } }' });
    const invalidJson = await t.runtime.app.fetch(new Request('http://arrears.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' }));
    expect(wrong.status).toBe(401);
    expect(right.status).toBe(401);
    expect(invalidJson.status).toBe(401);
    expect(JSON.stringify(wrong.body)).toBe(JSON.stringify(right.body));
    expect(JSON.stringify(wrong.body)).not.toMatch(/secretAdminField|Cannot query|cases/);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('introspection without a token is refused like anything else', async () => {
    const r = await post(t, null, { query: '{ __schema { types { name } } }' });
    expect(r.status).toBe(401);
    expect(r.body.data).toBeUndefined();
  });
});

describe('field suggestions and introspection by role', () => {
  it('an agency principal gets no “Did you mean”; bank staff do', async () => {
    const north = await t.token(s.users.northManager);
    const agency = await post(t, north, { query: '{ viewer { rol } }' });
    expect(agency.body.errors[0].message).toMatch(/Cannot query field "rol"/);
    expect(agency.body.errors[0].message).not.toMatch(/Did you mean|"role"/);
    const bank = await post(t, admin, { query: '{ viewer { rol } }' });
    expect(bank.body.errors[0].message, JSON.stringify(bank.body)).toMatch(/Did you mean "role"/);
  });

  it('in production, introspection answers the bank admin only', async () => {
    const prod = await createTestApp({ env: { NODE_ENV: 'production', ARREARS_DATA_DIR: '/nonexistent-test-dir' } });
    try {
      const people = await createPeople(prod.prisma);
      const adminToken = await prod.token(people.users.admin);
      const supervisor = await prod.token(people.users.supervisor);
      const agency = await prod.token(people.users.northManager);
      const asAdmin = await post(prod, adminToken, { query: getIntrospectionQuery() });
      expect(asAdmin.body.errors).toBeUndefined();
      expect(asAdmin.body.data.__schema.queryType.name).toBe('Query');
      for (const token of [supervisor, agency]) {
        const refused = await post(prod, token, { query: '{ __schema { queryType { name } } }' });
        expect(refused.body.errors[0].message).toMatch(/introspection/i);
        expect(refused.body.data ?? null).toBeNull();
      }
      // GraphiQL is not served in production: a browser gets 401 like any other anonymous call.
      const page = await prod.runtime.app.fetch(new Request('http://arrears.test/graphql', { headers: { accept: 'text/html' } }));
      expect(page.status).toBe(401);
    } finally {
      await prod.close();
    }
  });
});

describe('CORS by allow-list', () => {
  const preflight = (app: TestApp, origin: string) =>
    app.runtime.app.fetch(
      new Request('http://arrears.test/graphql', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      }),
    );

  it('outside production, with none named: pages of this machine only', async () => {
    expect((await preflight(t, 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect((await preflight(t, 'http://127.0.0.1:8080')).headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8080');
    const evil = await preflight(t, 'https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('named origins are the only ones answered; in production none unless named', async () => {
    const named = await createTestApp({ env: { ARREARS_CORS_ORIGINS: 'https://console.bank.example' } });
    const prod = await createTestApp({ env: { NODE_ENV: 'production', ARREARS_DATA_DIR: '/nonexistent-test-dir' } });
    try {
      expect((await preflight(named, 'https://console.bank.example')).headers.get('access-control-allow-origin')).toBe('https://console.bank.example');
      expect((await preflight(named, 'http://localhost:5173')).headers.get('access-control-allow-origin')).not.toBe('http://localhost:5173');
      expect((await preflight(prod, 'http://localhost:5173')).headers.get('access-control-allow-origin')).not.toBe('http://localhost:5173');
    } finally {
      await named.close();
      await prod.close();
    }
  });
});

describe('CSRF on multipart posts', () => {
  it('a multipart post without the preflight header is refused; with it, it is read', async () => {
    const form = () => {
      const f = new FormData();
      f.set('operations', JSON.stringify({ query: '{ viewer { role } }' }));
      f.set('map', '{}');
      return f;
    };
    const bare = await t.runtime.app.fetch(new Request('http://arrears.test/graphql', { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form() }));
    expect(bare.status).toBe(403);
    const marked = await t.runtime.app.fetch(
      new Request('http://arrears.test/graphql', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'x-graphql-yoga-csrf': '1' }, body: form() }),
    );
    expect(marked.status).toBe(200);
    expect(((await marked.json()) as any).data.viewer.role).toBe('BANK_ADMIN');
  });
});

describe('transport', () => {
  it('an address past its cap of open connections is cut off; others are not', async () => {
    const server = await listen(t.runtime.app, '127.0.0.1', 0, { maxConnectionsPerAddress: 3 });
    const port = Number(new URL(server.url).port);
    const sockets: net.Socket[] = [];
    try {
      const open = () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
          sockets.push(socket);
        });
      for (let i = 0; i < 3; i++) await open();
      const fourth = await open();
      const closed = await new Promise<boolean>((resolve) => {
        fourth.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 2_000);
      });
      expect(closed).toBe(true);
      // One of the three leaves: a new connection is served again.
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.close(500);
    }
  });
});

describe('runaway execution', () => {
  // The guard on a small schema whose resolvers can be made slow or large at will.
  const viewer = viewerOf({ id: '00000000-0000-4000-8000-000000000001', email: 'a@b.c', fullName: 'A', role: 'BANK_ADMIN', agencyId: null });
  const authenticator = { authenticate: async (h: string | null) => (h ? viewer : null) } as unknown as Authenticator;
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type Query { slow(ms: Int!): String  big(kb: Int!): String }',
      resolvers: {
        Query: {
          slow: (_: unknown, { ms }: { ms: number }) => new Promise((r) => setTimeout(() => r('done'), ms)),
          big: (_: unknown, { kb }: { kb: number }) => 'x'.repeat(kb * 1024),
        },
      },
    }),
    logging: false,
    plugins: [
      useGuard({
        schema: undefined as never,
        graphqlEndpoint: '/graphql',
        authenticator,
        buckets: new MemoryCostBuckets(),
        addresses: new AddressLimiter(undefined),
        logger: createLogger('silent'),
        graphiql: false,
        executionTimeoutMs: 200,
        maxResponseBytes: 64 * 1024,
        clientAddress: () => 'test',
        requestId: () => undefined,
      }),
    ],
  });
  const run = async (query: string) => {
    const r = await yoga.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: JSON.stringify({ query }) });
    return (await r.json()) as any;
  };

  it('an operation running past the timeout ends with TIMEOUT', async () => {
    const started = Date.now();
    const r = await run('{ slow(ms: 2000) }');
    expect(r.errors[0].extensions).toMatchObject({ code: 'TIMEOUT', limit: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await run('{ slow(ms: 10) }')).data.slow).toBe('done');
  });

  it('a response over the ceiling is replaced by RESPONSE_TOO_LARGE', async () => {
    const r = await run('{ big(kb: 100) }');
    expect(r.data ?? null).toBeNull();
    expect(r.errors[0].extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect((await run('{ big(kb: 10) }')).data.big).toHaveLength(10 * 1024);
  });
});
