// `npm start` as a production host runs it: the compiled server (dist/), built when the sources
// changed, the Prisma client generated only when the data model changed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIsCurrent, consoleIsCurrent, sourceHash } from '../../scripts/build.mjs';
import { prismaClientIsCurrent } from '../../scripts/prisma-generate.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-start-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('builds when the sources changed, runs the compiled server, answers, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs'), 'serve'], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'development', ARREARS_DATA_DIR: dataDir, PORT: '0', ARREARS_JOBS: 'off', LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer in 60 s:\n${stderr}`)), 60_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /serves GraphQL at (http:\/\/\S+)\/graphql/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${stderr}`)));
    });
    try {
      expect(buildIsCurrent()).toBe(true);
      expect(prismaClientIsCurrent().current).toBe(true);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const anonymous = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { role } }"}' });
      expect(anonymous.status).toBe(401);
      // The migrations were found from the compiled code: the folder's database is migrated.
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // The console was built when missing or stale, and is served (README, "Arrears Console").
      expect(consoleIsCurrent()).toBe(true);
      const consolePage = await fetch(`${url}/console/`);
      expect(consolePage.status).toBe(200);
      expect(consolePage.headers.get('cache-control')).toBe('no-cache');
      expect(await consolePage.text()).toContain('<div id="root"></div>');
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('a build is current for the sources it was made from, and only for them', () => {
    const hash = sourceHash();
    expect(buildIsCurrent(hash)).toBe(buildIsCurrent());
    expect(buildIsCurrent('0'.repeat(64))).toBe(false);
  });
});
