// npm run backup / npm run restore: a consistent copy of the embedded store made while the server
// holds the folder and writes go on, restored into an empty folder that answers as the original did.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openEmbeddedStore, type Store } from '../../src/db/store.ts';
import { startRuntime, type Runtime } from '../../src/bootstrap.ts';
import { loadSecrets } from '../../src/lib/secrets.ts';
import { FixedClock } from '../../src/lib/time.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { signToken } from '../../src/auth/tokens.ts';
import { FolderBlobStore } from '../../src/modules/evidence/blob-store.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { listenForBackups, restoreBackupFile, BackupError } from '../../src/db/backup.ts';
import { backupEmbeddedStore, runBackupCommand } from '../../src/cli/backup.ts';
import { tableFigures } from '../../src/db/copy.ts';

const clock = new FixedClock('2026-11-28T02:00:00.000Z');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-backup-'));
const dataDir = path.join(root, 'data');
const logger = createLogger('silent');
const env = (dir: string) => ({ NODE_ENV: 'test', ARREARS_DATA_DIR: dir, ARREARS_JOBS: 'off', ARREARS_USER_COST_BUDGET: '100000000/10000000' });

let server: Runtime;
let control: { close(): Promise<void> } | null;
const opened: Runtime[] = [];

async function casesAsSeenBy(runtime: Runtime, email: string) {
  const user = await runtime.store.prisma.user.findUniqueOrThrow({ where: { email } });
  const token = await signToken(runtime.secrets.jwtSecret, user, { now: clock.now() });
  const res = await runtime.app.fetch(
    new Request('http://arrears.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `{ cases(first: 50, orderBy: { field: OVERDUE_AMOUNT, direction: DESC }) { totalCount nodes { number stage daysPastDue overdue { minorUnits }
          debtor { fullName nationalIdMasked } payments(first: 5) { totalCount nodes { amount { minorUnits } } } evidence(first: 3) { nodes { sha256 } } } } }`,
      }),
    }),
  );
  const body = (await res.json()) as { data: unknown; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

async function figures(store: Store, tables: string[]) {
  const out: Record<string, unknown> = {};
  for (const t of tables) {
    const cols = await store.sql.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
      [`"${t}"`],
    );
    out[t] = await tableFigures(store.sql, { name: t, columns: cols.map((c) => ({ name: c.name, summed: ['integer', 'bigint'].includes(c.type) })) });
  }
  return out;
}

const DOMAIN_TABLES = ['Case', 'Debtor', 'Payment', 'PaymentAllocation', 'RepaymentPlan', 'Instalment', 'Evidence', 'EvidenceCustody', 'AuditEvent', 'CaseEvent', 'User'];

// The embedded store's feature: the PostgreSQL runs of the suite (TEST_DATABASE_URL) leave it to the PGlite runs.
describe.skipIf(process.env.TEST_DATABASE_URL)('npm run backup while the server runs, then npm run restore', () => {
  beforeAll(async () => {
    // The "server": the runtime that holds the folder, with the demo data, listening for backups as `npm start` does.
    const config = loadConfig(env(dataDir));
    const store = await openEmbeddedStore(dataDir, { purpose: 'server' });
    server = await startRuntime(config, { clock, logger, store });
    await seedDemo(store.prisma, { pii: server.deps.pii, clock, blobs: new FolderBlobStore(config.evidenceDir) });
    control = await listenForBackups(store, dataDir, logger);
  }, 120_000);

  afterAll(async () => {
    await control?.close();
    for (const r of opened) await r.close();
    await server?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('copies a consistent store under concurrent transactions; the restored folder answers the same queries', async () => {
    const prisma = server.store.prisma;
    const before = await figures(server.store, DOMAIN_TABLES);
    // Writers: each transaction writes two rows, with a pause between them. A copy taken inside a
    // transaction would hold one row of a pair without the other.
    let writing = true;
    let committed = 0;
    const writer = async (w: number) => {
      for (let i = 0; writing; i++) {
        await prisma.$transaction(async (tx) => {
          await tx.jobRun.create({ data: { name: 'pair-first', owner: `w${w}-${i}`, startedAt: clock.now(), status: 'ok' } });
          await new Promise((r) => setTimeout(r, 3));
          await tx.jobRun.create({ data: { name: 'pair-second', owner: `w${w}-${i}`, startedAt: clock.now(), status: 'ok' } });
        });
        committed++;
      }
    };
    const writers = [writer(1), writer(2)];
    await new Promise((r) => setTimeout(r, 100));
    const committedBefore = committed;
    const file = path.join(root, 'arrears.backup.tar.gz');
    const manifest = await backupEmbeddedStore(file, { dataDir, evidenceDir: server.config.evidenceDir, includeEvidence: true });
    writing = false;
    await Promise.all(writers);
    expect(manifest).toMatchObject({ madeBy: 'server', secrets: true });
    expect(manifest.evidenceFiles).toBeGreaterThan(100);
    expect(fs.statSync(file).mode & 0o077).toBe(0); // it holds the secrets: owner only
    expect(fs.readdirSync(root).filter((n) => n.includes('partial') || n.startsWith('.arrears-backup-'))).toEqual([]);

    const restored = path.join(root, 'restored');
    await restoreBackupFile(file, restored);
    expect(fs.readFileSync(path.join(restored, 'secrets.json'), 'utf8')).toBe(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8'));
    expect((fs.statSync(path.join(restored, 'secrets.json')).mode & 0o777).toString(8)).toBe('600');

    const runtime = await startRuntime(loadConfig(env(restored)), { clock, logger, purpose: 'restored' });
    opened.push(runtime);
    // Every pair whole, and at least the pairs committed before the backup began.
    const pairs = await runtime.store.sql.query<{ name: string; n: number }>(`SELECT name, count(*)::int AS n FROM "JobRun" WHERE name LIKE 'pair-%' GROUP BY name ORDER BY name`);
    expect(pairs[0]!.n).toBe(pairs[1]!.n);
    expect(pairs[0]!.n).toBeGreaterThanOrEqual(committedBefore);
    expect(pairs[0]!.n).toBeLessThanOrEqual(committed);
    // The domain's rows and money to the unit, and the same answers over GraphQL (secrets restored: masked IDs decrypt).
    expect(await figures(runtime.store, DOMAIN_TABLES)).toEqual(before);
    for (const email of ['admin@bank.example', 'manager@north.example']) {
      expect(await casesAsSeenBy(runtime, email)).toEqual(await casesAsSeenBy(server, email));
    }
    // Every evidence row finds its file, intact.
    const blobs = new FolderBlobStore(path.join(restored, 'evidence'));
    for (const { sha256 } of await runtime.store.prisma.evidence.findMany({ select: { sha256: true }, distinct: ['sha256'] })) {
      expect(await blobs.hash(sha256)).toBe(sha256);
    }
  }, 120_000);

  it('backs up a folder no process holds by opening it itself', async () => {
    // The folder restored above, its server stopped.
    const idle = path.join(root, 'restored');
    for (const r of opened.splice(0)) await r.close();
    const file = path.join(root, 'idle.tar.gz');
    const manifest = await backupEmbeddedStore(file, { dataDir: idle, evidenceDir: path.join(idle, 'evidence'), includeEvidence: false });
    expect(manifest).toMatchObject({ madeBy: 'backup-command', secrets: true, evidenceFiles: 0 });
    const back = path.join(root, 'idle-restored');
    await restoreBackupFile(file, back);
    expect(fs.existsSync(path.join(back, 'evidence'))).toBe(false);
    const [original, copy] = [await openEmbeddedStore(idle, { purpose: 'check' }), await openEmbeddedStore(back, { purpose: 'check' })];
    try {
      expect(await figures(copy, DOMAIN_TABLES)).toEqual(await figures(original, DOMAIN_TABLES));
    } finally {
      await original.close();
      await copy.close();
    }
  }, 60_000);

  it('refuses: a restore into a folder that is not empty, a file that is not a backup, a holder that does not answer, PostgreSQL', async () => {
    const file = path.join(root, 'idle.tar.gz');
    const busy = path.join(root, 'busy');
    fs.mkdirSync(busy);
    fs.writeFileSync(path.join(busy, 'keep.txt'), 'mine');
    await expect(restoreBackupFile(file, busy)).rejects.toThrow(/not empty/);
    expect(fs.readdirSync(busy)).toEqual(['keep.txt']);

    const junk = path.join(root, 'junk.tar.gz');
    fs.writeFileSync(junk, 'not a tarball');
    const target = path.join(root, 'junk-restored');
    await expect(restoreBackupFile(junk, target)).rejects.toThrow();
    expect(fs.readdirSync(target)).toEqual([]); // left as found

    // A process holds the folder but does not listen for backups (a seed, a migration).
    const held = await openEmbeddedStore(path.join(root, 'restored'), { purpose: 'seed:demo' });
    try {
      const attempt = backupEmbeddedStore(path.join(root, 'held.tar.gz'), { dataDir: path.join(root, 'restored'), evidenceDir: root, includeEvidence: false });
      await expect(attempt).rejects.toThrow(BackupError);
      await expect(attempt).rejects.toThrow(/does not answer backups/);
    } finally {
      await held.close();
    }
    expect(fs.existsSync(path.join(root, 'held.tar.gz'))).toBe(false);

    const saved = process.env;
    process.env = { ...saved, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    try {
      await expect(runBackupCommand([path.join(root, 'pg.tar.gz')])).rejects.toThrow(/pg_dump/);
    } finally {
      process.env = saved;
    }
  }, 60_000);
});
