// Applies prisma/migrations/<timestamp>_<name>/migration.sql without Prisma's native engine,
// keeping Prisma Migrate's own bookkeeping (the `_prisma_migrations` table, its checksums and its
// advisory lock), so that `prisma migrate deploy` and `prisma migrate status` can be used on the
// same database by whoever can run them.
import { createHash, randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlRunner } from './sql.ts';
import { projectPath } from '../lib/paths.ts';

/** Prisma Migrate's bookkeeping table. */
export const MIGRATIONS_TABLE = '_prisma_migrations';

/**
 * The advisory lock key Prisma Migrate takes on PostgreSQL (`pg_advisory_lock(72707369)`):
 * taking the same key keeps this runner and `prisma migrate deploy` from migrating at once.
 */
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

const DEFAULT_DIR = projectPath('prisma', 'migrations');

export type MigrationErrorCode =
  /** An applied migration's file no longer has the checksum recorded when it was applied. */
  | 'EDITED'
  /** A migration started and never finished (a row with finished_at null, not rolled back). */
  | 'FAILED'
  /** The database records a migration that the folder does not have. */
  | 'UNKNOWN'
  /** The migrations folder is not usable (a folder without migration.sql, another provider). */
  | 'INVALID_FOLDER'
  /** A migration's SQL failed; its transaction was rolled back. */
  | 'APPLY_FAILED';

/** A refusal to migrate: the database and the migrations folder disagree, or a migration failed. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly code: MigrationErrorCode,
    /** The migrations concerned. */
    readonly migrations: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One migration of the folder. */
export interface Migration {
  /** The folder name, `<YYYYMMDDHHMMSS>_<name>`: what `_prisma_migrations.migration_name` holds. */
  name: string;
  /** Absolute path of its migration.sql. */
  path: string;
  sql: string;
  /** SHA-256 (hex) of the script, as Prisma computes it. */
  checksum: string;
}

/** A row of `_prisma_migrations`, as Prisma defines it. */
interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | string | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | string | null;
  started_at: Date | string;
  applied_steps_count: number;
}

// ------------------------------------------------------------------ checksums

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The checksum Prisma records for a migration script: SHA-256 of its UTF-8 text, 64 lowercase
 * hex digits (prisma-engines schema-connector `checksum.rs`, `render_checksum`).
 */
export function migrationChecksum(script: string): string {
  return sha256Hex(script);
}

/**
 * Whether `script` matches a recorded checksum, as Prisma decides it: line endings do not count
 * (a checkout that turned LF into CRLF, or back, still matches), and a checksum written by old
 * Prisma versions without zero-padding of each byte is understood.
 */
export function checksumMatches(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((v) => {
    const digest = createHash('sha256').update(v, 'utf8').digest();
    const rendered =
      checksum.length !== 0 && checksum.length !== 64
        ? Array.from(digest, (b) => b.toString(16)).join('') // the unpadded legacy form
        : digest.toString('hex');
    return rendered === checksum;
  });
}

// ------------------------------------------------------------------ the folder

function dirPath(dir: string | URL | undefined): string {
  const d = dir ?? DEFAULT_DIR;
  return d instanceof URL ? fileURLToPath(d) : path.resolve(d);
}

/**
 * The migrations of the folder (default: the repository's prisma/migrations), sorted by name:
 * every sub-folder, each with its migration.sql, as Prisma lists them. A missing folder has no
 * migrations. A sub-folder without migration.sql, or a migration_lock.toml for another provider,
 * is refused with a MigrationError.
 */
export async function listMigrations(dir?: string | URL): Promise<Migration[]> {
  const base = dirPath(dir);
  let entries;
  try {
    entries = await readdir(base, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lock = await readFile(path.join(base, 'migration_lock.toml'), 'utf8').catch(() => null);
  if (lock !== null) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(lock)?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError(
        `${path.join(base, 'migration_lock.toml')} says the migrations are for "${provider}", not "postgresql".`,
        'INVALID_FOLDER',
      );
    }
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const migrations: Migration[] = [];
  for (const name of names) {
    const file = path.join(base, name, 'migration.sql');
    let sql: string;
    try {
      // Read as text, as Prisma's CLI does: the checksum is of the UTF-8 text.
      sql = await readFile(file, 'utf8');
    } catch (err) {
      throw new MigrationError(`Migration ${name} has no readable migration.sql (${file}).`, 'INVALID_FOLDER', [name], {
        cause: err,
      });
    }
    migrations.push({ name, path: file, sql, checksum: migrationChecksum(sql) });
  }
  return migrations;
}

// ------------------------------------------------------------------ the database

/**
 * The table exactly as Prisma Migrate creates it on PostgreSQL (prisma-engines
 * sql-schema-connector, `PostgresFlavour::create_migrations_table`).
 */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

async function hasMigrationsTable(db: SqlRunner): Promise<boolean> {
  // Unqualified names resolve to the first schema of the search path, as with Prisma.
  const rows = await db.query<{ present: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1
     ) AS present`,
    [MIGRATIONS_TABLE],
  );
  return rows[0]?.present === true;
}

async function readRows(db: SqlRunner): Promise<MigrationRow[]> {
  if (!(await hasMigrationsTable(db))) return [];
  return db.query<MigrationRow>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM _prisma_migrations ORDER BY started_at, migration_name`,
  );
}

interface HistoryState {
  applied: Set<string>;
  pending: Migration[];
}

/**
 * Compares the folder with the rows, refusing what Prisma Migrate would refuse or flag: a failed
 * migration, an edited one, one unknown to the folder. Rolled-back rows are history only.
 */
function checkHistory(migrations: Migration[], rows: MigrationRow[]): HistoryState {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const live = rows.filter((r) => r.rolled_back_at === null);
  const failed = live.filter((r) => r.finished_at === null);
  const finished = live.filter((r) => r.finished_at !== null);
  const unknown = [...new Set(live.filter((r) => !byName.has(r.migration_name)).map((r) => r.migration_name))];
  const edited = [
    ...new Set(
      finished
        .filter((r) => {
          const m = byName.get(r.migration_name);
          return m !== undefined && !checksumMatches(m.sql, r.checksum);
        })
        .map((r) => r.migration_name),
    ),
  ];

  const problems: string[] = [];
  if (failed.length > 0) {
    const names = failed.map((r) => r.migration_name);
    problems.push(
      `Migration(s) ${names.join(', ')} failed earlier and are recorded as started but not finished. ` +
        `Repair the database by hand, then mark each one rolled back ` +
        `(\`prisma migrate resolve --rolled-back <name>\`, or ` +
        `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '<name>' AND finished_at IS NULL).`,
    );
  }
  if (edited.length > 0) {
    problems.push(
      `Migration(s) ${edited.join(', ')} were changed after they were applied (checksum mismatch). ` +
        `An applied migration must not be edited: restore the file and put the change in a new migration.`,
    );
  }
  if (unknown.length > 0) {
    problems.push(
      `The database has applied migration(s) that the migrations folder does not have: ${unknown.join(', ')}. ` +
        `The code is older than the database, or the folder lost a migration.`,
    );
  }
  if (problems.length > 0) {
    const code: MigrationErrorCode = failed.length > 0 ? 'FAILED' : edited.length > 0 ? 'EDITED' : 'UNKNOWN';
    const names = failed.length > 0 ? failed.map((r) => r.migration_name) : edited.length > 0 ? edited : unknown;
    throw new MigrationError(`Refusing to migrate. ${problems.join(' ')}`, code, names);
  }

  const applied = new Set(finished.map((r) => r.migration_name));
  return { applied, pending: migrations.filter((m) => !applied.has(m.name)) };
}

/**
 * The names of the folder's migrations that the database has not applied, in the order they
 * would be applied. Reads only; it does not check the history (applyMigrations does).
 */
export async function pendingMigrations(runner: SqlRunner, options: { dir?: string | URL } = {}): Promise<string[]> {
  const [migrations, rows] = await Promise.all([listMigrations(options.dir), readRows(runner)]);
  const applied = new Set(
    rows.filter((r) => r.rolled_back_at === null && r.finished_at !== null).map((r) => r.migration_name),
  );
  return migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
}

/**
 * Applies the pending migrations of the folder (default: the repository's prisma/migrations) in
 * name order, each in its own transaction together with its `_prisma_migrations` row, creating
 * that table as Prisma does when it is missing. Refuses with a MigrationError, before applying
 * anything, when an applied migration was edited, when one failed earlier, or when the database
 * has a migration the folder does not; and when a migration's SQL fails (that migration is rolled
 * back, the ones before it stay applied). On PostgreSQL each transaction first takes Prisma
 * Migrate's advisory lock and re-reads the history, so that concurrent runs (of this function or
 * of `prisma migrate deploy`) apply each migration once.
 */
export async function applyMigrations(
  runner: SqlRunner,
  options: { dir?: string | URL; log?: (msg: string) => void } = {},
): Promise<{ applied: string[] }> {
  const log = options.log ?? (() => {});
  const migrations = await listMigrations(options.dir);
  const applied: string[] = [];

  for (;;) {
    const done = await runner.transaction(async (tx) => {
      if (runner.kind === 'postgres') {
        // Held until this transaction ends; waits while another process migrates.
        await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_ADVISORY_LOCK_KEY]);
      }
      if (!(await hasMigrationsTable(tx))) {
        await tx.exec(CREATE_MIGRATIONS_TABLE);
      }
      const { pending } = checkHistory(migrations, await readRows(tx));
      const next = pending[0];
      if (next === undefined) return null;

      log(`Applying migration ${next.name}`);
      const started = Date.now();
      const id = randomUUID();
      // The row as Prisma writes it: started, the script, one step counted, finished.
      await tx.query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, clock_timestamp(), 0)`,
        [id, next.checksum, next.name],
      );
      try {
        await tx.exec(next.sql);
      } catch (err) {
        throw new MigrationError(
          `Migration ${next.name} failed, and was rolled back: ${(err as Error).message}`,
          'APPLY_FAILED',
          [next.name],
          { cause: err },
        );
      }
      await tx.query(
        `UPDATE _prisma_migrations
            SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
          WHERE id = $1`,
        [id],
      );
      log(`Applied migration ${next.name} in ${Date.now() - started} ms`);
      return next.name;
    });
    if (done === null) break;
    applied.push(done);
  }

  return { applied };
}
