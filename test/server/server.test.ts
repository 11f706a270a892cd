import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { Authenticator } from '../../src/auth/tokens.ts';
import { listen } from '../../src/server.ts';

let t: TestApp;
let s: Scenario;
beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

describe('an external identity provider (JWKS)', () => {
  it('accepts its RS256 tokens for a known user and refuses a wrong audience or an unknown key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwks = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const port = (jwks.address() as { port: number }).port;
    try {
      const auth = new Authenticator(t.prisma, t.clock, { jwtSecret: 'x'.repeat(40), jwksUrl: `http://127.0.0.1:${port}/jwks.json`, issuer: 'https://idp.bank.example', audience: 'arrears' });
      const sign = (aud: string, key = privateKey) =>
        new SignJWT({ email: 'supervisor@bank.example' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer('https://idp.bank.example')
          .setAudience(aud)
          .setSubject('idp-user-42')
          .setIssuedAt(Math.floor(t.clock.now().getTime() / 1000))
          .setExpirationTime(Math.floor(t.clock.now().getTime() / 1000) + 600)
          .sign(key);
      const viewer = await auth.authenticate(`Bearer ${await sign('arrears')}`);
      expect(viewer?.userId).toBe(s.users.supervisor.id);
      await expect(auth.authenticate(`Bearer ${await sign('another-app')}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      const other = await generateKeyPair('RS256');
      await expect(auth.authenticate(`Bearer ${await sign('arrears', other.privateKey)}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      jwks.close();
    }
  });
});

describe('the HTTP server', () => {
  it('answers /healthz and /readyz, and finishes a request in flight when it closes', async () => {
    const server = await listen(t.runtime.app, '127.0.0.1', 0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const token = await t.token(s.users.admin);
    // Start a request, then ask the server to close: the request still completes.
    const received = new Promise((r) => server.server.once('request', r));
    const inFlight = fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ cases(first: 1) { totalCount } }' }),
    });
    // Close once the server has the request in hand (an unread request on an idle socket is not "in flight").
    await received;
    const closing = server.close(5_000);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect((await response.json()).data.cases.totalCount).toBe(0);
    await closing;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow(); // no longer accepting
  });
});

describe('GraphiQL and introspection', () => {
  it('serves GraphiQL from the package (no CDN) and lets a signed-in viewer introspect; deep queries are still refused', async () => {
    const page = await t.runtime.app.fetch(new Request('http://arrears.test/graphql', { headers: { accept: 'text/html' } }));
    const html = await page.text();
    expect(html).toContain('<title>Arrears</title>');
    expect(html).not.toContain('unpkg.com');
    const { getIntrospectionQuery } = await import('graphql');
    const token = await t.token(s.users.collector);
    const intro = await t.gql(token, getIntrospectionQuery());
    expect(intro.errors).toBeUndefined();
    expect(intro.data.__schema.queryType.name).toBe('Query');
    // viewer → user → (agency → users → nodes) × 4: 15 levels deep.
    const nest = (n: number): string => (n === 0 ? 'email' : `agency { users { nodes { ${nest(n - 1)} } } }`);
    const deep = await t.gql(token, `{ viewer { user { ${nest(4)} } } }`);
    expect(deep.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
  });
});
