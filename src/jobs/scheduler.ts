/**
 * One scheduler for the periodic work of Arrears (bucket history, placement expiry, and later the
 * reminder dispatcher and promise checks).
 *
 * - A lease in the database (`JobLease`) so that two server instances never run the same job at
 *   once: taken by one atomic upsert, held only by its owner, renewed while the job runs, released
 *   (leaseUntil set to now) when it ends; a crashed holder's lease simply expires.
 * - A run record per execution (`JobRun`): RUNNING, then SUCCEEDED or FAILED (the error in its
 *   detail); a RUNNING record left by a crashed holder is marked ABANDONED by the next holder.
 * - The cadence is shared by every instance: a job is due when no run of it started in the last
 *   `everyMs`, whoever ran it.
 * - A job already running in this process is not started again.
 *
 * Every time comes from the injected clock, never from the database: tests use a FixedClock and
 * call `runOnce` or `tick` instead of waiting on timers.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Clock } from '../lib/time.ts';
import type { Pii } from '../lib/pii.ts';
import type { Logger } from '../lib/logger.ts';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

export interface JobDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  pii?: Pii;
}

export interface JobContext {
  prisma: PrismaClient;
  clock: Clock;
  pii?: Pii;
  logger: Logger;
  /** Who runs the job: the lease owner. */
  owner: string;
  /** The JobRun row of this execution. */
  runId: string;
  /** Aborted when the scheduler stops or the lease is lost: a job stops between batches and returns what it did. */
  signal: AbortSignal;
}

export interface Job {
  name: string;
  /** How often the job runs (across all instances). */
  everyMs: number;
  /** How long a lease lasts before it must be renewed; a crashed holder blocks the job this long at most. */
  leaseMs?: number;
  /** One-line description, for `npm run job -- --list`. */
  description?: string;
  /** Does the work; what it returns (counts…) is stored as the run's detail. */
  run(ctx: JobContext): Promise<Record<string, unknown>>;
}

export type JobRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABANDONED';

export type JobSkipReason =
  /** The job is running in this process already. */
  | 'ALREADY_RUNNING'
  /** Another owner (another server instance, or `npm run job`) holds the lease. */
  | 'LEASE_HELD'
  /** A run of the job started less than `everyMs` ago (tick only; runOnce does not ask). */
  | 'NOT_DUE'
  /** The scheduler is stopping. */
  | 'STOPPING';

export type JobRunResult =
  | {
      name: string;
      status: 'SUCCEEDED' | 'FAILED';
      runId: string;
      owner: string;
      startedAt: Date;
      finishedAt: Date;
      detail: Record<string, unknown>;
      /** FAILED: the error's message. */
      error?: string;
    }
  | {
      name: string;
      status: 'SKIPPED';
      reason: JobSkipReason;
      /** LEASE_HELD: who holds it and until when. */
      holder?: string;
      leaseUntil?: Date;
      /** NOT_DUE: when the job is next due. */
      nextDueAt?: Date;
    };

export interface JobSchedulerOptions {
  /** Lease owner; default `<host>:<pid>:<random>`, unique per scheduler. */
  owner?: string;
  /** How often the scheduler looks for due jobs; default one minute. */
  tickMs?: number;
  /** Told of every run that ended (SUCCEEDED or FAILED): metrics. */
  onRunFinished?: (result: JobRunResult) => void;
}

/**
 * Leases are short and renewed by a heartbeat (every third of the lease): a holder killed with
 * kill -9 blocks its jobs for at most this long; another instance's next tick takes over.
 */
export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_TICK_MS = 60_000;

export function defaultOwner(prefix?: string): string {
  return [prefix, os.hostname(), process.pid, randomBytes(3).toString('hex')].filter((p) => p !== undefined).join(':');
}

export class JobScheduler {
  readonly owner: string;
  private readonly tickMs: number;
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, Promise<JobRunResult>>();
  /** When each job is next due as far as this process knows: saves a query per job per tick. */
  private readonly nextDue = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly onRunFinished: ((result: JobRunResult) => void) | undefined;

  constructor(
    private readonly deps: JobDeps,
    jobs: Job[],
    options: JobSchedulerOptions = {},
  ) {
    for (const job of jobs) {
      if (this.jobs.has(job.name)) throw new Error(`two jobs are named ${job.name}`);
      if (!(job.everyMs > 0)) throw new Error(`job ${job.name}: everyMs must be positive`);
      this.jobs.set(job.name, job);
    }
    this.owner = options.owner ?? defaultOwner();
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.onRunFinished = options.onRunFinished;
  }

  get jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** Starts ticking: a first look right away, then every tickMs. The timers never keep the process alive. */
  start(): void {
    if (this.timer || this.stopping) return;
    const fire = () => {
      if (this.ticking || this.stopping) return; // a slow tick is not overlapped
      this.ticking = this.tick()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'job scheduler tick failed'))
        .finally(() => (this.ticking = undefined));
    };
    this.timer = setInterval(fire, this.tickMs);
    this.timer.unref();
    setTimeout(fire, 0).unref();
    this.deps.logger.info({ owner: this.owner, jobs: this.jobNames }, 'job scheduler started');
  }

  /** Stops ticking, asks running jobs to stop between batches, and waits for them to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.ticking;
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Starts every due job that is not running here (each under its lease) and resolves with the
   * outcome of each job it looked at once they finish. `start()` calls it on its timer.
   */
  async tick(): Promise<JobRunResult[]> {
    const now = this.deps.clock.now().getTime();
    const started: Promise<JobRunResult>[] = [];
    for (const job of this.jobs.values()) {
      if (this.stopping) break;
      if (this.running.has(job.name)) continue;
      if ((this.nextDue.get(job.name) ?? 0) > now) continue;
      started.push(this.launch(job, false));
    }
    return Promise.all(started);
  }

  /** Runs one job now, whatever its cadence, if this process can take its lease. */
  async runOnce(name: string): Promise<JobRunResult> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named ${name}: ${this.jobNames.join(', ')}`);
    return this.launch(job, true);
  }

  private launch(job: Job, force: boolean): Promise<JobRunResult> {
    if (this.stopping) return Promise.resolve({ name: job.name, status: 'SKIPPED', reason: 'STOPPING' });
    const current = this.running.get(job.name);
    if (current) return Promise.resolve({ name: job.name, status: 'SKIPPED', reason: 'ALREADY_RUNNING' });
    const p = this.execute(job, force).finally(() => this.running.delete(job.name));
    this.running.set(job.name, p);
    return p;
  }

  private async execute(job: Job, force: boolean): Promise<JobRunResult> {
    const { prisma, clock } = this.deps;
    const leaseMs = job.leaseMs ?? DEFAULT_LEASE_MS;
    const logger = this.deps.logger.child({ job: job.name, owner: this.owner });

    const acquiredAt = clock.now();
    if (!(await this.acquire(job.name, acquiredAt, leaseMs))) {
      const lease = await prisma.jobLease.findUnique({ where: { name: job.name } });
      logger.debug({ holder: lease?.owner, leaseUntil: lease?.leaseUntil }, 'job lease held elsewhere');
      return {
        name: job.name,
        status: 'SKIPPED',
        reason: 'LEASE_HELD',
        ...(lease ? { holder: lease.owner, leaseUntil: lease.leaseUntil } : {}),
      };
    }

    let runId: string | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      if (!force) {
        const last = await prisma.jobRun.findFirst({ where: { name: job.name }, orderBy: { startedAt: 'desc' }, select: { startedAt: true, status: true, owner: true } });
        // A run still RUNNING under another owner while we hold the lease was abandoned by a
        // holder that died: its work is unfinished, so the job is due now, not at its cadence.
        const abandonedRun = last?.status === 'RUNNING' && last.owner !== this.owner;
        const dueAt = last && !abandonedRun ? last.startedAt.getTime() + job.everyMs : 0;
        if (dueAt > acquiredAt.getTime()) {
          this.nextDue.set(job.name, dueAt);
          return { name: job.name, status: 'SKIPPED', reason: 'NOT_DUE', nextDueAt: new Date(dueAt) };
        }
      }

      // We hold the lease, so a run still RUNNING under another owner belongs to a holder that died.
      const abandoned = await prisma.jobRun.updateMany({
        where: { name: job.name, status: 'RUNNING', owner: { not: this.owner } },
        data: { status: 'ABANDONED', finishedAt: acquiredAt },
      });
      if (abandoned.count) logger.warn({ abandoned: abandoned.count }, 'job runs of a vanished holder marked ABANDONED');

      const startedAt = clock.now();
      const run = await prisma.jobRun.create({ data: { name: job.name, owner: this.owner, startedAt, status: 'RUNNING' } });
      runId = run.id;
      this.nextDue.set(job.name, startedAt.getTime() + job.everyMs);

      // The job's own signal: the scheduler stopping, or the lease lost.
      const controller = new AbortController();
      const onStop = () => controller.abort(new Error('scheduler stopping'));
      if (this.abort.signal.aborted) onStop();
      else this.abort.signal.addEventListener('abort', onStop, { once: true });
      // The heartbeat: renewed every third of the lease. Lost to another owner, or not renewed
      // for two thirds of it (the database unreachable), the job stops before another may start.
      let renewedAt = Date.now();
      heartbeat = setInterval(() => {
        void this.renew(job.name, leaseMs).then(
          (held) => {
            if (held) renewedAt = Date.now();
            else {
              logger.error('job lease lost while running: stopping the job');
              controller.abort(new Error('lease lost'));
            }
          },
          (err: unknown) => {
            logger.warn({ err }, 'job lease renewal failed');
            if (Date.now() - renewedAt > (leaseMs * 2) / 3) controller.abort(new Error('lease not renewed in time'));
          },
        );
      }, Math.max(250, Math.floor(leaseMs / 3)));
      heartbeat.unref();

      const runLogger = logger.child({ runId });
      runLogger.info('job started');
      let status: 'SUCCEEDED' | 'FAILED';
      let detail: Record<string, unknown>;
      let error: string | undefined;
      // A span per run when tracing is on (the API's no-op tracer otherwise): its SQL nests under it.
      const span = trace.getTracer('arrears').startSpan(`job ${job.name}`, { attributes: { 'arrears.job.name': job.name, 'arrears.job.run_id': runId } });
      try {
        const ctx = { prisma, clock, ...(this.deps.pii ? { pii: this.deps.pii } : {}), logger: runLogger, owner: this.owner, runId, signal: controller.signal };
        detail = toJsonObject(await runInSpan(span, () => job.run(ctx)));
        status = 'SUCCEEDED';
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        if (err instanceof Error) span.recordException(err);
        status = 'FAILED';
        error = err instanceof Error ? err.message : String(err);
        detail = { error, ...(err instanceof Error && err.name !== 'Error' ? { errorName: err.name } : {}) };
        runLogger.error({ err }, 'job failed');
      } finally {
        this.abort.signal.removeEventListener('abort', onStop);
      }
      span.setAttribute('arrears.job.status', status);
      span.end();
      const finishedAt = clock.now();
      try {
        await prisma.jobRun.update({ where: { id: runId }, data: { status, finishedAt, detail: detail as Prisma.InputJsonObject } });
      } catch (err) {
        runLogger.error({ err }, 'could not record the end of the job run');
      }
      runLogger.info({ status, ms: finishedAt.getTime() - startedAt.getTime(), detail }, 'job finished');
      const result: JobRunResult = { name: job.name, status, runId, owner: this.owner, startedAt, finishedAt, detail, ...(error !== undefined ? { error } : {}) };
      try {
        this.onRunFinished?.(result);
      } catch (err) {
        runLogger.warn({ err }, 'job run not reported');
      }
      return result;
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      await this.release(job.name).catch((err: unknown) => logger.warn({ err }, 'could not release the job lease: it will expire'));
    }
  }

  /**
   * Takes the lease in one statement: inserted when absent, taken over when it has expired (by
   * the clock of the caller, not the database's), renewed when this owner has it; otherwise the
   * WHERE of the update fails and no row comes back.
   */
  private async acquire(name: string, now: Date, leaseMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs);
    const rows = await this.deps.prisma.$queryRaw<{ owner: string }[]>`
      INSERT INTO "JobLease" ("name", "owner", "leaseUntil")
      VALUES (${name}, ${this.owner}, ${until.toISOString()}::timestamptz)
      ON CONFLICT ("name") DO UPDATE SET "owner" = EXCLUDED."owner", "leaseUntil" = EXCLUDED."leaseUntil"
      WHERE "JobLease"."leaseUntil" < ${now.toISOString()}::timestamptz OR "JobLease"."owner" = EXCLUDED."owner"
      RETURNING "owner"`;
    return rows.length === 1 && rows[0]!.owner === this.owner;
  }

  /** Extends the lease while the job runs; false when another owner has it now. */
  private async renew(name: string, leaseMs: number): Promise<boolean> {
    const until = new Date(this.deps.clock.now().getTime() + leaseMs);
    const { count } = await this.deps.prisma.jobLease.updateMany({ where: { name, owner: this.owner }, data: { leaseUntil: until } });
    return count === 1;
  }

  /** Gives the lease back: it expires now. */
  private async release(name: string): Promise<void> {
    await this.deps.prisma.jobLease.updateMany({ where: { name, owner: this.owner }, data: { leaseUntil: this.deps.clock.now() } });
  }
}

/** Runs `fn` with `span` as the active span (its SQL and logs beneath it). */
function runInSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** What a job returns, as JSON: BigInt as a string, Date as ISO 8601. */
function toJsonObject(value: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(value ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const parsed = JSON.parse(json ?? '{}') as unknown;
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
}
