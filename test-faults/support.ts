/**
 * The fault suite's own world: a PostgreSQL cluster (initdb on a free port, in a temporary
 * folder), a Redis on a free port, and Arrears as child processes (`node --import tsx
 * src/main.ts serve`), each of which can be killed and started again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const ROOT = path.resolve(import.meta.dirname, '..');
const isRoot = process.getuid?.() === 0;

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  return name; // on the PATH
}

/** Runs as the postgres user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export class PgCluster {
  readonly dir: string;
  readonly port: number;
  private proc: ChildProcess | undefined;
  private readonly logFile: string;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.logFile = path.join(path.dirname(dir), 'postgres.log');
  }

  static async create(): Promise<PgCluster> {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-faults-pg-'));
    const dir = path.join(parent, 'data');
    fs.mkdirSync(dir, { mode: 0o700 });
    if (isRoot) {
      spawnSync('chown', ['-R', 'postgres:postgres', parent]);
      fs.chmodSync(parent, 0o755);
    }
    const [cmd, args] = asPostgres(pgBin('initdb'), ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
    const cluster = new PgCluster(dir, await freePort());
    await cluster.start();
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  urlOf(db: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  async start(): Promise<void> {
    const [cmd, args] = asPostgres(pgBin('postgres'), [
      '-D', this.dir, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1',
      // Speed without lying about commits: an acknowledged commit survives a crash of the server
      // (synchronous_commit stays on); fsync off only risks the machine crashing, not tested here.
      '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100',
    ]);
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(cmd, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    await until('PostgreSQL accepts connections', async () => {
      const r = spawnSync(pgBin('pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-q']);
      return r.status === 0;
    }, 30_000, 100);
  }

  /** Stops the server: `immediate` is a crash (no checkpoint; recovery at the next start). */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    const [cmd, args] = asPostgres(pgBin('pg_ctl'), ['-D', this.dir, '-m', mode, '-w', 'stop']);
    spawnSync(cmd, args, { encoding: 'utf8' });
    const p = this.proc;
    if (p && p.exitCode === null) await new Promise((r) => p.once('exit', r));
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async create(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('Redis answers', async () => {
      const r = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
      return r.stdout.trim() === 'PONG';
    }, 10_000, 50);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    this.proc = undefined;
  }
}

export const SECRETS = {
  jwt: 'fault-suite-secret-that-is-at-least-32-characters',
  pii: randomBytes(32).toString('base64'),
  blind: randomBytes(32).toString('base64'),
};

export interface ArrearsOptions {
  databaseUrl: string;
  redisUrl?: string;
  port: number;
  evidenceDir?: string;
  env?: Record<string, string>;
}

/** One Arrears server process. */
export class ArrearsProcess {
  proc: ChildProcess | undefined;
  readonly logFile: string;
  constructor(readonly options: ArrearsOptions, readonly name = 'arrears') {
    this.logFile = path.join(os.tmpdir(), `arrears-faults-${name}-${options.port}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get alive(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-faults-data-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
      PORT: String(this.options.port),
      HOST: '127.0.0.1',
      DATABASE_URL: this.options.databaseUrl,
      ...(this.options.redisUrl ? { REDIS_URL: this.options.redisUrl } : {}),
      ARREARS_DATA_DIR: dataDir,
      ARREARS_EVIDENCE_DIR: this.options.evidenceDir ?? path.join(dataDir, 'evidence'),
      ARREARS_JWT_SECRET: SECRETS.jwt,
      ARREARS_PII_KEY: SECRETS.pii,
      ARREARS_BLIND_INDEX_KEY: SECRETS.blind,
      DATABASE_POOL_SIZE: '10',
      ...this.options.env,
    };
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const p = this.proc;
    await until(`${this.name} is ready`, async () => {
      if (p.exitCode !== null) throw new Error(`${this.name} exited with ${p.exitCode}; see ${this.logFile}`);
      const r = await fetch(`${this.url}/readyz`).catch(() => null);
      return r?.status === 200;
    }, 60_000, 100);
  }

  /** kill -9. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    await Promise.race([new Promise((r) => p.once('exit', r)), sleep(15_000)]);
    await this.kill();
  }
}

/** A raw GraphQL POST (no SDK retries): what a client sees, status and body. */
export async function post(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: any; retryAfter: string | null } | { status: 0; error: string }> {
  try {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: r.status, body: await r.json().catch(() => null), retryAfter: r.headers.get('retry-after') };
  } catch (err) {
    return { status: 0, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The outcome of a response, as the fault suite counts them. */
export function outcomeOf(r: Awaited<ReturnType<typeof post>>): string {
  if (!('body' in r)) return 'NETWORK';
  const codes = (r.body?.errors ?? []).map((e: any) => e?.extensions?.code);
  if (codes.length) return codes[0] ?? 'NO_CODE';
  return r.status === 200 ? 'OK' : `HTTP_${r.status}`;
}

export const recovery: Record<string, string> = {};

export function report(name: string, value: string): void {
  recovery[name] = value;
  process.stdout.write(`[faults] ${name}: ${value}\n`);
}
