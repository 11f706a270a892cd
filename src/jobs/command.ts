/**
 * `npm run job -- <name>`: runs one periodic job once, now, whatever its cadence, and prints the
 * run's detail. It takes the job's lease like a server does, so it never runs alongside a server
 * instance that is running the same job: then it says so and exits with 75 (try again later).
 * `npm run job -- --list` lists the jobs.
 *
 * Exit codes: 0 done; 1 the job failed; 75 the lease is held elsewhere (not run).
 */
import { ConfigError, loadConfig } from '../config.ts';
import { openStore, type Store } from '../db/store.ts';
import { applyMigrations } from '../db/migrations.ts';
import { StoreLockedError } from '../db/folder-lock.ts';
import { loadSecrets } from '../lib/secrets.ts';
import { Pii } from '../lib/pii.ts';
import { systemClock, type Clock } from '../lib/time.ts';
import { createLogger } from '../lib/logger.ts';
import { JOB_REGISTRY, findJob } from './index.ts';
import { JobScheduler, defaultOwner } from './scheduler.ts';
import { startTracing } from '../server/tracing.ts';

export const EXIT_LEASE_HELD = 75;

export interface JobCommandIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  clock?: Clock;
}

const USAGE = 'usage: npm run job -- <name>   run one job once (under its lease)\n       npm run job -- --list     list the jobs\n';

function listing(): string {
  const lines = Object.values(JOB_REGISTRY).map((make) => {
    const job = make();
    return `  ${job.name.padEnd(20)} every ${formatEvery(job.everyMs).padEnd(8)} ${job.description ?? ''}`.trimEnd();
  });
  return `Jobs:\n${lines.join('\n')}\n`;
}

function formatEvery(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** The command itself; resolves with the exit code. */
export async function jobCommand(args: string[], io: JobCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  if (args.includes('--help') || args.includes('-h')) {
    out(USAGE + listing());
    return 0;
  }
  if (args.includes('--list')) {
    out(listing());
    return 0;
  }
  const unknownFlag = args.find((a) => a.startsWith('-'));
  if (unknownFlag) throw new ConfigError(`unknown option ${unknownFlag}\n${USAGE}`);
  if (args.length !== 1) throw new ConfigError(`${USAGE}${listing()}`);
  const name = args[0]!;
  const job = findJob(name);
  if (!job) throw new ConfigError(`No job named "${name}".\n${listing()}`);

  const config = loadConfig(io.env ?? process.env);
  const secrets = loadSecrets(config);
  let store: Store;
  try {
    store = await openStore(config, `job ${name}`);
  } catch (e) {
    if (e instanceof StoreLockedError) {
      throw new ConfigError(
        `${e.message}\nA running server runs the jobs itself (unless ARREARS_JOBS=off): job ${name} was not run.`,
      );
    }
    throw e;
  }
  // A run by hand is traced like the server's runs when OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = config.otelEndpoint ? await startTracing({ serviceName: config.otelServiceName }) : undefined;
  try {
    await applyMigrations(store.sql);
    const logger = createLogger(config.logLevel);
    const scheduler = new JobScheduler(
      { prisma: store.prisma, clock: io.clock ?? systemClock, logger, pii: new Pii(secrets.pii) },
      [job],
      { owner: defaultOwner('cli') },
    );
    const result = await scheduler.runOnce(name);
    if (result.status === 'SKIPPED') {
      const until = result.leaseUntil ? ` until ${result.leaseUntil.toISOString()}` : '';
      err(
        `Job ${name} was NOT run: its lease is held by ${result.holder ?? 'another process'}${until}, ` +
          `which is running it now (a server instance, or another npm run job).\n` +
          `Two instances never run the same job at once. Try again after it finishes; ` +
          `a lease left by a crashed process expires by itself at the time shown.\n`,
      );
      return EXIT_LEASE_HELD;
    }
    const seconds = ((result.finishedAt.getTime() - result.startedAt.getTime()) / 1000).toFixed(2);
    const summary = `Job ${name} ${result.status} in ${seconds} s (run ${result.runId}, owner ${result.owner}).\n`;
    if (result.status === 'FAILED') {
      err(`${summary}Error: ${result.error ?? 'unknown'}\n`);
      out(`${JSON.stringify(result.detail, null, 2)}\n`);
      return 1;
    }
    out(`${summary}${JSON.stringify(result.detail, null, 2)}\n`);
    return 0;
  } finally {
    await store.close();
    await tracing?.shutdown().catch(() => undefined);
  }
}

/** `src/main.ts job …`. */
export async function runJobCommand(args: string[]): Promise<void> {
  const code = await jobCommand(args);
  if (code !== 0) process.exitCode = code;
}
