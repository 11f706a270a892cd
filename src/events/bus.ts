import { Redis, type RedisOptions } from 'ioredis';
import type { LiveEvents } from './live.ts';

/**
 * What travels between instances: the outbox position and ids only, never personal data.
 * Subscribers load the event and re-check access. Positions travel as decimal strings (bigint).
 */
export interface OutboxMessage {
  position: string;
  /** The outbox row's id (its insertion order). */
  id: string;
  eventId: string;
  caseId: string;
}

/**
 * How the relay's announcements reach every instance: in-process, or Redis pub/sub when
 * REDIS_URL is set. It is only a fast path: every instance also reads the outbox itself (see
 * live.ts), so a message the transport loses is late, never lost.
 */
export interface EventTransport {
  readonly kind: 'memory' | 'redis';
  /** Resolves once the transport took the messages; rejects when it cannot (Redis down): the relay retries. */
  publish(messages: readonly OutboxMessage[]): Promise<void>;
  /** Every batch published by any instance. */
  subscribe(listener: (messages: OutboxMessage[]) => void): () => void;
  /** Called when the transport came back after an outage (messages may have been missed meanwhile). */
  onReconnect(listener: () => void): () => void;
  /** Resolves when the transport works (Redis answers PING); rejects with the reason otherwise. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** The live events of the app (AppDeps.events): writes call `committed()` after their transaction. */
export type EventBus = LiveEvents;

export const CHANNEL = 'arrears:case-events';

export function memoryTransport(): EventTransport {
  const listeners = new Set<(m: OutboxMessage[]) => void>();
  return {
    kind: 'memory',
    async publish(messages) {
      const batch = [...messages];
      for (const l of listeners) l(batch);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect: () => () => {},
    health: async () => {},
    close: async () => {},
  };
}

/**
 * Redis pub/sub. Nothing here can throw into the process: connection errors are reported to
 * `onError` (ioredis reconnects by itself), a publish while Redis is down rejects at once (no
 * offline queue) for the relay to retry, and the subscriber re-subscribes when Redis returns.
 */
export function redisTransport(redisUrl: string, onError: (err: Error) => void = () => {}): EventTransport {
  const base: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    connectTimeout: 3000,
  };
  const publishClient = new Redis(redisUrl, { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // No ready check on the subscriber: in subscriber mode ioredis's INFO probe would fail.
  const subscribeClient = new Redis(redisUrl, { ...base, enableReadyCheck: false, maxRetriesPerRequest: null, autoResubscribe: true });
  for (const client of [publishClient, subscribeClient]) client.on('error', onError);
  const listeners = new Set<(m: OutboxMessage[]) => void>();
  const reconnectListeners = new Set<() => void>();
  let connectedOnce = false;
  subscribeClient.on('ready', () => {
    if (connectedOnce) {
      // Re-subscribed after an outage: readers catch up from the outbox.
      setTimeout(() => reconnectListeners.forEach((l) => l()), 100).unref();
    }
    connectedOnce = true;
  });
  subscribeClient.subscribe(CHANNEL).catch(onError);
  subscribeClient.on('message', (channel: string, text: string) => {
    if (channel !== CHANNEL) return;
    let batch: OutboxMessage[];
    try {
      batch = JSON.parse(text) as OutboxMessage[];
      if (!Array.isArray(batch)) return;
    } catch {
      return;
    }
    for (const l of listeners) l(batch);
  });
  let closed = false;
  return {
    kind: 'redis',
    async publish(messages) {
      if (!messages.length) return;
      await publishClient.publish(CHANNEL, JSON.stringify(messages));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async health() {
      if (publishClient.status !== 'ready') throw new Error(`redis is ${publishClient.status}`);
      const answer = await Promise.race([
        publishClient.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('redis did not answer PING within 1 s')), 1000).unref()),
      ]);
      if (answer !== 'PONG') throw new Error(`redis answered ${answer}`);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      reconnectListeners.clear();
      // QUIT when connected (a clean goodbye); a client still trying to connect would queue it forever.
      const quit = [publishClient, subscribeClient].map((c) => (c.status === 'ready' ? c.quit().catch(() => {}) : Promise.resolve()));
      await Promise.race([Promise.all(quit), new Promise((r) => setTimeout(r, 1000).unref())]);
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/** The transport for a configuration: Redis when REDIS_URL is set, in-process otherwise. */
export function createEventBus(redisUrl?: string | undefined, onError: (err: Error) => void = () => {}): EventTransport {
  return redisUrl ? redisTransport(redisUrl, onError) : memoryTransport();
}
