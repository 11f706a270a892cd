/**
 * GET /readyz (API.md "Running"): whether this instance can serve, and what is down.
 *
 *   200 {"status":"ready","checks":{"database":"up","evidence":"up","redis":"up"}}
 *   503 {"status":"unavailable","down":["database"],"checks":{"database":"down: …",…}}
 *
 * - database: a query answers (within 2 s);
 * - evidence: the evidence folder is writable (a probe file created, synced and deleted);
 * - redis (when REDIS_URL is set): PING answers. Redis down does not make the instance unready:
 *   live events are kept in the outbox and delivered when Redis returns, writes work; the answer
 *   is 200 with status "degraded" and redis named in `down`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Store } from './db/store.ts';
import type { BlobStore } from './modules/evidence/blob-store.ts';
import { FolderBlobStore } from './modules/evidence/blob-store.ts';
import type { EventTransport } from './events/bus.ts';
import type { Logger } from './lib/logger.ts';

export interface ReadinessDeps {
  store: Pick<Store, 'ping'>;
  blobs: BlobStore;
  evidenceDir: string;
  events?: EventTransport;
  logger: Logger;
}

export interface Readiness {
  status: 'ready' | 'degraded' | 'unavailable';
  down: string[];
  checks: Record<string, string>;
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}

async function probeFolder(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const probe = path.join(dir, `.readyz-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await fsp.open(probe, 'wx', 0o600);
  try {
    await handle.writeFile('ready\n');
    await handle.sync();
  } finally {
    await handle.close();
    await fsp.rm(probe, { force: true });
  }
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);

export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks: Record<string, string> = {};
  const down: string[] = [];
  const run = async (name: string, check: () => Promise<void>) => {
    try {
      await within(2000, name, check());
      checks[name] = 'up';
    } catch (err) {
      checks[name] = `down: ${reason(err)}`;
      down.push(name);
    }
  };
  await Promise.all([
    run('database', () => deps.store.ping()),
    deps.blobs instanceof FolderBlobStore ? run('evidence', () => probeFolder(deps.evidenceDir)) : Promise.resolve((checks['evidence'] = 'not checked')),
    deps.events?.kind === 'redis' ? run('redis', () => deps.events!.health()) : Promise.resolve((checks['redis'] = 'not configured')),
  ]);
  const fatal = down.filter((d) => d !== 'redis');
  return { status: fatal.length ? 'unavailable' : down.length ? 'degraded' : 'ready', down: down.sort(), checks };
}

/** Answers /readyz before Yoga's own (database-only) check. */
export function useReadiness(deps: ReadinessDeps, endpoint = '/readyz'): Plugin {
  let lastDown = '';
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname !== endpoint) return;
      const r = await checkReadiness(deps);
      const downNow = r.down.join(',');
      if (downNow !== lastDown) {
        if (downNow) deps.logger.warn({ down: r.down, checks: r.checks }, 'readiness: something is down');
        else deps.logger.info('readiness: everything is up again');
        lastDown = downNow;
      }
      endResponse(
        new Response(JSON.stringify(r), {
          status: r.status === 'unavailable' ? 503 : 200,
          headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...(r.status === 'unavailable' ? { 'retry-after': '2' } : {}) },
        }),
      );
    },
  };
}
