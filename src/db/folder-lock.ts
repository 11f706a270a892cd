import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FolderLock {
  release(): void;
}

export class StoreLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: { pid: number; purpose: string; host: string; since: string },
  ) {
    super(
      `The embedded store in ${dataDir} is in use by process ${holder.pid} (${holder.purpose}, since ${holder.since}). ` +
        `Stop that process first, or point ARREARS_DATA_DIR elsewhere, or use DATABASE_URL for a shared PostgreSQL.`,
    );
    this.name = 'StoreLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite's folder must be opened by one process at a time: two would corrupt it. The lock is a
 * file created exclusively (O_EXCL) holding the owner's pid; a lock whose process is gone is stale
 * and taken over.
 */
export function acquireFolderLock(dataDir: string, purpose: string): FolderLock {
  const file = path.join(dataDir, 'arrears.lock');
  const me = { pid: process.pid, purpose, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, JSON.stringify(me));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          const current = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number };
          if (current.pid === process.pid) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: typeof me | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof me;
      } catch {
        holder = undefined; // being written, or garbage: treat as stale below after a re-check
      }
      if (holder && holder.host === me.host && (holder.pid === process.pid || alive(holder.pid))) {
        throw new StoreLockedError(dataDir, holder);
      }
      if (holder && holder.host !== me.host) throw new StoreLockedError(dataDir, holder);
      // Stale (the holder died): remove and try again.
      try {
        fs.unlinkSync(file);
      } catch {
        /* someone else removed it */
      }
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
