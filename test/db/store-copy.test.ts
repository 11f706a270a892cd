// npm run store:copy: the demo data set seeded into an embedded folder, copied into a fresh
// PostgreSQL database; the same GraphQL queries answer the same figures on both stores.
// Needs a PostgreSQL server: runs when TEST_DATABASE_URL names one (CI's PostgreSQL run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { openEmbeddedStore, openPostgresStore, type Store } from '../../src/db/store.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { startRuntime, type Runtime } from '../../src/bootstrap.ts';
import { loadSecrets } from '../../src/lib/secrets.ts';
import { Pii } from '../../src/lib/pii.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { ensureContactPolicies } from '../../src/modules/policy/service.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { runStoreCopyCommand, parseStoreCopyArgs } from '../../src/cli/store-copy.ts';
import { copyStore, dependencyOrder } from '../../src/db/copy.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
const NOW = '2026-11-28T02:00:00.000Z';
const clock = new FixedClock(NOW);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-store-copy-'));
const dataDir = path.join(root, 'data');
const newEvidenceDir = path.join(root, 'evidence-pg');
const dbName = `arrears_copy_${process.pid}_${randomBytes(4).toString('hex')}`;
const targetUrl = (() => {
  if (!adminUrl) return '';
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('dependencyOrder', () => {
  it('puts parents before children, ignores self-references, and names a cycle', () => {
    const keys = [
      { child: 'Case', parent: 'Debtor', columns: [], references: [] },
      { child: 'Payment', parent: 'Case', columns: [], references: [] },
      { child: 'Evidence', parent: 'Evidence', columns: [], references: [] },
      { child: 'Evidence', parent: 'Case', columns: [], references: [] },
    ];
    expect(dependencyOrder(['Payment', 'Evidence', 'Case', 'Debtor'], keys)).toEqual(['Debtor', 'Case', 'Evidence', 'Payment']);
    expect(() => dependencyOrder(['A', 'B'], [{ child: 'A', parent: 'B', columns: [], references: [] }, { child: 'B', parent: 'A', columns: [], references: [] }])).toThrow(/cycle/);
  });

  it('parses its arguments, refusing anything but a PostgreSQL URL', () => {
    expect(parseStoreCopyArgs(['--', '--to', 'postgres://u@h/db', '--batch', '50'])).toMatchObject({ to: 'postgres://u@h/db', batchRows: 50, evidenceDir: null });
    expect(() => parseStoreCopyArgs([])).toThrow(ConfigError);
    expect(() => parseStoreCopyArgs(['--to', 'mysql://h/db'])).toThrow(/PostgreSQL/);
    expect(() => parseStoreCopyArgs(['--to', 'postgres://h/db', '--batch', '0'])).toThrow(/--batch/);
  });
});

describe.skipIf(!adminUrl)('npm run store:copy (embedded store → PostgreSQL)', () => {
  let source: Runtime | undefined;
  let target: Runtime | undefined;
  let copyOutput = '';

  const env = () => ({ ...process.env, NODE_ENV: 'test', ARREARS_DATA_DIR: dataDir, DATABASE_URL: '', ARREARS_EVIDENCE_DIR: '', ARREARS_JOBS: 'off', ARREARS_USER_COST_BUDGET: '100000000/10000000' });

  beforeAll(async () => {
    await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
    // The demo data set in an embedded folder, as `npm run seed:demo` makes it.
    const config = loadConfig(env());
    const store = await openEmbeddedStore(dataDir, { purpose: 'test seed' });
    await applyMigrations(store.sql);
    await ensureContactPolicies(store.prisma);
    await seedDemo(store.prisma, { pii: new Pii(loadSecrets(config).pii), clock, blobs: new FolderBlobStore(config.evidenceDir) });
    await store.close();

    // The command, as `npm run store:copy -- --to … --evidence-dir …` runs it (small batches: many of them).
    const saved = process.env;
    process.env = env();
    try {
      const out = sink();
      await runStoreCopyCommand(['--to', targetUrl, '--evidence-dir', newEvidenceDir, '--batch', '97'], out.stream);
      copyOutput = out.text();
    } finally {
      process.env = saved;
    }

    const secrets = loadSecrets(config);
    const logger = createLogger('silent');
    source = await startRuntime(config, { clock, secrets, logger, store: await openEmbeddedStore(dataDir, { purpose: 'test source' }), migrate: false });
    const pgConfig = loadConfig({ ...env(), DATABASE_URL: targetUrl, ARREARS_EVIDENCE_DIR: newEvidenceDir });
    target = await startRuntime(pgConfig, { clock, secrets, logger, store: await openPostgresStore(targetUrl, { poolSize: 3 }), migrate: false });
  }, 120_000);

  afterAll(async () => {
    await source?.close();
    await target?.close();
    if (adminUrl) await admin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function gql(runtime: Runtime, email: string, query: string, variables: Record<string, unknown> = {}) {
    const user = await runtime.store.prisma.user.findUniqueOrThrow({ where: { email } });
    const token = await signToken(runtime.secrets.jwtSecret, user, { now: clock.now() });
    const res = await runtime.app.fetch(
      new Request('http://arrears.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      }),
    );
    const body = (await res.json()) as { data: any; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  const CASES = /* GraphQL */ `
    query ($after: String) {
      cases(first: 25, after: $after, orderBy: { field: OVERDUE_AMOUNT, direction: DESC }) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          number stage status daysPastDue bucket version onHold
          overdue { minorUnits currency } principal { minorUnits } credit { minorUnits }
          debtor { fullName nationalIdMasked contactPoints { kind } }
          assignedAgency { name caseCount }
          payments(first: 5) { totalCount nodes { amount { minorUnits } allocations { amount { minorUnits } } } }
          repaymentPlans(first: 2) { nodes { status } }
          promises(first: 1) { totalCount }
          reminders(first: 1) { totalCount }
          visits(first: 1) { totalCount }
          evidence(first: 4) { totalCount nodes { sha256 sizeBytes supersedes { sha256 } } }
          timeline(first: 1) { totalCount }
        }
      }
    }`;

  async function allCases(runtime: Runtime, email: string) {
    const pages: unknown[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const data: any = await gql(runtime, email, CASES, { after });
      total = data.cases.totalCount;
      // Debtor.contactPoints has no order of its own (the rows' physical order): compare them as a set.
      for (const c of data.cases.nodes) c.debtor.contactPoints = c.debtor.contactPoints.map((p: { kind: string }) => p.kind).sort();
      pages.push(...data.cases.nodes);
      if (!data.cases.pageInfo.hasNextPage) break;
      after = data.cases.pageInfo.endCursor;
    }
    return { total, cases: pages };
  }

  it('copies every row, verified per table, and tells what to set next', () => {
    expect(copyOutput).toMatch(/Verified, table by table/);
    expect(copyOutput).toMatch(/Case\s+240 rows\s+caseNo Σ \d+|Case\s+240 rows/);
    expect(copyOutput).toMatch(/Payment\s+\d+ rows\s+amount Σ \d+/);
    expect(copyOutput).toMatch(/evidence files .* each checked against its SHA-256/);
    expect(copyOutput).toContain('ARREARS_PII_KEY');
    expect(copyOutput).not.toMatch(/piiKey":/); // names the secrets, never prints them
  });

  it('answers the same queries with the same figures on both stores: the bank and each agency', async () => {
    for (const email of ['admin@bank.example', 'manager@north.example', 'agent@south.example']) {
      const a = await allCases(source!, email);
      const b = await allCases(target!, email);
      expect(b.total).toBe(a.total);
      expect(b).toEqual(a);
      if (email === 'admin@bank.example') expect(a.total).toBe(240);
      else expect(a.total).toBeGreaterThan(0);
    }
    const AGENCIES = `{ agencies(first: 10) { totalCount nodes { code name caseCount users(first: 20) { totalCount nodes { email role } } } } }`;
    expect(await gql(target!, 'admin@bank.example', AGENCIES)).toEqual(await gql(source!, 'admin@bank.example', AGENCIES));
    const AUDIT = `{ auditEvents(first: 100) { totalCount nodes { action entityType reason } } }`;
    expect(await gql(target!, 'auditor@bank.example', AUDIT)).toEqual(await gql(source!, 'auditor@bank.example', AUDIT));
  }, 120_000);

  it('keeps the money to the unit and the sequences going on', async () => {
    const money = `SELECT (SELECT sum(amount)::text FROM "Payment") AS paid, (SELECT sum("overdueTotal")::text FROM "Case") AS overdue,
                          (SELECT sum(amount)::text FROM "PaymentAllocation") AS allocated, (SELECT max("caseNo")::text FROM "Case") AS "lastCase"`;
    const [a] = await source!.store.sql.query(money);
    const [b] = await target!.store.sql.query(money);
    expect(b).toEqual(a);
    // The next case number follows the last copied one (no collision with a copied case).
    const [next] = await target!.store.sql.query<{ n: string }>(`SELECT nextval(pg_get_serial_sequence('"Case"', 'caseNo'))::text AS n`);
    expect(BigInt(next!.n)).toBe(BigInt((a as { lastCase: string }).lastCase) + 1n);
    // The triggers are on again: a derived row follows a new placement, append-only still holds.
    await expect(target!.store.sql.exec(`DELETE FROM "AuditEvent"`)).rejects.toThrow();
  });

  it('serves the copied evidence files from the new folder', async () => {
    const evidence = await target!.store.prisma.evidence.findFirstOrThrow({ orderBy: { id: 'asc' } });
    const blobs = new FolderBlobStore(newEvidenceDir);
    expect(await blobs.hash(evidence.sha256)).toBe(evidence.sha256);
  });

  it('refuses a target that is not empty, and a folder in use, changing nothing', async () => {
    const before = await target!.store.prisma.case.count();
    await expect(copyStore(source!.store.sql, target!.store.sql)).rejects.toThrow(/The target database is not empty \(rows in Agency, /);
    expect(await target!.store.prisma.case.count()).toBe(before);
    // And the command never copies from a folder in use (here by the source runtime): its rows could change under it.
    const saved = process.env;
    process.env = env();
    try {
      await expect(runStoreCopyCommand(['--to', targetUrl], sink().stream)).rejects.toThrow(/in use by process/);
    } finally {
      process.env = saved;
    }
  });

  it('copies all or nothing: a failure midway leaves the target empty', async () => {
    const name = `${dbName}_b`;
    await admin((c) => c.query(`CREATE DATABASE "${name}"`));
    const u = new URL(adminUrl!);
    u.pathname = `/${name}`;
    const second: Store = await openPostgresStore(u.toString(), { poolSize: 2 });
    try {
      await applyMigrations(second.sql);
      // Everything copied and verified, then the commit never happens: nothing may be left behind.
      let failed: unknown;
      const failing = {
        ...second.sql,
        transaction: <T>(fn: (tx: typeof second.sql) => Promise<T>) =>
          second.sql.transaction(async (tx) => {
            const out = await fn(tx);
            throw new Error('power cut before commit');
            return out;
          }),
      };
      await copyStore(source!.store.sql, failing).catch((err: unknown) => (failed = err));
      expect(String(failed)).toMatch(/power cut/);
      const [row] = await second.sql.query<{ n: string }>(`SELECT (SELECT count(*) FROM "Case") + (SELECT count(*) FROM "Payment") + (SELECT count(*) FROM "AuditEvent") AS n`);
      expect(Number(row!.n)).toBe(0);
    } finally {
      await second.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });
});
