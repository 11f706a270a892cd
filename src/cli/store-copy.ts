/**
 * `npm run store:copy -- --to postgres://… [--evidence-dir <folder>] [--batch <rows>]`: moves an
 * install from the embedded store to PostgreSQL. Every row of the embedded folder
 * (ARREARS_DATA_DIR) is copied into an empty PostgreSQL database in batches, verified table by
 * table (rows, and sums of every integer column: all the money), in one transaction
 * (src/db/copy.ts). The server must be stopped: the copy holds the folder's lock.
 *
 * Evidence files are not in the database: they stay where they are (point ARREARS_EVIDENCE_DIR
 * at them), or `--evidence-dir` copies every file a row names into a new folder, checking each
 * file's SHA-256 on the way.
 */
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { openEmbeddedStore, openPostgresStore, type Store } from '../db/store.ts';
import { applyMigrations } from '../db/migrations.ts';
import { copyStore, StoreCopyError, type CopyProgress, type CopyReport } from '../db/copy.ts';
import { FolderBlobStore, type BlobStore } from '../modules/evidence/blob-store.ts';

export interface StoreCopyArgs {
  to: string;
  evidenceDir: string | null;
  batchRows: number;
}

const USAGE = 'usage: npm run store:copy -- --to postgres://user@host:5432/database [--evidence-dir <folder>] [--batch <rows>]';

export function parseStoreCopyArgs(args: string[]): StoreCopyArgs {
  let to: string | undefined;
  let evidenceDir: string | null = null;
  let batchRows = 1000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new ConfigError(`${a} needs a value. ${USAGE}`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--to') to = value();
    else if (a.startsWith('--to=')) to = a.slice(5);
    else if (a === '--evidence-dir') evidenceDir = path.resolve(value());
    else if (a === '--batch') batchRows = Number(value());
    else if (a === '--help' || a === '-h') throw new ConfigError(USAGE);
    else throw new ConfigError(`unknown argument "${a}". ${USAGE}`);
  }
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new ConfigError(`--to must name a PostgreSQL database (postgres://…). ${USAGE}`);
  if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 10_000) throw new ConfigError('--batch is a number of rows from 1 to 10000.');
  return { to, evidenceDir, batchRows };
}

/** Copies the file of every evidence row into another store, verifying each file's hash. */
export async function copyEvidenceFiles(source: Store, from: BlobStore, to: BlobStore, log: (line: string) => void): Promise<{ files: number; bytes: number }> {
  const rows = await source.sql.query<{ sha256: string }>(`SELECT DISTINCT "sha256" FROM "Evidence" ORDER BY 1`);
  let bytes = 0;
  for (const [i, { sha256 }] of rows.entries()) {
    const stream = await from.get(sha256);
    if (!stream) throw new StoreCopyError(`The evidence file ${sha256} is missing from the source folder: nothing to copy.`);
    const staged = await to.put(stream, { maxBytes: Number.MAX_SAFE_INTEGER });
    if (staged.sha256 !== sha256) {
      await staged.discard();
      throw new StoreCopyError(`The evidence file ${sha256} does not hash to its name (${staged.sha256}): the source file is damaged.`);
    }
    await staged.commit();
    bytes += staged.size;
    if ((i + 1) % 100 === 0 || i + 1 === rows.length) log(`evidence files: ${i + 1}/${rows.length}`);
  }
  return { files: rows.length, bytes };
}

function progressPrinter(write: (s: string) => void, tty: boolean): (p: CopyProgress) => void {
  let last = 0;
  return (p) => {
    const finished = p.copied === p.total;
    const now = Date.now();
    if (!finished && now - last < 500) return;
    last = now;
    const line = `${p.table}: ${p.copied.toLocaleString('en')}/${p.total.toLocaleString('en')} rows`;
    if (tty) write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
    else if (finished) write(`${line}\n`);
  };
}

export function formatReport(report: CopyReport): string {
  const lines = ['', 'Verified, table by table: rows and the sum of every integer column (all the money) equal on both sides.', 'Rows, and the sums of the money columns:'];
  for (const t of report.tables) {
    const sums = Object.entries(t.sums).filter(([k]) => report.moneyColumns[t.table]?.includes(k)).map(([k, v]) => `${k} Σ ${v}`);
    lines.push(`  ${t.table.padEnd(22)} ${String(t.rows).padStart(9)} rows${sums.length ? `   ${sums.join(', ')}` : ''}`);
  }
  lines.push(`${report.rows.toLocaleString('en')} rows in ${report.tables.length} tables; ${report.sequences.length} sequences set.`);
  return lines.join('\n');
}

export async function runStoreCopyCommand(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const parsed = parseStoreCopyArgs(args);
  const config = loadConfig();
  const write = (s: string) => void out.write(s);
  const started = Date.now();
  const source = await openEmbeddedStore(config.dataDir, { purpose: 'store:copy' });
  let target: Store | undefined;
  try {
    await applyMigrations(source.sql);
    target = await openPostgresStore(parsed.to, { poolSize: 2 });
    const { applied } = await applyMigrations(target.sql);
    if (applied.length) write(`Applied ${applied.length} migration(s) to the target.\n`);
    write(`Copying ${config.dataDir} into ${redact(parsed.to)}, ${parsed.batchRows} rows a batch.\n`);
    const report = await copyStore(source.sql, target.sql, {
      batchRows: parsed.batchRows,
      onProgress: progressPrinter(write, Boolean((out as NodeJS.WriteStream).isTTY)),
    });
    write(`${formatReport(report)}\n`);
    let evidenceDir = config.evidenceDir;
    if (parsed.evidenceDir) {
      const files = await copyEvidenceFiles(source, new FolderBlobStore(config.evidenceDir), new FolderBlobStore(parsed.evidenceDir), (l) => write(`${l}\n`));
      write(`Copied ${files.files} evidence files (${files.bytes.toLocaleString('en')} bytes) to ${parsed.evidenceDir}, each checked against its SHA-256.\n`);
      evidenceDir = parsed.evidenceDir;
    }
    write(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. To serve from PostgreSQL:\n` +
        `  DATABASE_URL=${redact(parsed.to)}\n` +
        `  ARREARS_EVIDENCE_DIR=${evidenceDir}\n` +
        `  ARREARS_JWT_SECRET, ARREARS_PII_KEY, ARREARS_BLIND_INDEX_KEY: the values of jwtSecret, piiKey and blindIndexKey in\n` +
        `  ${path.join(config.dataDir, 'secrets.json')} (or those you set), into your secrets manager: without the PII key the\n` +
        `  copied national ID numbers cannot be read. The embedded folder is left as it was.\n`,
    );
  } catch (err) {
    if (err instanceof StoreCopyError) throw new ConfigError(err.message);
    throw err;
  } finally {
    await target?.close();
    await source.close();
  }
}

/** A connection string without its password, for printing. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(the --to URL)';
  }
}
