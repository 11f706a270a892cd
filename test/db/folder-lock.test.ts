import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireFolderLock, bootId, processStartTime, StoreLockedError } from '../../src/db/folder-lock.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the embedded folder belongs to one process at a time', () => {
  it('refuses a second holder with an error naming the first, and frees the folder on release', async () => {
    const dir = tmp();
    // Another process holds the folder (a live pid that is not ours).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(
        path.join(dir, 'arrears.lock'),
        JSON.stringify({ pid: child.pid, purpose: 'server', host: os.hostname(), since: '2026-11-28T00:00:00.000Z', bootId: bootId(), startTime: processStartTime(child.pid!) }),
      );
      let error: unknown;
      try {
        acquireFolderLock(dir, 'seed:demo');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StoreLockedError);
      expect((error as Error).message).toContain(`process ${child.pid} (server`);
    } finally {
      child.kill();
    }
  });

  it('takes over the lock of a process that died', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'arrears.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, purpose: 'server', host: os.hostname(), since: 'x' }));
    const lock = acquireFolderLock(dir, 'migrate');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'arrears.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(path.join(dir, 'arrears.lock'))).toBe(false);
  });

  it('the same process cannot open the folder twice either', () => {
    const dir = tmp();
    const lock = acquireFolderLock(dir, 'server');
    // Our own pid holds it: a second open in this process would corrupt it just the same.
    expect(() => acquireFolderLock(dir, 'token')).toThrow();
    lock.release();
  });

  it('refuses while a holder recorded without start time (an older lock file) is alive', async () => {
    const dir = tmp();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'arrears.lock'), JSON.stringify({ pid: child.pid, purpose: 'server', host: os.hostname(), since: 'x' }));
      expect(() => acquireFolderLock(dir, 'seed:demo')).toThrow(StoreLockedError);
    } finally {
      child.kill();
    }
  });

  describe.skipIf(processStartTime(process.pid) === null)('a reused pid is not the holder (Linux /proc)', () => {
    it('takes over a lock whose pid is alive but started at another time (a container restart reusing the pid)', () => {
      const dir = tmp();
      // Our own pid, as after a restart in a container where the server is pid 1 every time.
      const started = processStartTime(process.pid)!;
      fs.writeFileSync(
        path.join(dir, 'arrears.lock'),
        JSON.stringify({ pid: process.pid, purpose: 'server', host: os.hostname(), since: 'x', bootId: bootId(), startTime: String(BigInt(started) - 1n) }),
      );
      const lock = acquireFolderLock(dir, 'server');
      const now = JSON.parse(fs.readFileSync(path.join(dir, 'arrears.lock'), 'utf8'));
      expect(now).toMatchObject({ pid: process.pid, purpose: 'server', startTime: started });
      lock.release();
    });

    it("takes over a live process's pid that is not the holder (another process got the pid)", () => {
      const dir = tmp();
      const other = process.ppid; // alive, but it did not take this lock: it started at another time
      fs.writeFileSync(
        path.join(dir, 'arrears.lock'),
        JSON.stringify({ pid: other, purpose: 'server', host: os.hostname(), since: 'x', bootId: bootId(), startTime: '1' }),
      );
      const lock = acquireFolderLock(dir, 'migrate');
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'arrears.lock'), 'utf8')).pid).toBe(process.pid);
      lock.release();
    });

    it('takes over a lock taken in an earlier boot, even when that pid and start time exist now', () => {
      const dir = tmp();
      fs.writeFileSync(
        path.join(dir, 'arrears.lock'),
        JSON.stringify({ pid: process.ppid, purpose: 'server', host: os.hostname(), since: 'x', bootId: '00000000-0000-0000-0000-000000000000', startTime: processStartTime(process.ppid) }),
      );
      const lock = acquireFolderLock(dir, 'migrate');
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'arrears.lock'), 'utf8')).pid).toBe(process.pid);
      lock.release();
    });
  });
});
