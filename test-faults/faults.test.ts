// The fault suite (issue 11, point 11): real processes, real outages. Its own PostgreSQL cluster
// and Redis on free ports; Arrears as child processes. Run with `npm run test:faults` (not part of
// `npm test`). Each case prints its recovery time ("[faults] …").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { openPostgresStore, type Store } from '../src/db/store.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { Pii } from '../src/lib/pii.ts';
import { signToken } from '../src/auth/tokens.ts';
import { createArrearsClient } from '../sdk/src/index.ts';
import { createCase, createPeople, type Scenario } from '../test/support/scenario.ts';
import { ArrearsProcess, PgCluster, RedisServer, SECRETS, freePort, outcomeOf, post, recovery, report, sleep, until } from './support.ts';

let cluster: PgCluster;
let redis: RedisServer;
let store: Store;
let s: Scenario;
let pii: Pii;
let supervisor: string;
let databaseUrl: string;
const gid = (id: string) => encodeGlobalID('Case', id);

const RECORD = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { replayed payment { id } userErrors { code message } } }`;
const HOLD = `mutation($input: HoldCaseInput!) { holdCase(input: $input) { userErrors { code message } } }`;
const RELEASE = `mutation($input: ReleaseCaseHoldInput!) { releaseCaseHold(input: $input) { userErrors { code message } } }`;
const CASES = `{ cases(first: 5) { totalCount } }`;

beforeAll(async () => {
  cluster = await PgCluster.create();
  redis = await RedisServer.create();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('CREATE DATABASE arrears');
  await admin.end();
  databaseUrl = cluster.urlOf('arrears');
  store = await openPostgresStore(databaseUrl, { poolSize: 4, onError: () => {} });
  await applyMigrations(store.sql);
  pii = new Pii({ encryptionKey: Buffer.from(SECRETS.pii, 'base64'), blindIndexKey: Buffer.from(SECRETS.blind, 'base64') });
  s = await createPeople(store.prisma);
  supervisor = await signToken(SECRETS.jwt, s.users.supervisor);
}, 120_000);

afterAll(async () => {
  await store?.close().catch(() => {});
  await cluster?.destroy();
  await redis?.kill();
  process.stdout.write(`\n[faults] recovery times:\n${Object.entries(recovery).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
});

/** Sends one payment until it is recorded (same key every time); counts what the client saw. */
async function payUntilRecorded(url: () => string, input: Record<string, unknown>, seen: Map<string, number>, deadline: number): Promise<number> {
  for (;;) {
    const sentAt = Date.now();
    const r = await post(url(), supervisor, RECORD, { input });
    const o = outcomeOf(r);
    seen.set(o, (seen.get(o) ?? 0) + 1);
    if (o === 'OK') {
      const errors = (r as { body: any }).body.data.recordPayment.userErrors;
      if (errors.length) throw new Error(`payment refused: ${JSON.stringify(errors)}`);
      return sentAt; // when the attempt that succeeded was sent
    }
    if (Date.now() > deadline) throw new Error(`payment ${String(input.idempotencyKey)} not recorded in time (last: ${o})`);
    await sleep(100);
  }
}

async function checkPayments(prefix: string, expected: Map<string, { caseId: string; amount: number }>): Promise<void> {
  const rows = await store.prisma.payment.findMany({ where: { idempotencyKey: { startsWith: prefix } }, select: { idempotencyKey: true, caseId: true, amount: true } });
  // Nothing lost, nothing doubled: exactly one payment per key, on its case, of its amount.
  expect(rows).toHaveLength(expected.size);
  for (const r of rows) {
    const e = expected.get(r.idempotencyKey)!;
    expect(e).toBeDefined();
    expect(r.caseId).toBe(e.caseId);
    expect(Number(r.amount)).toBe(e.amount);
  }
}

describe('faults', () => {
  it('kill -9 during a payment burst: every payment recorded exactly once after the restart', async () => {
    const port = await freePort();
    const a = new ArrearsProcess({ databaseUrl, redisUrl: redis.url, port }, 'burst');
    await a.start();
    try {
      const cases = await Promise.all(Array.from({ length: 10 }, () => createCase(store.prisma, pii, { now: new Date(Date.now() - 40 * 86_400_000), agencyId: s.north.id })));
      const expected = new Map<string, { caseId: string; amount: number }>();
      const inputs = Array.from({ length: 200 }, (_, i) => {
        const c = cases[i % cases.length]!;
        const input = { caseId: gid(c.id), amount: 100 + (i % 7), currency: 'CNY', channel: 'BANK_TRANSFER', receivedAt: new Date(Date.now() - 3600_000).toISOString(), idempotencyKey: `burst-payment-${i}` };
        expected.set(input.idempotencyKey, { caseId: c.id, amount: input.amount });
        return input;
      });
      const seen = new Map<string, number>();
      const deadline = Date.now() + 120_000;
      const queue = [...inputs];
      let killedAt = 0;
      let firstOkAfterKill = 0;
      const workers = Promise.all(
        Array.from({ length: 10 }, async () => {
          while (queue.length) {
            const input = queue.shift()!;
            const sentAt = await payUntilRecorded(() => a.url, input, seen, deadline);
            if (killedAt && sentAt > killedAt && !firstOkAfterKill) firstOkAfterKill = Date.now();
          }
        }),
      );
      workers.catch(() => {}); // awaited below
      await until('a third of the payments recorded', async () => (await store.prisma.payment.count({ where: { idempotencyKey: { startsWith: 'burst-payment-' } } })) >= 60, 60_000, 20);
      killedAt = Date.now();
      await a.kill();
      await a.start(); // the same port: clients keep sending the same keys
      await workers;
      await checkPayments('burst-payment-', expected);
      const back = ((firstOkAfterKill - killedAt) / 1000).toFixed(1);
      report('kill -9 during a payment burst', `200 payments from 10 clients, every one recorded exactly once; service back ${back} s after the kill (restart included); clients saw ${JSON.stringify(Object.fromEntries(seen))}`);
    } finally {
      await a.stop();
    }
  });

  it('PostgreSQL restart mid-load: clients get UNAVAILABLE or RETRY, then service comes back without restarting Arrears', async () => {
    const port = await freePort();
    const a = new ArrearsProcess({ databaseUrl, redisUrl: redis.url, port }, 'pg-restart');
    await a.start();
    const pid = a.pid;
    try {
      const c = await createCase(store.prisma, pii, { now: new Date(Date.now() - 40 * 86_400_000), agencyId: s.north.id });
      const seen = new Map<string, number>();
      const bad: unknown[] = [];
      let stop = false;
      let upAt = 0;
      let firstOkAfterUp = 0;
      let downAt = 0;
      let lastFailure = 0;
      const readers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await post(a.url, supervisor, CASES);
          const o = outcomeOf(r);
          seen.set(o, (seen.get(o) ?? 0) + 1);
          if (o === 'OK' && upAt && !firstOkAfterUp) firstOkAfterUp = Date.now();
          if (o !== 'OK') lastFailure = Date.now();
          if (o === 'UNAVAILABLE' && (r.status !== 503 || !('retryAfter' in r) || !r.retryAfter)) bad.push(r);
          if (o !== 'OK' && o !== 'UNAVAILABLE' && o !== 'RETRY') bad.push(r);
          await sleep(50);
        }
      });
      const expected = new Map<string, { caseId: string; amount: number }>();
      let n = 0;
      const payer = (async () => {
        while (!stop) {
          const input = { caseId: gid(c.id), amount: 200, currency: 'CNY', channel: 'CARD', receivedAt: new Date(Date.now() - 3600_000).toISOString(), idempotencyKey: `pgrestart-${n++}` };
          expected.set(input.idempotencyKey, { caseId: c.id, amount: 200 });
          await payUntilRecorded(() => a.url, input, seen, Date.now() + 60_000);
        }
      })();
      payer.catch(() => {}); // awaited below
      await sleep(2000);
      downAt = Date.now();
      await store.close(); // the suite's own pool would only log errors
      await cluster.stop('immediate');
      await sleep(3000);
      await cluster.start();
      upAt = Date.now();
      store = await openPostgresStore(databaseUrl, { poolSize: 4, onError: () => {} });
      await until('a request succeeds after PostgreSQL is back', async () => firstOkAfterUp > 0, 60_000);
      await sleep(2000);
      stop = true;
      await Promise.all([...readers, payer]);
      expect(a.alive).toBe(true);
      expect(a.pid).toBe(pid); // the same process: never restarted
      expect(bad).toEqual([]); // no INTERNAL_SERVER_ERROR, no 503 without Retry-After
      expect((seen.get('UNAVAILABLE') ?? 0) + (seen.get('RETRY') ?? 0)).toBeGreaterThan(0);
      await checkPayments('pgrestart-', expected);
      report(
        'PostgreSQL restart (3 s down)',
        `clients saw ${JSON.stringify(Object.fromEntries(seen))}; first success ${((firstOkAfterUp - upAt) / 1000).toFixed(1)} s after PostgreSQL accepted connections (last failure ${((lastFailure - downAt) / 1000).toFixed(1)} s after it went down); Arrears not restarted; every payment recorded once`,
      );
    } finally {
      await a.stop();
    }
  });

  it('Redis restart during writes and open streams: the processes stay up, the streams miss nothing', async () => {
    const a = new ArrearsProcess({ databaseUrl, redisUrl: redis.url, port: await freePort() }, 'redis-a');
    const b = new ArrearsProcess({ databaseUrl, redisUrl: redis.url, port: await freePort() }, 'redis-b');
    await Promise.all([a.start(), b.start()]);
    try {
      const c = await createCase(store.prisma, pii, { now: new Date(Date.now() - 40 * 86_400_000), agencyId: s.north.id });
      // Two streams on instance b, through the SDK (which reconnects and resumes with Last-Event-ID).
      const client = createArrearsClient({ url: `${b.url}/graphql`, token: supervisor });
      const streams = [0, 1].map(() => {
        const got: string[] = [];
        const sub = client.subscribe.caseEvents({ caseId: gid(c.id) }, { reconnect: { baseDelayMs: 100, maxDelayMs: 1000 } });
        const reading = (async () => {
          for await (const e of sub) got.push(e.caseEvents.type);
        })();
        return { got, sub, reading };
      });
      await sleep(500);
      const WRITES = 20;
      let redisBackAt = 0;
      for (let i = 0; i < WRITES; i++) {
        if (i === 5) await redis.kill();
        if (i === 12) {
          await redis.start();
          redisBackAt = Date.now();
        }
        const r = await post(a.url, supervisor, i % 2 === 0 ? HOLD : RELEASE, { input: i % 2 === 0 ? { caseId: gid(c.id), reason: 'DISPUTE' } : { caseId: gid(c.id) } });
        expect(outcomeOf(r)).toBe('OK');
        const payload = (r as { body: any }).body.data;
        expect((payload.holdCase ?? payload.releaseCaseHold).userErrors).toEqual([]);
        await sleep(250);
      }
      const expected = Array.from({ length: WRITES }, (_, i) => (i % 2 === 0 ? 'HOLD_PLACED' : 'HOLD_RELEASED'));
      for (const st of streams) {
        await until('every event reached the stream', async () => st.got.length >= WRITES, 20_000).catch((err: unknown) => {
          throw new Error(`${String(err)}; the streams got ${JSON.stringify(streams.map((x) => x.got))}`);
        });
      }
      for (const st of streams) expect(st.got).toEqual(expected); // each once, in order
      const published = await until('the relay published everything again', async () => {
        const [row] = await store.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM "EventOutbox" WHERE "publishedAt" IS NULL`;
        return row!.n === 0n ? Date.now() : null;
      }, 30_000, 100);
      expect(a.alive && b.alive).toBe(true);
      for (const st of streams) st.sub.close();
      await Promise.all(streams.map((st) => st.reading.catch(() => {})));
      report('Redis restart (killed for ~2 s)', `both instances stayed up; 2 streams got all ${WRITES} events once, in order (from the outbox while Redis was down); relay publishing again ${((published - redisBackAt) / 1000).toFixed(1)} s after Redis returned`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('disk-full evidence store: the upload fails clearly, no record points at a missing file, the process stays up', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-faults-tmpfs-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) return void report('disk-full evidence store', `skipped: mount failed (${m.stderr.trim()})`);
    const a = new ArrearsProcess({ databaseUrl, port: await freePort(), evidenceDir: dir }, 'disk-full');
    try {
      await a.start();
      const c = await createCase(store.prisma, pii, { now: new Date(Date.now() - 40 * 86_400_000), agencyId: s.north.id });
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        // A PDF of 100 KiB (distinct content each time): the third cannot fit.
        const pdf = Buffer.from(
          `%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n% ${String(i).repeat(100 * 1024)}\ntrailer <</Root 1 0 R>>\n%%EOF\n`,
          'latin1',
        );
        const form = new FormData();
        form.set('operations', JSON.stringify({
          query: `mutation($input: UploadEvidenceInput!) { uploadEvidence(input: $input) { evidence { id } userErrors { code message } } }`,
          variables: { input: { caseId: gid(c.id), kind: 'REPAYMENT_AGREEMENT', file: null } },
        }));
        form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
        form.set('0', new Blob([pdf], { type: 'application/pdf' }), `doc-${i}.pdf`);
        const r = await fetch(`${a.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${supervisor}`, 'x-graphql-yoga-csrf': '1' }, body: form });
        const body = (await r.json()) as any;
        const code = body.errors?.[0]?.extensions?.code ?? body.data?.uploadEvidence?.userErrors?.[0]?.code ?? 'OK';
        outcomes.push(code);
      }
      expect(a.alive).toBe(true);
      expect(outcomes.slice(0, 2)).toEqual(['OK', 'OK']);
      // Disk full is the store's fault, not the file's: UNAVAILABLE (retry later), never FILE_REJECTED.
      expect(outcomes.slice(2)).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
      // No evidence record without its file.
      const rows = await store.prisma.evidence.findMany({ where: { caseId: c.id }, select: { sha256: true } });
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(fs.existsSync(path.join(dir, r.sha256.slice(0, 2), r.sha256.slice(2)))).toBe(true);
      report('disk-full evidence store (256 KiB tmpfs)', `uploads answered ${outcomes.join(', ')}; the process stayed up; no record without its file`);
    } finally {
      await a.stop();
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
