/**
 * `npm run backup -- <file> [--no-evidence]`: a consistent copy of the embedded store
 * (ARREARS_DATA_DIR), also while the server runs (it makes the database copy and hands it over
 * its control socket: src/db/backup.ts).
 * `npm run restore -- <file> <folder>`: the backup into a new or empty folder, then opened once
 * to prove it. Serve it with ARREARS_DATA_DIR=<folder>.
 * On PostgreSQL, use pg_dump (see docs/operations.md): these commands are for the embedded store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { openEmbeddedStore } from '../db/store.ts';
import { StoreLockedError } from '../db/folder-lock.ts';
import { BackupError, dumpThroughServer, restoreBackupFile, writeBackupFile, type BackupManifest } from '../db/backup.ts';

const BACKUP_USAGE = 'usage: npm run backup -- <file> [--no-evidence]';
const RESTORE_USAGE = 'usage: npm run restore -- <file> <folder>';

function positional(args: string[]): string[] {
  return args.filter((a) => a !== '--' && !a.startsWith('--'));
}

/** Makes a backup of the embedded folder `dataDir` into `file`. */
export async function backupEmbeddedStore(
  file: string,
  options: { dataDir: string; evidenceDir: string; includeEvidence: boolean; now?: Date },
): Promise<BackupManifest> {
  const target = path.resolve(file);
  if (!fs.existsSync(path.dirname(target))) throw new BackupError(`The folder of ${target} does not exist.`);
  if (!fs.existsSync(path.join(options.dataDir, 'pgdata'))) throw new BackupError(`No embedded store in ${options.dataDir} (no pgdata folder).`);
  const pgdataFile = `${target}.pgdata.partial`;
  let madeBy: BackupManifest['madeBy'] = 'backup-command';
  try {
    const store = await openEmbeddedStore(options.dataDir, { purpose: 'backup' });
    try {
      const blob = await store.dumpDataDir!();
      fs.writeFileSync(pgdataFile, Buffer.from(await blob.arrayBuffer()), { mode: 0o600 });
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof StoreLockedError)) throw err;
    madeBy = 'server'; // the folder is in use: the process holding it makes the copy
    await dumpThroughServer(options.dataDir, pgdataFile);
  }
  try {
    return await writeBackupFile(target, { pgdataFile, dataDir: options.dataDir, evidenceDir: options.evidenceDir, madeBy, includeEvidence: options.includeEvidence, now: options.now ?? new Date() });
  } finally {
    fs.rmSync(pgdataFile, { force: true });
  }
}

export async function runBackupCommand(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const [file, ...extra] = positional(args);
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--' && a !== '--no-evidence');
  if (!file || extra.length || unknown.length) throw new ConfigError(BACKUP_USAGE);
  const config = loadConfig();
  if (config.databaseUrl) throw new ConfigError('DATABASE_URL is set: back up PostgreSQL with pg_dump (docs/operations.md, "Backups"); npm run backup is for the embedded store.');
  const started = Date.now();
  try {
    const m = await backupEmbeddedStore(file, { dataDir: config.dataDir, evidenceDir: config.evidenceDir, includeEvidence: !args.includes('--no-evidence') });
    const size = fs.statSync(file).size;
    out.write(
      `Backup of ${config.dataDir} written to ${path.resolve(file)} (${size.toLocaleString('en')} bytes, in ${((Date.now() - started) / 1000).toFixed(1)} s): ` +
        `the database${m.madeBy === 'server' ? ' (copied by the running server)' : ''}, ${m.secrets ? 'the secrets file' : 'no secrets file'}, ${m.evidenceFiles} evidence files.\n` +
        `It holds the secrets and personal data: keep it as you keep the data folder (mode 0600).\n`,
    );
  } catch (err) {
    if (err instanceof BackupError) throw new ConfigError(err.message);
    throw err;
  }
}

export async function runRestoreCommand(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const [file, folder, ...extra] = positional(args);
  if (!file || !folder || extra.length || args.some((a) => a.startsWith('--') && a !== '--')) throw new ConfigError(RESTORE_USAGE);
  try {
    const m = await restoreBackupFile(file, folder);
    out.write(
      `Restored the backup of ${m.createdAt} into ${path.resolve(folder)}: the database, ${m.secrets ? 'the secrets file' : 'no secrets file'}, ${m.evidenceFiles} evidence files.\n` +
        `Serve it with ARREARS_DATA_DIR=${path.resolve(folder)} npm start${m.secrets ? '' : ' (and the secrets the backed-up server had in its environment)'}.\n`,
    );
  } catch (err) {
    if (err instanceof BackupError) throw new ConfigError(err.message);
    throw err;
  }
}
