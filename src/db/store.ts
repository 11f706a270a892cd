import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { SqlRunner } from './sql.ts';
import { acquireFolderLock, type FolderLock } from './folder-lock.ts';
import { createPGlite } from './pglite.ts';

/** One open database: the Prisma client for the application and plain SQL for maintenance. */
export interface Store {
  readonly kind: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  readonly sql: SqlRunner;
  /** Listeners told of every SQL statement Prisma sends (statement counting, slow-query logs). */
  onQuery(listener: (sql: string, durationMs: number) => void): () => void;
  /** Answers when the database answers. */
  ping(): Promise<void>;
  /** PostgreSQL only: the application pool's connections, for /metrics. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
  /** Embedded store only: a tarball of the whole database (test snapshots, backups). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

export type Db = PrismaClient;
/** A Prisma interactive transaction client. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

function pgliteRunner(db: PGlite | import('@electric-sql/pglite').Transaction): SqlRunner {
  return {
    kind: 'pglite',
    async exec(sql) {
      await db.exec(sql);
    },
    async query<T>(sql: string, params: unknown[] = []) {
      const res = await db.query<T>(sql, params as any[]);
      return res.rows;
    },
    async transaction(fn) {
      if (!('transaction' in db)) return fn(this);
      return (db as PGlite).transaction((tx) => fn(pgliteRunner(tx)));
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
      const res = await client.query(sql, params);
      return res.rows as T[];
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

function withQueryEvents(prisma: PrismaClient): Pick<Store, 'onQuery'> {
  const listeners = new Set<(sql: string, ms: number) => void>();
  (prisma as unknown as { $on(e: 'query', cb: (e: { query: string; duration: number }) => void): void }).$on(
    'query',
    (e) => {
      for (const l of listeners) l(e.query, e.duration);
    },
  );
  return {
    onQuery(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const LOG_QUERIES = [{ emit: 'event', level: 'query' }] as const;

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in `<dataDir>/pgdata`, or in
 * memory when dataDir is `memory://`. The folder belongs to one process at a time.
 */
export async function openEmbeddedStore(
  dataDir: string,
  options: { purpose?: string; loadDataDir?: Blob } = {},
): Promise<Store> {
  let lock: FolderLock | undefined;
  let pglite: PGlite;
  if (dataDir === 'memory://') {
    pglite = await createPGlite(undefined, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  } else {
    fs.mkdirSync(dataDir, { recursive: true });
    lock = acquireFolderLock(dataDir, options.purpose ?? 'arrears');
    try {
      pglite = await createPGlite(path.join(dataDir, 'pgdata'));
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite), log: [...LOG_QUERIES] });
  const events = withQueryEvents(prisma);
  return {
    kind: 'pglite',
    prisma,
    sql: pgliteRunner(pglite),
    ...events,
    async ping() {
      await pglite.query('select 1');
    },
    async dumpDataDir() {
      // Under PGlite's transaction lock, which the Prisma adapter holds for each interactive
      // transaction: the copy falls between two transactions. The checkpoint writes the data
      // files first, so a restored copy starts without replaying the write-ahead log.
      return pglite.transaction(async (tx) => {
        await tx.exec('CHECKPOINT');
        return pglite.dumpDataDir('none');
      });
    },
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      lock?.release();
    },
  };
}

/** PostgreSQL through node-postgres with a connection pool. */
export async function openPostgresStore(url: string, options: { poolSize?: number; onError?: (err: Error) => void } = {}): Promise<Store> {
  const max = options.poolSize ?? 10;
  // Our own pools, each with an error listener: an idle connection that the server drops (a restart,
  // a failover, an administrator) must not take the process down; the pool replaces it.
  const onIdleError = options.onError ?? (() => {});
  // A database that stops answering without refusing connections must not hang requests: past
  // 5 s a connection (new, or free in the pool) is not to be had, and the request gets UNAVAILABLE.
  const appPool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  appPool.on('error', onIdleError);
  const prisma = new PrismaClient({ adapter: new PrismaPg(appPool), log: [...LOG_QUERIES] });
  // A small separate pool for migrations and maintenance SQL.
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', onIdleError);
  const events = withQueryEvents(prisma);
  return {
    kind: 'postgres',
    prisma,
    sql: pgRunner(pool),
    ...events,
    poolStats: () => ({ total: appPool.totalCount, idle: appPool.idleCount, waiting: appPool.waitingCount, max }),
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await prisma.$disconnect();
      await Promise.all([appPool.ended ? undefined : appPool.end(), pool.end()]);
    },
  };
}

export async function openStore(
  config: { databaseUrl: string | undefined; dataDir: string; databasePoolSize?: number },
  purpose?: string,
  onError?: (err: Error) => void,
): Promise<Store> {
  return config.databaseUrl
    ? openPostgresStore(config.databaseUrl, { poolSize: config.databasePoolSize ?? 10, ...(onError ? { onError } : {}) })
    : openEmbeddedStore(config.dataDir, purpose === undefined ? {} : { purpose });
}
