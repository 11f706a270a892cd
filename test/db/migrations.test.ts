// The migration machinery: prisma/migrations applied without Prisma's native engine, checked by
// Prisma's own (WebAssembly) schema engine against prisma/schema.prisma.
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  checksumMatches,
  listMigrations,
  migrationChecksum,
  MigrationError,
  pendingMigrations,
} from '../../src/db/migrations.ts';
import { DEFAULT_MIGRATIONS_DIR, diagnoseMigrationHistory, diffDatabaseToSchema } from '../../src/db/schema-engine.ts';
import { createPGlite } from '../../src/db/pglite.ts';
import type { SqlRunner } from '../../src/db/sql.ts';

// ------------------------------------------------------------------ runners

function pgliteRunner(db: PGlite | Transaction): SqlRunner {
  return {
    kind: 'pglite',
    async exec(sql) {
      await db.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params as never[])).rows;
    },
    async transaction(fn) {
      if (db instanceof PGlite) return db.transaction((tx) => fn(pgliteRunner(tx)));
      return fn(this);
    },
  };
}

function pgRunner(client: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    kind: 'postgres',
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async transaction(fn) {
      if (!(client instanceof pg.Pool)) return fn(this);
      const conn = await client.connect();
      try {
        await conn.query('BEGIN');
        const out = await fn(pgRunner(conn));
        await conn.query('COMMIT');
        return out;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    },
  };
}

async function expectMigrationError(p: Promise<unknown>, code: MigrationError['code']): Promise<MigrationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigrationError);
  expect((err as MigrationError).code).toBe(code);
  return err as MigrationError;
}

/** A copy of prisma/migrations that a test may change. */
async function copyOfMigrations(tmp: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmp, 'migrations-'));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

// ------------------------------------------------------------------ the folder

describe('the migrations folder', () => {
  it('holds Prisma-layout migrations and the PostgreSQL lock file', async () => {
    const migrations = await listMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(m.name).toMatch(/^\d{14}_[a-z0-9_]+$/);
    expect(migrations.map((m) => m.name)).toEqual(migrations.map((m) => m.name).sort());
    const lock = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8');
    expect(lock).toMatch(/^provider = "postgresql"$/m);
  });

  it('computes checksums as Prisma does', () => {
    // prisma-engines checksum.rs test vector.
    expect(migrationChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(checksumMatches('a\r\nb\r\n', migrationChecksum('a\nb\n'))).toBe(true);
    expect(checksumMatches('a\nb\n', migrationChecksum('a\r\nb\r\n'))).toBe(true);
    expect(checksumMatches('abc\n', migrationChecksum('abc'))).toBe(false);
    // Checksums written by old Prisma versions lack the zero-padding of each byte.
    const legacy = Array.from(Buffer.from(migrationChecksum('hello'), 'hex'), (b) => b.toString(16)).join('');
    expect(legacy.length).toBeLessThan(64);
    expect(checksumMatches('hello', legacy)).toBe(true);
  });
});

// ------------------------------------------------------------------ PGlite

describe('on PGlite', () => {
  let tmp: string;
  let db: PGlite; // migrated once; tests that change it work on a clone
  let snapshot: Blob;
  let firstApply: { applied: string[] };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'arrears-migrations-'));
    db = await createPGlite();
    firstApply = await applyMigrations(pgliteRunner(db));
    snapshot = await db.dumpDataDir('none');
  });

  afterAll(async () => {
    await db?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('applies every migration to a new database, with Prisma bookkeeping', async () => {
    const names = (await listMigrations()).map((m) => m.name);
    expect(firstApply.applied).toEqual(names);
    const rows = await db.query<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
      applied_steps_count: number;
    }>('SELECT * FROM _prisma_migrations ORDER BY migration_name');
    const files = await listMigrations();
    expect(rows.rows.map((r) => r.migration_name)).toEqual(names);
    rows.rows.forEach((r, i) => {
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.checksum).toBe(files[i]!.checksum);
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.rolled_back_at).toBeNull();
      expect(r.logs).toBeNull();
      expect(r.applied_steps_count).toBe(1);
    });
  });

  it('(a) leaves no drift: the migrated database matches schema.prisma', async () => {
    // Fails when schema.prisma changed without `npm run migrate:create -- <name>`.
    const drift = await diffDatabaseToSchema(db);
    expect(drift.sql, 'schema.prisma differs from prisma/migrations: create a migration').toBe('');
    expect(drift.changed).toBe(false);
  });

  it('(a) the drift check does see a difference', async () => {
    const schema = await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
    const changed = `${schema}\nmodel DriftProbe {\n  id Int @id\n}\n`;
    const schemaPath = path.join(tmp, 'schema.prisma');
    await writeFile(schemaPath, changed);
    const drift = await diffDatabaseToSchema(db, { schemaPath });
    expect(drift.changed).toBe(true);
    expect(drift.sql).toContain('CREATE TABLE "DriftProbe"');
  });

  it("is what Prisma Migrate's own engine reads as up to date", async () => {
    const status = await diagnoseMigrationHistory(db);
    expect(status).toEqual({
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: null,
    });
  });

  it('(b) applying twice applies nothing the second time', async () => {
    const before = await db.query('SELECT id FROM _prisma_migrations');
    expect(await pendingMigrations(pgliteRunner(db))).toEqual([]);
    expect(await applyMigrations(pgliteRunner(db))).toEqual({ applied: [] });
    const after = await db.query('SELECT id FROM _prisma_migrations');
    expect(after.rows).toEqual(before.rows);
  });

  it('(c) refuses a migration file changed after it was applied', async () => {
    const dir = await copyOfMigrations(tmp);
    const [first] = await listMigrations(dir);
    await writeFile(first!.path, `${first!.sql}\n-- an edit\n`);
    const err = await expectMigrationError(applyMigrations(pgliteRunner(db), { dir }), 'EDITED');
    expect(err.migrations).toEqual([first!.name]);
    expect(err.message).toContain(first!.name);
    // Line endings alone are not an edit (git may turn LF into CRLF).
    await writeFile(first!.path, first!.sql.replaceAll('\n', '\r\n'));
    expect(await applyMigrations(pgliteRunner(db), { dir })).toEqual({ applied: [] });
  });

  it('refuses when the database has a migration the folder does not', async () => {
    const dir = await mkdtemp(path.join(tmp, 'empty-'));
    const err = await expectMigrationError(applyMigrations(pgliteRunner(db), { dir }), 'UNKNOWN');
    expect(err.migrations).toEqual(firstApply.applied);
  });

  describe('on a clone of the migrated database', () => {
    const PROBE = ['99990101000001_probe', 'CREATE TABLE "Probe" (id int PRIMARY KEY);\n'] as const;
    let clone: PGlite;
    beforeAll(async () => {
      clone = await createPGlite(undefined, { loadDataDir: snapshot });
    });
    afterAll(async () => {
      await clone?.close();
    });

    it('applies new migrations in order, and rolls back a failing one alone', async () => {
      const dir = await copyOfMigrations(tmp);
      await addMigration(dir, '99990101000002_broken', 'CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";\n');
      await addMigration(dir, ...PROBE);
      expect(await pendingMigrations(pgliteRunner(clone), { dir })).toEqual([
        '99990101000001_probe',
        '99990101000002_broken',
      ]);
      const err = await expectMigrationError(applyMigrations(pgliteRunner(clone), { dir }), 'APPLY_FAILED');
      expect(err.migrations).toEqual(['99990101000002_broken']);
      expect(err.message).toContain('NoSuchTable');
      const tables = await clone.query<{ t: string | null }>(
        `SELECT to_regclass('"Probe"')::text AS t UNION ALL SELECT to_regclass('"Half"')::text`,
      );
      expect(tables.rows.map((r) => r.t)).toEqual(['"Probe"', null]);
      expect(await pendingMigrations(pgliteRunner(clone), { dir })).toEqual(['99990101000002_broken']);
    });

    it('refuses while a migration is recorded as failed', async () => {
      const dir = await copyOfMigrations(tmp);
      await addMigration(dir, ...PROBE); // applied by the test above
      await addMigration(dir, '99990101000003_failed', 'SELECT 1;\n');
      // What `prisma migrate deploy` leaves behind when a migration fails.
      await clone.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, applied_steps_count)
         VALUES ($1, $2, '99990101000003_failed', 'boom', now(), 0)`,
        [randomUUID(), migrationChecksum('SELECT 1;\n')],
      );
      const err = await expectMigrationError(applyMigrations(pgliteRunner(clone), { dir }), 'FAILED');
      expect(err.migrations).toEqual(['99990101000003_failed']);
      expect(err.message).toMatch(/rolled.back/);
      // Marked rolled back (`prisma migrate resolve --rolled-back`), it is pending again.
      await clone.query(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '99990101000003_failed'`);
      const { applied } = await applyMigrations(pgliteRunner(clone), { dir });
      expect(applied).toContain('99990101000003_failed');
      expect(await pendingMigrations(pgliteRunner(clone), { dir })).toEqual([]);
    });
  });
});

// ------------------------------------------------------------------ PostgreSQL

const serverUrl = process.env.TEST_DATABASE_URL;

/**
 * Drops a test database once its connections are gone: a pool's end() resolves before its
 * sockets close, and terminating them (WITH (FORCE)) would raise errors in this process.
 */
async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55006') throw err; // object_in_use
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

describe.skipIf(!serverUrl)('(d) on PostgreSQL (TEST_DATABASE_URL)', () => {
  const dbName = `arrears_migrations_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let url: string;
  const pools: pg.Pool[] = [];
  let created = false;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    created = true;
    const u = new URL(serverUrl!);
    u.pathname = `/${dbName}`;
    url = u.toString();
    for (let i = 0; i < 3; i++) pools.push(new pg.Pool({ connectionString: url, max: 2 }));
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    if (created) await dropDatabase(admin, dbName);
    await admin?.end();
  });

  it('applies each migration once when three processes migrate at once', async () => {
    const names = (await listMigrations()).map((m) => m.name);
    const results = await Promise.all(pools.map((p) => applyMigrations(pgRunner(p))));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
    const rows = await pools[0]!.query('SELECT migration_name, checksum, applied_steps_count FROM _prisma_migrations');
    expect(rows.rows).toHaveLength(names.length);
  });

  it('applies nothing the second time', async () => {
    expect(await pendingMigrations(pgRunner(pools[0]!))).toEqual([]);
    expect(await applyMigrations(pgRunner(pools[1]!))).toEqual({ applied: [] });
  });

  it('leaves no drift against schema.prisma', async () => {
    expect(await diffDatabaseToSchema({ connectionString: url })).toEqual({ changed: false, sql: '' });
    expect((await diagnoseMigrationHistory({ connectionString: url })).history).toBeNull();
  });

  it('refuses a changed migration file', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'arrears-migrations-pg-'));
    try {
      const dir = await copyOfMigrations(tmp);
      const [first] = await listMigrations(dir);
      await writeFile(first!.path, `${first!.sql}\n-- an edit\n`);
      await expectMigrationError(applyMigrations(pgRunner(pools[0]!), { dir }), 'EDITED');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
