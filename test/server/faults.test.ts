// Retryable failures say so (src/lib/faults.ts, used by the server's error masking): the database
// unreachable is HTTP 503 UNAVAILABLE with Retry-After; a lock wait over the transaction's time is
// RETRY; anything else stays INTERNAL_SERVER_ERROR. /readyz names what is down.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { classifyFault } from '../../src/lib/faults.ts';
import { openPostgresStore } from '../../src/db/store.ts';
import { createApp } from '../../src/server.ts';
import { Authenticator, signToken } from '../../src/auth/tokens.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { checkReadiness } from '../../src/readiness.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { createTestApp, TEST_NOW, type TestApp } from '../support/app.ts';
import { createCase, createPeople, type Scenario } from '../support/scenario.ts';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('classifyFault', () => {
  it('tells an unreachable database, a refused attempt, and anything else apart', async () => {
    // The real thing: Prisma through the pg adapter, nothing listening.
    const dead = await openPostgresStore(`postgres://postgres@127.0.0.1:${await closedPort()}/arrears`, { poolSize: 1 });
    const err = await dead.prisma.user.findFirst().then(() => null, (e: unknown) => e);
    expect(classifyFault(err)?.kind).toBe('UNAVAILABLE');
    await dead.close().catch(() => {});
    // The shapes of the other faults (pg errors, driver-adapter errors, Prisma's transaction manager).
    const pgError = (code: string) => Object.assign(new Error('x'), { code, severity: 'ERROR' });
    expect(classifyFault(pgError('55P03'))?.kind).toBe('RETRY');
    expect(classifyFault(pgError('40001'))?.kind).toBe('RETRY');
    expect(classifyFault(pgError('40P01'))?.kind).toBe('RETRY');
    expect(classifyFault(pgError('57P01'))?.kind).toBe('UNAVAILABLE');
    expect(classifyFault(Object.assign(new Error('adapter'), { cause: { kind: 'TransactionWriteConflict' } }))?.kind).toBe('RETRY');
    expect(classifyFault(Object.assign(new Error('adapter'), { cause: { kind: 'postgres', code: '55P03' } }))?.kind).toBe('RETRY');
    expect(classifyFault(Object.assign(new Error('adapter'), { cause: { kind: 'ConnectionClosed' } }))?.kind).toBe('UNAVAILABLE');
    const expired = Object.assign(new Error('Transaction API error: A query cannot be executed on an expired transaction. The timeout for this transaction was 5000 ms'), { code: 'P2028' });
    expect(classifyFault(expired)?.kind).toBe('RETRY');
    expect(classifyFault(Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' }))?.kind).toBe('UNAVAILABLE');
    expect(classifyFault(new Error('Connection terminated unexpectedly'))?.kind).toBe('UNAVAILABLE');
    expect(classifyFault(new Error('timeout exceeded when trying to connect'))?.kind).toBe('UNAVAILABLE');
    // Not a fault: a bug stays a bug.
    expect(classifyFault(new TypeError('cannot read properties of undefined'))).toBeNull();
    expect(classifyFault(pgError('23505'))).toBeNull();
  });
});

describe('the database unreachable', () => {
  it('answers HTTP 503, extensions.code UNAVAILABLE and Retry-After; /readyz names the database', async () => {
    const dead = await openPostgresStore(`postgres://postgres@127.0.0.1:${await closedPort()}/arrears`, { poolSize: 1 });
    const clock = new FixedClock(TEST_NOW);
    const logger = createLogger('silent');
    const deps = { prisma: dead.prisma, clock, pii: new Pii(Pii.randomKeys()), logger };
    const app = createApp({ deps, authenticator: new Authenticator(dead.prisma, clock, { jwtSecret: SECRET }), production: false, ping: () => dead.ping() });
    const token = await signToken(SECRET, { id: '00000000-0000-7000-8000-000000000001', email: 'x@bank.example' }, { now: clock.now() });
    const res = await app.fetch(
      new Request('http://arrears.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { user { id } } }' }),
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('UNAVAILABLE');
    expect(body.errors[0].message).toMatch(/unavailable/i);

    const evidenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-ready-'));
    const r = await checkReadiness({ store: dead, blobs: new FolderBlobStore(evidenceDir), evidenceDir, logger });
    expect(r.status).toBe('unavailable');
    expect(r.down).toEqual(['database']);
    expect(r.checks.evidence).toBe('up');
    await dead.close().catch(() => {});
    fs.rmSync(evidenceDir, { recursive: true, force: true });
  });
});

describe('/readyz', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('checks the database and that the evidence folder is writable, and says which is down', async () => {
    const ok = await t.runtime.app.fetch(new Request('http://arrears.test/readyz'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ready', down: [], checks: { database: 'up', evidence: 'up', redis: 'not configured' } });
    // The evidence folder not writable (a file where the folder should be).
    const blocked = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-ro-')), 'evidence');
    fs.writeFileSync(blocked, 'not a folder');
    const r = await checkReadiness({ store: t.runtime.store, blobs: new FolderBlobStore(blocked), evidenceDir: blocked, logger: createLogger('silent') });
    expect(r.status).toBe('unavailable');
    expect(r.down).toEqual(['evidence']);
    expect(r.checks.evidence).toMatch(/^down: /);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('a case write waiting on the case lock (PostgreSQL)', () => {
  let t: TestApp;
  let s: Scenario;
  beforeAll(async () => {
    t = await createTestApp();
    s = await createPeople(t.prisma);
  });
  afterAll(async () => t?.close());

  it('answers RETRY when the case lock is not granted within 4 s (before the transaction’s timeout), and changes nothing', async () => {
    const c = await createCase(t.prisma, t.pii, { now: t.clock.now(), agencyId: s.north.id });
    // Hold the case row's lock from another connection of the same database.
    const [row] = await t.prisma.$queryRaw<{ current_database: string }[]>`SELECT current_database()`;
    const db = row!.current_database;
    const u = new URL(process.env.TEST_DATABASE_URL!);
    u.pathname = `/${db}`;
    const holder = new pg.Client({ connectionString: u.toString() });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM "Case" WHERE id = $1 FOR UPDATE', [c.id]);
    try {
      const token = await t.token(s.users.supervisor);
      const r = await t.gql(token, `mutation($input: HoldCaseInput!) { holdCase(input: $input) { userErrors { code } } }`, {
        input: { caseId: encodeGlobalID('Case', c.id), reason: 'DISPUTE' },
      });
      expect(r.errors?.[0]?.extensions?.code).toBe('RETRY');
      expect(r.status).toBe(200);
      expect(r.errors?.[0]?.message).toMatch(/send it again/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const after = await t.prisma.case.findUniqueOrThrow({ where: { id: c.id } });
    expect(after.status).not.toBe('ON_HOLD');
  });
});
