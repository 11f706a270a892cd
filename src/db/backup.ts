/**
 * Backups of the embedded store, also while the server runs.
 *
 * The folder belongs to one process (src/db/folder-lock.ts), and copying PGlite's files from
 * outside while it writes would copy a torn database. So the process that holds the folder makes
 * the copy: the server listens on a Unix socket inside the data folder
 * (`<dataDir>/run/arrears.sock`, in a folder of mode 0700), and `npm run backup` asks it there.
 * Reaching the socket takes the same rights as reading the folder itself (which holds
 * secrets.json), so it needs no token, and nothing is exposed on the network port. When no
 * process holds the folder, the backup command opens it and makes the copy itself.
 *
 * The copy is PGlite's `dumpDataDir` taken under PGlite's transaction lock after a CHECKPOINT
 * (Store.dumpDataDir): the Prisma adapter runs each interactive transaction under that lock, so
 * the dump falls between two transactions, never inside one.
 *
 * A backup file is a gzipped tar: `manifest.json`, `pgdata.tar` (the database), `secrets.json`
 * (the generated secrets, when the folder has them) and `evidence/` (the evidence files, read
 * after the dump: files are written before their row commits and never change, so every row in
 * the dump finds its file).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as tar from 'tar';
import type { Store } from './store.ts';
import { createPGlite } from './pglite.ts';

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export const BACKUP_FORMAT = 1;

export interface BackupManifest {
  format: number;
  createdAt: string;
  /** Who made the database copy: the running server, or the backup command itself. */
  madeBy: 'server' | 'backup-command';
  databaseBytes: number;
  secrets: boolean;
  evidenceFiles: number;
}

/** The control socket of the process holding a data folder. */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'run', 'arrears.sock');
}

// Unix socket paths are limited to 107 bytes on Linux (103 on macOS).
const MAX_SOCKET_PATH = 100;

/**
 * The server's side: answers `dump` on the control socket with the database, as
 * `OK <bytes>\n` followed by the bytes, or `ERR <message>\n`.
 */
export async function listenForBackups(
  store: Pick<Store, 'dumpDataDir'>,
  dataDir: string,
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void },
): Promise<{ close(): Promise<void> } | null> {
  const socket = controlSocketPath(dataDir);
  if (!store.dumpDataDir) return null;
  if (socket.length > MAX_SOCKET_PATH) {
    logger.warn({ socket }, 'the data folder path is too long for a control socket: npm run backup works only while the server is stopped');
    return null;
  }
  const dir = path.dirname(socket);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  // We hold the folder's lock: a socket file left here is from a process that died.
  fs.rmSync(socket, { force: true });
  const dump = store.dumpDataDir.bind(store);
  const server = net.createServer((conn) => {
    let asked = '';
    conn.setEncoding('latin1');
    conn.on('error', () => {});
    conn.on('data', (chunk: string) => {
      asked += chunk;
      if (!asked.includes('\n')) {
        if (asked.length > 64) conn.destroy();
        return;
      }
      conn.removeAllListeners('data');
      if (asked.trim() !== 'dump') {
        conn.end('ERR unknown request\n');
        return;
      }
      const started = Date.now();
      dump()
        .then(async (blob) => {
          conn.write(`OK ${blob.size}\n`);
          const bytes = Buffer.from(await blob.arrayBuffer());
          conn.end(bytes);
          logger.info({ bytes: blob.size, ms: Date.now() - started }, 'backup: database copied for npm run backup');
        })
        .catch((err: Error) => {
          logger.warn({ err }, 'backup: the database copy failed');
          conn.end(`ERR ${err.message.replace(/\n/g, ' ')}\n`);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  server.on('error', (err) => logger.warn({ err }, 'backup: control socket error'));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socket, { force: true });
      }),
  };
}

/** The backup command's side: asks the process holding the folder for a copy of the database, into `file`. */
export async function dumpThroughServer(dataDir: string, file: string): Promise<number> {
  const socket = controlSocketPath(dataDir);
  const conn = net.createConnection(socket);
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new BackupError(`The process holding ${dataDir} does not answer backups (only a running server does): wait for it to finish, or stop it, and try again.`)
          : err,
      ),
    );
  });
  conn.write('dump\n');
  // The header line, then the bytes, written to the file as they come (with backpressure).
  const expected = await new Promise<number>((resolve, reject) => {
    let head = Buffer.alloc(0);
    let out: fs.WriteStream | null = null;
    let size = -1;
    const fail = (err: Error) => {
      conn.destroy();
      out?.destroy();
      reject(err);
    };
    const write = (chunk: Buffer) => {
      if (!out!.write(chunk)) {
        conn.pause();
        out!.once('drain', () => conn.resume());
      }
    };
    conn.on('data', (chunk: Buffer) => {
      if (out) return write(chunk);
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 4096) fail(new BackupError('The server answered the backup request with something else.'));
        return;
      }
      const line = head.subarray(0, nl).toString('utf8');
      if (!line.startsWith('OK ')) return fail(new BackupError(`The server refused the backup: ${line.replace(/^ERR /, '')}`));
      size = Number(line.slice(3));
      out = fs.createWriteStream(file, { mode: 0o600 });
      out.on('error', fail);
      write(head.subarray(nl + 1));
    });
    conn.on('error', fail);
    conn.on('end', () => {
      if (!out) return fail(new BackupError('The server closed the connection without a copy.'));
      out.end(() => resolve(size));
    });
  });
  const size = fs.statSync(file).size;
  if (size !== expected) throw new BackupError(`The database copy was cut short (${size} of ${expected} bytes).`);
  return size;
}

/** Makes the backup file from a database copy (`pgdataFile`), the folder's secrets and the evidence files. */
export async function writeBackupFile(
  file: string,
  parts: { pgdataFile: string; dataDir: string; evidenceDir: string; madeBy: BackupManifest['madeBy']; includeEvidence: boolean; now: Date },
): Promise<BackupManifest> {
  const target = path.resolve(file);
  const staging = await fsp.mkdtemp(path.join(path.dirname(target), '.arrears-backup-'));
  try {
    await fsp.rename(parts.pgdataFile, path.join(staging, 'pgdata.tar')).catch(async () => {
      await fsp.copyFile(parts.pgdataFile, path.join(staging, 'pgdata.tar'));
      await fsp.rm(parts.pgdataFile, { force: true });
    });
    const entries = ['manifest.json', 'pgdata.tar'];
    const secrets = path.join(parts.dataDir, 'secrets.json');
    const hasSecrets = fs.existsSync(secrets);
    if (hasSecrets) {
      await fsp.copyFile(secrets, path.join(staging, 'secrets.json'));
      entries.push('secrets.json');
    }
    let evidenceFiles = 0;
    if (parts.includeEvidence && fs.existsSync(parts.evidenceDir)) {
      // Only the content-addressed files (ab/cdef…), never an upload being staged.
      const evidence = path.join(staging, 'evidence');
      await fsp.mkdir(evidence);
      for (const prefix of await fsp.readdir(parts.evidenceDir)) {
        if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
        const names = (await fsp.readdir(path.join(parts.evidenceDir, prefix))).filter((n) => /^[0-9a-f]{62}$/.test(n));
        if (!names.length) continue;
        await fsp.mkdir(path.join(evidence, prefix));
        for (const name of names) {
          // A hard link when the folders share a file system (the files never change), else a copy.
          const from = path.join(parts.evidenceDir, prefix, name);
          const to = path.join(evidence, prefix, name);
          await fsp.link(from, to).catch(() => fsp.copyFile(from, to));
          evidenceFiles++;
        }
      }
      entries.push('evidence');
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: parts.now.toISOString(),
      madeBy: parts.madeBy,
      databaseBytes: fs.statSync(path.join(staging, 'pgdata.tar')).size,
      secrets: hasSecrets,
      evidenceFiles,
    };
    await fsp.writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const partial = `${target}.partial`;
    // Created owner-only before a byte of it is written: it holds the secrets.
    await fsp.writeFile(partial, '', { mode: 0o600 });
    await fsp.chmod(partial, 0o600);
    await tar.c({ gzip: true, file: partial, cwd: staging, portable: true }, entries);
    await fsp.chmod(partial, 0o600);
    await fsp.rename(partial, target);
    return manifest;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** Restores a backup file into `folder`, which must be empty or not exist; returns the manifest. */
export async function restoreBackupFile(file: string, folder: string): Promise<BackupManifest> {
  const target = path.resolve(folder);
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new BackupError(`${target} is not empty: restore into a new or empty folder (nothing was changed).`);
  }
  if (!fs.existsSync(file)) throw new BackupError(`No backup file at ${file}.`);
  fs.mkdirSync(target, { recursive: true });
  const staging = await fsp.mkdtemp(path.join(target, '.restore-'));
  try {
    await tar.x({ file, cwd: staging, strict: true, preservePaths: false });
    const manifestFile = path.join(staging, 'manifest.json');
    if (!fs.existsSync(manifestFile) || !fs.existsSync(path.join(staging, 'pgdata.tar'))) {
      throw new BackupError(`${file} is not a backup of Arrears (no manifest.json and pgdata.tar).`);
    }
    const manifest = JSON.parse(await fsp.readFile(manifestFile, 'utf8')) as BackupManifest;
    if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`${file} is a backup of format ${manifest.format}; this version reads format ${BACKUP_FORMAT}.`);
    const db = await createPGlite(path.join(target, 'pgdata'), { loadDataDir: new Blob([await fsp.readFile(path.join(staging, 'pgdata.tar'))]) });
    await db.query('select 1');
    await db.close();
    if (fs.existsSync(path.join(staging, 'secrets.json'))) {
      await fsp.rename(path.join(staging, 'secrets.json'), path.join(target, 'secrets.json'));
      await fsp.chmod(path.join(target, 'secrets.json'), 0o600);
    }
    if (fs.existsSync(path.join(staging, 'evidence'))) {
      await fsp.rename(path.join(staging, 'evidence'), path.join(target, 'evidence'));
      await fsp.chmod(path.join(target, 'evidence'), 0o700);
    }
    return manifest;
  } catch (err) {
    // Leave the folder as it was found: empty.
    for (const name of fs.readdirSync(target)) await fsp.rm(path.join(target, name), { recursive: true, force: true });
    throw err;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
