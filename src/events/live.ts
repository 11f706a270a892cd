/**
 * Live case events through a transactional outbox (API.md "Subscriptions").
 *
 * 1. Written with the change. A trigger on "CaseEvent" adds an "EventOutbox" row in the same
 *    transaction, whoever inserts the event (case writes, the reminder dispatcher, imports): an
 *    event that committed is in the outbox, one that rolled back is not.
 * 2. Relayed. One instance at a time (the `event-relay` lease, 15 s, renewed every 5 s; a dead
 *    holder is replaced within ~20 s) gives committed rows their `position` — contiguous, in the
 *    order the relay sees them commit — then publishes them on the transport (Redis or in-process)
 *    and marks them published. A publish that fails (Redis down) is retried with backoff; nothing
 *    waits for it and nothing throws into the process. The relay looks every second, at once when
 *    a write of this process commits (`committed()`), and prunes rows older than the retention.
 * 3. Read. Each process has one feed: it follows positions in order, from the transport when
 *    messages arrive contiguously, and from the outbox table when there is a gap, after the
 *    transport reconnects, or every second while streams are open and nothing arrived. So a
 *    stream never misses a position, whatever the transport lost.
 * 4. Streams. A subscription reads the feed from now on; with `after` (SSE Last-Event-ID) it first
 *    replays the positions after it from the table. Shutdown (`endStreams`) ends every stream.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { SqlRunner } from '../db/sql.ts';
import type { Clock } from '../lib/time.ts';
import type { Logger } from '../lib/logger.ts';
import type { EventTransport, OutboxMessage } from './bus.ts';

export const RELAY_LEASE = 'event-relay';

export interface LiveEventsOptions {
  /** The relay's lease; default 15 s (renewed every third of it). */
  leaseMs?: number;
  /** How often the relay and the feed look at the table when nothing nudges them; default 1 s. */
  pollMs?: number;
  /** Rows per relay statement; default 500. */
  batchSize?: number;
  /** Published rows older than this are deleted; default 3 days. A Last-Event-ID older than that replays what remains. */
  retentionMs?: number;
  /** Run the relay in this process (default true; `false` for a process that only reads). */
  relay?: boolean;
  owner?: string;
}

interface Row {
  id: bigint;
  position: bigint;
  eventId: string;
  caseId: string;
}

// Read as text (int8 exceeds JS numbers in some drivers) under other names: an ORDER BY "position"
// must sort the column, not a text alias of it.
const ROW_COLUMNS = `o.id::text AS id_text, o."position"::text AS position_text, o."eventId"::text AS "eventId", o."caseId"::text AS "caseId"`;
/** Rows as the drivers give them (int8 as text), typed. */
const rowsOf = (raw: { id_text: string; position_text: string; eventId: string; caseId: string }[]): Row[] =>
  raw.map((r) => ({ id: BigInt(r.id_text), position: BigInt(r.position_text), eventId: r.eventId, caseId: r.caseId }));

const toMessage = (r: Row): OutboxMessage => ({ position: String(r.position), id: String(r.id), eventId: r.eventId, caseId: r.caseId });

export interface StreamOptions {
  /** Resume after this position (Last-Event-ID); null: from now on. */
  after?: bigint | null;
  /** Only this case's events (saves reading others'). */
  caseId?: string | null;
  signal?: AbortSignal;
}

export class LiveEvents {
  readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly relayEnabled: boolean;
  private readonly ending = new AbortController();
  private closed = false;

  // relay state
  private relayTimer: NodeJS.Timeout | undefined;
  private relayRunning: Promise<void> | undefined;
  private relayAgain = false;
  private leaseHeldUntil = 0;
  private lastLeaseCheck = 0;
  private publishFailures = 0;
  private publishRetryAt = 0;
  private lastPrune = 0;

  // feed state
  private feedLast: bigint | null = null;
  private feedInit: Promise<void> | undefined;
  private feedReading: Promise<void> | undefined;
  private feedAgain = false;
  private feedTimer: NodeJS.Timeout | undefined;
  private lastFeedActivity = 0;
  private readonly readers = new Set<(m: OutboxMessage[]) => void>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    /**
     * Plain SQL on the store's maintenance connections (`store.sql`): background traffic stays off
     * the application's pool and out of its statement counts.
     */
    private readonly deps: { sql: SqlRunner; clock: Clock; logger: Logger },
    readonly transport: EventTransport,
    options: LiveEventsOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 15_000;
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 500;
    this.retentionMs = options.retentionMs ?? 3 * 24 * 3600_000;
    this.relayEnabled = options.relay ?? true;
    this.owner = options.owner ?? `relay:${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.unsubscribe.push(transport.subscribe((batch) => this.onTransport(batch)));
    this.unsubscribe.push(transport.onReconnect(() => this.readFeed()));
  }

  /** Starts the relay's timer (never keeps the process alive). */
  start(): this {
    if (!this.relayEnabled || this.relayTimer || this.closed) return this;
    this.relayTimer = setInterval(() => this.runRelay(), this.pollMs);
    this.relayTimer.unref();
    this.runRelay();
    return this;
  }

  /** A transaction that wrote timeline events committed: relay now rather than at the next poll. */
  committed(): void {
    if (this.relayEnabled && this.relayTimer) this.runRelay();
  }

  /** Shutdown: every open stream ends (cleanly); new ones end at once. */
  endStreams(): void {
    this.ending.abort();
  }

  get streamsEnding(): boolean {
    return this.ending.signal.aborted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endStreams();
    if (this.relayTimer) clearInterval(this.relayTimer);
    if (this.feedTimer) clearInterval(this.feedTimer);
    this.unsubscribe.forEach((u) => u());
    await this.relayRunning;
    await this.feedReading?.catch(() => {});
    if (this.leaseHeldUntil > 0) {
      await this.deps.sql
        .query(`UPDATE "JobLease" SET "leaseUntil" = $3::timestamptz WHERE "name" = $1 AND "owner" = $2`, [RELAY_LEASE, this.owner, new Date(this.deps.clock.now().getTime() - 1).toISOString()])
        .catch(() => {});
    }
    await this.transport.close();
  }

  // ------------------------------------------------------------------ relay

  /** One pass of the relay (tests call it and await it); overlapping calls run one more pass. */
  runRelay(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.relayRunning) {
      this.relayAgain = true;
      return this.relayRunning;
    }
    this.relayRunning = (async () => {
      try {
        do {
          this.relayAgain = false;
          await this.relayPass();
        } while (this.relayAgain && !this.closed);
      } catch (err) {
        this.deps.logger.warn({ err }, 'event relay pass failed: retried at the next poll');
      } finally {
        this.relayRunning = undefined;
      }
    })();
    return this.relayRunning;
  }

  private async holdLease(): Promise<boolean> {
    const nowMs = Date.now();
    // Renew a third of the way through; a holder that cannot renew stops relaying before it expires.
    if (this.leaseHeldUntil - nowMs > (this.leaseMs * 2) / 3) return true;
    if (this.leaseHeldUntil === 0 && nowMs - this.lastLeaseCheck < this.leaseMs / 3) return false;
    this.lastLeaseCheck = nowMs;
    const now = this.deps.clock.now();
    const until = new Date(now.getTime() + this.leaseMs);
    const rows = await this.deps.sql.query<{ owner: string }>(
      `INSERT INTO "JobLease" ("name", "owner", "leaseUntil") VALUES ($1, $2, $3::timestamptz)
       ON CONFLICT ("name") DO UPDATE SET "owner" = EXCLUDED."owner", "leaseUntil" = EXCLUDED."leaseUntil"
       WHERE "JobLease"."leaseUntil" < $4::timestamptz OR "JobLease"."owner" = EXCLUDED."owner"
       RETURNING "owner"`,
      [RELAY_LEASE, this.owner, until.toISOString(), now.toISOString()],
    );
    const held = rows.length === 1 && rows[0]!.owner === this.owner;
    if (held && this.leaseHeldUntil === 0) this.deps.logger.info({ owner: this.owner }, 'event relay: lease taken, relaying');
    if (!held && this.leaseHeldUntil > 0) this.deps.logger.warn({ owner: this.owner }, 'event relay: lease lost');
    this.leaseHeldUntil = held ? nowMs + this.leaseMs : 0;
    return held;
  }

  private async relayPass(): Promise<void> {
    if (!(await this.holdLease())) return;
    const { sql } = this.deps;
    // Positions: contiguous after the highest given, in id order, only while this owner holds the
    // lease (checked in the statement itself); the unique index refuses a second relay's numbers.
    for (;;) {
      const [done] = await sql.query<{ n: number }>(
        `WITH top AS (SELECT COALESCE(MAX("position"), 0) AS p FROM "EventOutbox"),
              batch AS (SELECT id, row_number() OVER (ORDER BY id) AS n
                          FROM (SELECT id FROM "EventOutbox" WHERE "position" IS NULL ORDER BY id LIMIT $1::int) s),
              given AS (UPDATE "EventOutbox" o SET "position" = top.p + batch.n
                          FROM batch, top
                         WHERE o.id = batch.id AND o."position" IS NULL
                           AND EXISTS (SELECT 1 FROM "JobLease" l WHERE l."name" = $2 AND l."owner" = $3)
                        RETURNING 1)
         SELECT count(*)::int AS n FROM given`,
        [this.batchSize, RELAY_LEASE, this.owner],
      );
      const n = Number(done?.n ?? 0);
      if (n > 0) this.readFeed();
      if (n < this.batchSize) break;
    }
    // Publication: in position order; a failure leaves the rows for the next try (backoff).
    if (Date.now() >= this.publishRetryAt) {
      for (;;) {
        const rows = rowsOf(
          await sql.query(`SELECT ${ROW_COLUMNS} FROM "EventOutbox" o WHERE o."position" IS NOT NULL AND o."publishedAt" IS NULL ORDER BY o."position" LIMIT $1::int`, [this.batchSize]),
        );
        if (!rows.length) break;
        try {
          await this.transport.publish(rows.map(toMessage));
        } catch (err) {
          this.publishFailures++;
          const wait = Math.min(5000, 250 * 2 ** Math.min(this.publishFailures, 5));
          this.publishRetryAt = Date.now() + wait;
          if (this.publishFailures === 1 || this.publishFailures % 20 === 0) {
            this.deps.logger.warn({ err, pending: rows.length, failures: this.publishFailures }, 'event relay: publishing failed (events are kept; retried)');
          }
          break;
        }
        if (this.publishFailures) this.deps.logger.info({ failures: this.publishFailures }, 'event relay: publishing again');
        this.publishFailures = 0;
        const last = rows[rows.length - 1]!.position;
        await sql.query(`UPDATE "EventOutbox" SET "publishedAt" = $1::timestamptz WHERE "position" >= $2::bigint AND "position" <= $3::bigint AND "publishedAt" IS NULL`, [
          this.deps.clock.now().toISOString(),
          String(rows[0]!.position),
          String(last),
        ]);
        if (rows.length < this.batchSize) break;
      }
    }
    if (Date.now() - this.lastPrune > 10 * 60_000) {
      this.lastPrune = Date.now();
      await this.prune();
    }
  }

  /** Deletes published rows older than the retention; returns how many. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.deps.clock.now().getTime() - this.retentionMs);
    const [done] = await this.deps.sql.query<{ n: number }>(
      `WITH gone AS (DELETE FROM "EventOutbox" WHERE "publishedAt" IS NOT NULL AND "createdAt" < $1::timestamptz RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [cutoff.toISOString()],
    );
    const n = Number(done?.n ?? 0);
    if (n) this.deps.logger.info({ pruned: n }, 'event outbox pruned');
    return n;
  }

  // ------------------------------------------------------------------ feed

  private async ensureFeed(): Promise<void> {
    this.feedInit ??= (async () => {
      const [top] = await this.deps.sql.query<{ p: string | null }>(`SELECT MAX("position")::text AS p FROM "EventOutbox"`);
      this.feedLast = BigInt(top?.p ?? '0');
      this.lastFeedActivity = Date.now();
      this.feedTimer = setInterval(() => {
        if (this.readers.size && Date.now() - this.lastFeedActivity >= this.pollMs) this.readFeed();
      }, this.pollMs);
      this.feedTimer.unref();
    })().catch((err: unknown) => {
      this.feedInit = undefined;
      throw err;
    });
    return this.feedInit;
  }

  private onTransport(batch: OutboxMessage[]): void {
    if (this.feedLast === null) return;
    this.lastFeedActivity = Date.now();
    const sorted = batch.filter((m) => BigInt(m.position) > this.feedLast!).sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
    if (!sorted.length) return;
    if (this.feedReading || BigInt(sorted[0]!.position) !== this.feedLast + 1n) {
      this.readFeed(); // a gap (or a read under way): the table has it all
      return;
    }
    const contiguous: OutboxMessage[] = [];
    for (const m of sorted) {
      if (BigInt(m.position) !== this.feedLast + 1n) break;
      contiguous.push(m);
      this.feedLast += 1n;
    }
    this.deliver(contiguous);
    if (contiguous.length < sorted.length) this.readFeed();
  }

  /** Reads the table from the feed's last position on; overlapping calls read once more. */
  private readFeed(): void {
    if (this.feedLast === null || this.closed) return;
    if (this.feedReading) {
      this.feedAgain = true;
      return;
    }
    this.feedReading = (async () => {
      try {
        do {
          this.feedAgain = false;
          for (;;) {
            const rows = rowsOf(
              await this.deps.sql.query(`SELECT ${ROW_COLUMNS} FROM "EventOutbox" o WHERE o."position" > $1::bigint ORDER BY o."position" LIMIT $2::int`, [String(this.feedLast), this.batchSize]),
            );
            this.lastFeedActivity = Date.now();
            const contiguous: OutboxMessage[] = [];
            for (const r of rows) {
              if (r.position !== this.feedLast! + 1n) break; // a hole can only be a row pruned: skip past it
              contiguous.push(toMessage(r));
              this.feedLast = r.position;
            }
            if (rows.length && !contiguous.length) {
              this.feedLast = rows[0]!.position - 1n;
              continue;
            }
            this.deliver(contiguous);
            if (rows.length < this.batchSize) break;
          }
        } while (this.feedAgain && !this.closed);
      } catch (err) {
        this.deps.logger.warn({ err }, 'live events: reading the outbox failed; retried');
      } finally {
        this.feedReading = undefined;
      }
    })();
  }

  private deliver(messages: OutboxMessage[]): void {
    if (!messages.length) return;
    for (const r of this.readers) r(messages);
  }

  // ------------------------------------------------------------------ streams

  /**
   * The outbox messages from now on (or after `after`), in position order, each once; ends when
   * `signal` aborts or the server shuts down.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<OutboxMessage> {
    const { caseId = null, signal } = options;
    const queue: OutboxMessage[] = [];
    let wake: (() => void) | undefined;
    let overflow = false;
    const reader = (ms: OutboxMessage[]) => {
      for (const m of ms) if (!caseId || m.caseId === caseId) queue.push(m);
      if (queue.length > 10_000) {
        queue.length = 0;
        overflow = true; // a reader this far behind re-reads the table
      }
      wake?.();
    };
    const stop = () => wake?.();
    const ending = this.ending.signal;
    ending.addEventListener('abort', stop);
    signal?.addEventListener('abort', stop);
    this.readers.add(reader);
    try {
      await this.ensureFeed();
      let last = this.feedLast ?? 0n;
      // Rows that committed before this stream started but have no position yet are not "new".
      let startId: bigint | null = null;
      if (options.after != null) {
        // Replay from the table up to where the feed is, then go on with the feed.
        const upTo = last;
        let from = options.after;
        while (from < upTo && !ending.aborted && !signal?.aborted) {
          const rows = rowsOf(
            caseId
              ? await this.deps.sql.query(`SELECT ${ROW_COLUMNS} FROM "EventOutbox" o WHERE o."position" > $1::bigint AND o."position" <= $2::bigint AND o."caseId" = $3::uuid ORDER BY o."position" LIMIT 500`, [String(from), String(upTo), caseId])
              : await this.deps.sql.query(`SELECT ${ROW_COLUMNS} FROM "EventOutbox" o WHERE o."position" > $1::bigint AND o."position" <= $2::bigint ORDER BY o."position" LIMIT 500`, [String(from), String(upTo)]),
          );
          for (const r of rows) yield toMessage(r);
          if (rows.length < 500) break;
          from = rows[rows.length - 1]!.position;
        }
        last = upTo;
      } else {
        const [top] = await this.deps.sql.query<{ i: string | null }>(`SELECT MAX(id)::text AS i FROM "EventOutbox"`);
        startId = BigInt(top?.i ?? '0');
      }
      for (;;) {
        if (ending.aborted || signal?.aborted) return;
        if (overflow) {
          overflow = false;
          const rows = rowsOf(
            await this.deps.sql.query(`SELECT ${ROW_COLUMNS} FROM "EventOutbox" o WHERE o."position" > $1::bigint AND o."position" <= $2::bigint ORDER BY o."position"`, [String(last), String(this.feedLast ?? last)]),
          );
          for (const r of rows) if (!caseId || r.caseId === caseId) queue.unshift(toMessage(r));
          queue.sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
        }
        const m = queue.shift();
        if (!m) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const p = BigInt(m.position);
        if (p <= last) continue;
        last = p;
        if (startId !== null && BigInt(m.id) <= startId) continue;
        yield m;
      }
    } finally {
      this.readers.delete(reader);
      ending.removeEventListener('abort', stop);
      signal?.removeEventListener('abort', stop);
    }
  }
}
