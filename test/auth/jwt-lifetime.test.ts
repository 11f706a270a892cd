/**
 * JWT lifetimes (issue 10, point 8): a token must carry `exp`, and its lifetime (exp − iat, and
 * what is left of it, exp − now) must not exceed ARREARS_JWT_MAX_TTL (default 12 h). Local
 * (HS256) and external (JWKS) tokens alike.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createPeople, type Scenario } from '../support/scenario.ts';
import { Authenticator, DEFAULT_JWT_MAX_TTL_SECONDS, signToken, TOKEN_ISSUER } from '../../src/auth/tokens.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

let t: TestApp;
let s: Scenario;
const SECRET = 'test-secret-that-is-at-least-32-characters-long'; // test/support/app.ts signs with it
const HOUR = 3600;
const YEAR = 365 * 24 * HOUR;
const VIEWER = `{ viewer { role } }`;

beforeAll(async () => {
  t = await createTestApp();
  s = await createPeople(t.prisma);
});
afterAll(async () => t?.close());

const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);

/** A local token with exactly the claims given (no defaults). */
function localToken(claims: { iat?: number; exp?: number }, secret = SECRET): Promise<string> {
  let jwt = new SignJWT({ email: s.users.admin.email }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(s.users.admin.id).setIssuer(TOKEN_ISSUER);
  if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

async function answer(token: string) {
  const r = await t.gql(token, VIEWER);
  return r.status === 200 ? 'accepted' : `${r.status} ${r.errors?.[0]?.extensions?.['code']}: ${r.errors?.[0]?.message}`;
}

describe('local tokens', () => {
  it('without exp: refused', async () => {
    expect(await answer(await localToken({ iat: nowSeconds() }))).toBe('401 UNAUTHENTICATED: Token has no expiry (exp).');
    expect(await answer(await localToken({}))).toMatch(/^401 UNAUTHENTICATED/);
  });

  it('exp a century away: refused, whatever iat says', async () => {
    const now = nowSeconds();
    expect(await answer(await localToken({ iat: now, exp: now + 100 * YEAR }))).toMatch(/^401 UNAUTHENTICATED: Token lifetime is over the limit of 43200 seconds/);
    expect(await answer(await localToken({ exp: now + 100 * YEAR }))).toMatch(/^401 UNAUTHENTICATED/);
    // An iat in the future to make exp − iat look short: what is left (exp − now) still counts.
    expect(await answer(await localToken({ iat: now + 100 * YEAR - HOUR, exp: now + 100 * YEAR }))).toMatch(/^401 UNAUTHENTICATED/);
  });

  it('12 h exactly is accepted; a second more is refused; without iat, what is left counts', async () => {
    const now = nowSeconds();
    expect(await answer(await localToken({ iat: now, exp: now + 12 * HOUR }))).toBe('accepted');
    expect(await answer(await localToken({ iat: now, exp: now + 12 * HOUR + 1 }))).toMatch(/^401 UNAUTHENTICATED/);
    // Issued 20 h ago for 24 h: 4 h left, but issued for too long.
    expect(await answer(await localToken({ iat: now - 20 * HOUR, exp: now + 4 * HOUR }))).toMatch(/^401 UNAUTHENTICATED/);
    expect(await answer(await localToken({ exp: now + HOUR }))).toBe('accepted');
    expect(await answer(await localToken({ exp: now + 13 * HOUR }))).toMatch(/^401 UNAUTHENTICATED/);
  });

  it('what signToken (and so `npm run token`) makes is accepted', async () => {
    expect(await answer(await signToken(SECRET, s.users.admin, { now: t.clock.now() }))).toBe('accepted');
    expect(DEFAULT_JWT_MAX_TTL_SECONDS).toBe(12 * HOUR);
  });

  it('ARREARS_JWT_MAX_TTL sets the limit', async () => {
    const auth = new Authenticator(t.prisma, t.clock, { jwtSecret: SECRET, maxTtlSeconds: HOUR });
    const now = nowSeconds();
    await expect(auth.authenticate(`Bearer ${await localToken({ iat: now, exp: now + HOUR })}`)).resolves.toMatchObject({ role: 'BANK_ADMIN' });
    await expect(auth.authenticate(`Bearer ${await localToken({ iat: now, exp: now + 2 * HOUR })}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(loadConfig({ ARREARS_JWT_MAX_TTL: '3600' }).jwtMaxTtlSeconds).toBe(3600);
    expect(loadConfig({}).jwtMaxTtlSeconds).toBe(43_200);
    for (const bad of ['0', '-5', '1.5', 'twelve hours', String(31 * 24 * HOUR)]) {
      expect(() => loadConfig({ ARREARS_JWT_MAX_TTL: bad }), bad).toThrow(ConfigError);
    }
  });
});

describe('external tokens (JWKS)', () => {
  it('the same rule: exp required, lifetime at most the limit', async () => {
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
      const sign = (claims: JWTPayload) => {
        let jwt = new SignJWT({ email: 'supervisor@bank.example' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://idp.bank.example').setAudience('arrears').setSubject('idp-user-42');
        if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
        if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
        return jwt.sign(privateKey);
      };
      const now = nowSeconds();
      await expect(auth.authenticate(`Bearer ${await sign({ iat: now, exp: now + 600 })}`)).resolves.toMatchObject({ userId: s.users.supervisor.id });
      for (const claims of [{ iat: now }, {}, { iat: now, exp: now + 100 * YEAR }, { exp: now + 13 * HOUR }, { iat: now - HOUR, exp: now + 12 * HOUR }]) {
        await expect(auth.authenticate(`Bearer ${await sign(claims)}`), JSON.stringify(claims)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      }
    } finally {
      jwks.close();
    }
  });
});
