import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FolderLock {
  release(): void;
}

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  purpose: string;
  host: string;
  since: string;
  /** The kernel's boot id when the lock was taken: another boot means another process, whatever its pid. */
  bootId?: string | null;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat, field 22): a reused pid starts later. */
  startTime?: string | null;
}

export class StoreLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The embedded store in ${dataDir} is in use by process ${holder.pid} (${holder.purpose}, since ${holder.since}). ` +
        `Stop that process first, or point ARREARS_DATA_DIR elsewhere, or use DATABASE_URL for a shared PostgreSQL.`,
    );
    this.name = 'StoreLockedError';
  }
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** This boot of the kernel (Linux); null where /proc does not say. */
export function bootId(): string | null {
  return readOrNull('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

/**
 * A process's start time in clock ticks since boot (Linux /proc/<pid>/stat, field 22); null when
 * the process does not exist or /proc is not there. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted after its last ')'.
 */
export function processStartTime(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (!stat) return null;
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field 22 is rest[19].
  return rest[19] ?? null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is the holder of a lock still the process that took it? A pid alone is not enough: after a
 * reboot or a container restart the pid is often reused (a server is pid 1 in its container every
 * time). So the holder lives only if its pid is alive, in the same boot, and started when the lock
 * says. Where /proc is missing (not Linux), the pid check is all there is.
 */
export function holderAlive(holder: LockHolder): boolean {
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return false;
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.startTime) {
    const started = processStartTime(holder.pid);
    if (started !== null) return started === holder.startTime;
    if (fs.existsSync('/proc/self/stat')) return false; // /proc works and has no such process
  }
  return pidAlive(holder.pid);
}

/** Folders this process holds: a second open in the same process is refused too. */
const heldHere = new Set<string>();

/**
 * PGlite's folder must be opened by one process at a time: two would corrupt it. The lock is a
 * file created exclusively (O_EXCL) naming the owner (pid, start time, boot id); a lock whose
 * holder is no longer that process is stale and taken over.
 */
export function acquireFolderLock(dataDir: string, purpose: string): FolderLock {
  const file = path.join(dataDir, 'arrears.lock');
  const key = path.resolve(dataDir);
  const me: LockHolder = { pid: process.pid, purpose, host: os.hostname(), since: new Date().toISOString(), bootId: bootId(), startTime: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, JSON.stringify(me));
      fs.closeSync(fd);
      heldHere.add(key);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        heldHere.delete(key);
        try {
          const current = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
          if (current.pid === me.pid && current.since === me.since) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: LockHolder | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
      } catch {
        holder = undefined; // being written, or garbage: treat as stale below after a re-check
      }
      if (holder && holder.host !== me.host) throw new StoreLockedError(dataDir, holder);
      if (holder && (heldHere.has(key) || holderAlive(holder))) throw new StoreLockedError(dataDir, holder);
      // Stale (the holder died, or its pid now belongs to another process): remove and try again.
      try {
        fs.unlinkSync(file);
      } catch {
        /* someone else removed it */
      }
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
