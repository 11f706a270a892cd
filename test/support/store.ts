import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openEmbeddedStore, openPostgresStore, type Store } from '../../src/db/store.ts';
import { applyMigrations, listMigrations } from '../../src/db/migrations.ts';

/**
 * A fresh, migrated database for one test file: PGlite in memory (loaded from a snapshot of a
 * migrated database, ~0.4 s instead of ~3 s), or, when TEST_DATABASE_URL names a PostgreSQL
 * server, a database created for the file and dropped after.
 */
export async function createTestStore(): Promise<Store> {
  const url = process.env.TEST_DATABASE_URL;
  return url ? postgresTestStore(url) : pgliteTestStore();
}

async function migrationsFingerprint(): Promise<string> {
  const migrations = await listMigrations();
  const h = createHash('sha256');
  for (const m of migrations) h.update(m.name).update(m.checksum);
  return h.digest('hex').slice(0, 16);
}

async function pgliteTestStore(): Promise<Store> {
  const snapshot = path.join(os.tmpdir(), `arrears-pglite-${await migrationsFingerprint()}.tar`);
  if (!fs.existsSync(snapshot)) {
    const fresh = await openEmbeddedStore('memory://');
    await applyMigrations(fresh.sql);
    const blob = await fresh.dumpDataDir!();
    await fresh.close();
    const tmp = `${snapshot}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
    fs.renameSync(tmp, snapshot); // atomic: parallel test files never read half a snapshot
  }
  return openEmbeddedStore('memory://', { loadDataDir: new Blob([fs.readFileSync(snapshot)]) });
}

async function postgresTestStore(adminUrl: string): Promise<Store> {
  const name = `arrears_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const store = await openPostgresStore(u.toString(), { poolSize: 5 });
  await applyMigrations(store.sql);
  return {
    ...store,
    async close() {
      await store.close();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
