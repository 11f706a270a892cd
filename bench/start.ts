/**
 * Cold start (issue 12, "Production start": cold start to the first answer ≤ 1.5 s on an
 * existing folder): starts `npm start`'s server (node scripts/start.mjs serve, the compiled
 * build) on an embedded folder that exists already, and times from the spawn to the first
 * answer of GET /readyz with status 200. The first run makes the folder (migrations, policies)
 * and is not counted; then --runs N (default 5) starts, median and each printed.
 *
 *   npx tsx bench/start.ts [--runs N] [--dir FOLDER]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const runs = Number(arg('--runs') ?? 5);
const given = arg('--dir');
const dir = given ?? mkdtempSync(join(tmpdir(), 'arrears-start-'));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Milliseconds from the spawn to the first 200 of /readyz. */
async function startOnce(): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['scripts/start.mjs', 'serve'], {
    env: { ...process.env, PORT: String(port), ARREARS_DATA_DIR: dir, LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        await r.arrayBuffer();
        if (r.status === 200) return performance.now() - t0;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main() {
  try {
    const first = await startOnce();
    console.log(`first start (makes the folder ${dir}): ${(first / 1000).toFixed(2)} s, not counted`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce());
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`cold start to the first answer on an existing folder, ${runs} runs: median ${(median / 1000).toFixed(2)} s (${times.map((t) => (t / 1000).toFixed(2)).join(', ')})${median <= 1500 ? '' : '  ** over the 1.5 s target **'}`);
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
