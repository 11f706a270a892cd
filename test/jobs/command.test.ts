import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCommand, EXIT_LEASE_HELD } from '../../src/jobs/command.ts';
import { openEmbeddedStore } from '../../src/db/store.ts';
import { ConfigError } from '../../src/config.ts';

/** `npm run job -- …` on an embedded store in a temporary folder (never the developer's ./data). */
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-job-cli-'));
  env = { NODE_ENV: 'test', ARREARS_DATA_DIR: dir, LOG_LEVEL: 'silent' };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await jobCommand(args, { env, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe('npm run job', () => {
  it('lists the jobs without opening the store', async () => {
    const r = await run(['--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bucket-history\s+every 1 h/);
    expect(r.stdout).toMatch(/placement-expiry\s+every 15 min/);
    expect(fs.existsSync(path.join(dir, 'pgdata'))).toBe(false);
  });

  it('refuses an unknown job or no job, naming the jobs', async () => {
    await expect(run(['nope'])).rejects.toThrow(ConfigError);
    await expect(run(['nope'])).rejects.toThrow(/No job named "nope"[\s\S]*bucket-history/);
    await expect(run([])).rejects.toThrow(/usage: npm run job -- <name>/);
    await expect(run(['--force'])).rejects.toThrow(/unknown option --force/);
  });

  it('runs a job once, records the run and prints its detail', async () => {
    const r = await run(['bucket-history']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Job bucket-history SUCCEEDED in [\d.]+ s \(run [0-9a-f-]{36}, owner cli:/);
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{')))).toMatchObject({ examined: 0, appended: 0 });
  });

  it('does not run a job whose lease another process holds, and says so', async () => {
    const until = new Date(Date.now() + 10 * 60_000);
    const store = await openEmbeddedStore(dir);
    try {
      await store.prisma.jobLease.upsert({
        where: { name: 'placement-expiry' },
        create: { name: 'placement-expiry', owner: 'server-1:4242:abcdef', leaseUntil: until },
        update: { owner: 'server-1:4242:abcdef', leaseUntil: until },
      });
    } finally {
      await store.close();
    }
    const r = await run(['placement-expiry']);
    expect(r.code).toBe(EXIT_LEASE_HELD);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Job placement-expiry was NOT run: its lease is held by server-1:4242:abcdef until ${until.toISOString()}`);

    const store2 = await openEmbeddedStore(dir);
    try {
      expect(await store2.prisma.jobRun.count({ where: { name: 'placement-expiry' } })).toBe(0);
      expect(await store2.prisma.jobRun.count({ where: { name: 'bucket-history', status: 'SUCCEEDED' } })).toBe(1);
    } finally {
      await store2.close();
    }
  });
});
