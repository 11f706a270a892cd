/**
 * Copies every row of one database of Arrears into another of the same migrations: the embedded
 * store (PGlite) into an empty PostgreSQL database (`npm run store:copy`). Plain SQL on both
 * sides, driven by the target's catalogue, so that a new table needs no change here.
 *
 * - Tables in foreign-key order (parents first); a table that references itself (an evidence
 *   file superseding another) is read in the order of its chain, roots first.
 * - The target's own triggers are switched off for the copy (`DISABLE TRIGGER USER`, which the
 *   owner of the tables may do): the rows are copied as they are, so the triggers that derive
 *   rows (the outbox of case events, the agencies' case counts) must not derive them a second
 *   time, and the append-only guards have nothing to guard. Foreign keys stay checked.
 * - Every value crosses as PostgreSQL's text form and is cast back to its column's type: exact
 *   for integers, numerics, timestamps (with their offset), JSON, arrays and enums.
 * - One transaction on the target: the copy, the sequences, the triggers switched back on, and
 *   the verification (rows and sums of every integer and numeric column, source against target)
 *   commit together or not at all. A failed copy leaves the target empty.
 */
import type { SqlRunner } from './sql.ts';
import { MIGRATIONS_TABLE } from './migrations.ts';

export class StoreCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCopyError';
  }
}

/** What one table holds: its rows and the sum of each integer or numeric column (money included). */
export interface TableFigures {
  table: string;
  rows: number;
  /** Column name → sum, as exact decimal text. */
  sums: Record<string, string>;
}

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface CopyReport {
  /** Tables in the order they were copied, with the figures verified on both sides. */
  tables: TableFigures[];
  /** Sequences set on the target to the source's state. */
  sequences: { name: string; lastValue: string | null }[];
  rows: number;
  /** Table → its bigint columns: money is a bigint of minor units (prisma/schema.prisma). */
  moneyColumns: Record<string, string[]>;
}

interface Column {
  name: string;
  type: string;
  identityAlways: boolean;
  summed: boolean;
}

interface Table {
  name: string;
  columns: Column[];
  primaryKey: string[];
  /** A single-column reference of the table to itself, if any: rows are copied parents first. */
  selfReference?: { column: string; references: string };
}

const SUMMED_TYPES = new Set(['smallint', 'integer', 'bigint']);
const MAX_PARAMETERS = 65_000; // PostgreSQL's limit is 65,535 bind parameters a statement

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

async function tableNames(db: SqlRunner): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY 1`,
    [MIGRATIONS_TABLE],
  );
  return rows.map((r) => r.name);
}

async function appliedMigrations(db: SqlRunner): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT migration_name AS name FROM ${ident(MIGRATIONS_TABLE)} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return rows.map((r) => r.name);
}

async function describeTables(db: SqlRunner, names: string[]): Promise<Map<string, Table>> {
  const tables = new Map<string, Table>();
  for (const name of names) {
    const columns = await db.query<{ name: string; type: string; generated: string; identity: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated::text AS generated, a.attidentity::text AS identity
         FROM pg_attribute a
        WHERE a.attrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [name],
    );
    const primaryKey = await db.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [name],
    );
    tables.set(name, {
      name,
      // Generated columns are computed again by the target.
      columns: columns
        .filter((c) => c.generated === '')
        .map((c) => ({ name: c.name, type: c.type, identityAlways: c.identity === 'a', summed: SUMMED_TYPES.has(c.type) || c.type.startsWith('numeric') })),
      primaryKey: primaryKey.map((c) => c.name),
    });
  }
  return tables;
}

interface ForeignKey {
  child: string;
  parent: string;
  columns: string[];
  references: string[];
}

async function foreignKeys(db: SqlRunner): Promise<ForeignKey[]> {
  const rows = await db.query<{ child: string; parent: string; columns: string[]; refs: string[] }>(
    `SELECT ch.relname AS child, pa.relname AS parent,
            ARRAY(SELECT attname::text FROM unnest(con.conkey) k JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k) AS columns,
            ARRAY(SELECT attname::text FROM unnest(con.confkey) k JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k) AS refs
       FROM pg_constraint con
       JOIN pg_class ch ON ch.oid = con.conrelid
       JOIN pg_class pa ON pa.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = ch.relnamespace
      WHERE con.contype = 'f' AND n.nspname = current_schema()`,
  );
  return rows.map((r) => ({ child: r.child, parent: r.parent, columns: r.columns, references: r.refs }));
}

/** Parents before children (Kahn's algorithm, ties by name so the order is stable). */
export function dependencyOrder(names: string[], keys: ForeignKey[]): string[] {
  const parents = new Map(names.map((n) => [n, new Set<string>()]));
  for (const k of keys) if (k.child !== k.parent && parents.has(k.child) && parents.has(k.parent)) parents.get(k.child)!.add(k.parent);
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < names.length) {
    const ready = names.filter((n) => !done.has(n) && [...parents.get(n)!].every((p) => done.has(p)));
    if (ready.length === 0) {
      const left = names.filter((n) => !done.has(n));
      throw new StoreCopyError(`The foreign keys of ${left.join(', ')} form a cycle: no order copies them.`);
    }
    for (const n of ready.sort()) {
      order.push(n);
      done.add(n);
    }
  }
  return order;
}

/** The SELECT that reads a table in copy order, every column as text (aliased c0, c1, …). */
function readStatement(table: Table): string {
  const list = table.columns.map((c, i) => `t.${ident(c.name)}::text AS c${i}`).join(', ');
  const byKey = (table.primaryKey.length ? table.primaryKey : table.columns.map((c) => c.name)).map((c) => `t.${ident(c)}`).join(', ');
  const self = table.selfReference;
  if (!self) return `SELECT ${list} FROM ${ident(table.name)} t ORDER BY ${byKey}`;
  // Depth in the chain of the self-reference: a row comes after the row it references.
  const [col, ref] = [ident(self.column), ident(self.references)];
  return `WITH RECURSIVE chain AS (
      SELECT r.${ref} AS key, 0 AS depth FROM ${ident(table.name)} r WHERE r.${col} IS NULL
      UNION ALL
      SELECT c.${ref}, chain.depth + 1 FROM ${ident(table.name)} c JOIN chain ON c.${col} = chain.key
    )
    SELECT ${list} FROM ${ident(table.name)} t JOIN chain ON chain.key = t.${ref} ORDER BY chain.depth, ${byKey}`;
}

function insertStatement(table: Table, rowCount: number): string {
  const cols = table.columns;
  const values: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    values.push(`(${cols.map((c, i) => `$${r * cols.length + i + 1}::${c.type}`).join(', ')})`);
  }
  const overriding = cols.some((c) => c.identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  return `INSERT INTO ${ident(table.name)} (${cols.map((c) => ident(c.name)).join(', ')})${overriding} VALUES ${values.join(', ')}`;
}

/** Rows and sums of a table, read the same way on both sides. */
export async function tableFigures(db: SqlRunner, table: { name: string; columns: { name: string; summed: boolean }[] }): Promise<TableFigures> {
  const summed = table.columns.filter((c) => c.summed);
  const sums = summed.map((c, i) => `COALESCE(sum(${ident(c.name)}), 0)::text AS s${i}`);
  const [row] = await db.query<Record<string, string>>(`SELECT count(*)::text AS n${sums.length ? ', ' + sums.join(', ') : ''} FROM ${ident(table.name)}`);
  return {
    table: table.name,
    rows: Number(row!.n),
    sums: Object.fromEntries(summed.map((c, i) => [c.name, row![`s${i}`]!])),
  };
}

/**
 * Copies `source` into `target` (both migrated to the same migrations; the target empty), then
 * verifies every table's rows and sums before committing.
 */
export async function copyStore(
  source: SqlRunner,
  target: SqlRunner,
  options: { batchRows?: number; onProgress?: (p: CopyProgress) => void } = {},
): Promise<CopyReport> {
  const [sourceMigrations, targetMigrations] = await Promise.all([appliedMigrations(source), appliedMigrations(target)]);
  if (sourceMigrations.join('\n') !== targetMigrations.join('\n')) {
    throw new StoreCopyError(
      `The source and the target are not at the same migrations (source: ${sourceMigrations.length}, last ${sourceMigrations.at(-1) ?? 'none'}; ` +
        `target: ${targetMigrations.length}, last ${targetMigrations.at(-1) ?? 'none'}). Apply the migrations to both first.`,
    );
  }
  const names = await tableNames(target);
  const sourceNames = await tableNames(source);
  if (names.join('\n') !== sourceNames.join('\n')) {
    const missing = sourceNames.filter((n) => !names.includes(n));
    const extra = names.filter((n) => !sourceNames.includes(n));
    throw new StoreCopyError(`The target's tables differ from the source's (only in the source: ${missing.join(', ') || 'none'}; only in the target: ${extra.join(', ') || 'none'}).`);
  }
  const keys = await foreignKeys(target);
  const tables = await describeTables(target, names);
  for (const k of keys) {
    if (k.child !== k.parent) continue;
    if (k.columns.length !== 1 || tables.get(k.child)!.selfReference) {
      throw new StoreCopyError(`${k.child} references itself in a way this copy does not order (more than one column or key).`);
    }
    tables.get(k.child)!.selfReference = { column: k.columns[0]!, references: k.references[0]! };
  }
  const order = dependencyOrder(names, keys);

  return target.transaction(async (tx) => {
    // Refuse a target that holds anything: a copy never merges into existing data.
    const occupied: string[] = [];
    for (const name of order) {
      const [row] = await tx.query<{ found: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${ident(name)}) AS found`);
      if (row!.found) occupied.push(name);
    }
    if (occupied.length) {
      throw new StoreCopyError(`The target database is not empty (rows in ${occupied.join(', ')}). Copy into a new database, migrated and never served.`);
    }
    for (const name of order) await tx.exec(`ALTER TABLE ${ident(name)} DISABLE TRIGGER USER`);

    let rows = 0;
    const figures: TableFigures[] = [];
    const sequences: CopyReport['sequences'] = [];
    await source.transaction(async (src) => {
      for (const name of order) {
        const table = tables.get(name)!;
        const expected = await tableFigures(src, table);
        const batch = Math.max(1, Math.min(options.batchRows ?? 1000, Math.floor(MAX_PARAMETERS / table.columns.length)));
        await src.exec(`DECLARE arrears_copy NO SCROLL CURSOR FOR ${readStatement(table)}`);
        let copied = 0;
        options.onProgress?.({ table: name, copied, total: expected.rows });
        for (;;) {
          const chunk = await src.query<Record<string, string | null>>(`FETCH FORWARD ${batch} FROM arrears_copy`);
          if (chunk.length === 0) break;
          const params: (string | null)[] = [];
          for (const r of chunk) for (let i = 0; i < table.columns.length; i++) params.push(r[`c${i}`] ?? null);
          await tx.query(insertStatement(table, chunk.length), params);
          copied += chunk.length;
          options.onProgress?.({ table: name, copied, total: expected.rows });
        }
        await src.exec('CLOSE arrears_copy');
        const got = await tableFigures(tx, table);
        if (got.rows !== expected.rows || JSON.stringify(got.sums) !== JSON.stringify(expected.sums)) {
          throw new StoreCopyError(
            `${name}: the copy does not match the source (source ${expected.rows} rows, sums ${JSON.stringify(expected.sums)}; ` +
              `target ${got.rows} rows, sums ${JSON.stringify(got.sums)}). Nothing was committed.`,
          );
        }
        figures.push(got);
        rows += got.rows;
      }
      // Sequences continue where the source's stopped (case numbers, outbox ids).
      const seqs = await src.query<{ name: string; last: string | null }>(
        `SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1`,
      );
      for (const s of seqs) {
        if (s.last !== null) await tx.query(`SELECT setval($1::regclass, $2::bigint, true)`, [ident(s.name), s.last]);
        sequences.push({ name: s.name, lastValue: s.last });
      }
    });
    for (const name of order) await tx.exec(`ALTER TABLE ${ident(name)} ENABLE TRIGGER USER`);
    const moneyColumns = Object.fromEntries(order.map((n) => [n, tables.get(n)!.columns.filter((c) => c.type === 'bigint').map((c) => c.name)]));
    return { tables: figures, sequences, rows, moneyColumns };
  });
}
