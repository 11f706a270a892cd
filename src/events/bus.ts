import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';

/** What travels between instances: ids only, never personal data. Subscribers load the event and re-check access. */
export interface CaseEventMessage {
  eventId: string;
  caseId: string;
}

export type CaseEventPubSub = PubSub<{ 'case-events': [CaseEventMessage] }>;

export interface EventBus {
  pubsub: CaseEventPubSub;
  publish(messages: readonly CaseEventMessage[]): void;
  close(): Promise<void>;
}

/**
 * Live case events: in-process by default; through Redis pub/sub when REDIS_URL is set, so that
 * every instance's subscribers hear every instance's writes.
 */
export function createEventBus(redisUrl?: string | undefined, onError: (err: Error) => void = () => {}): EventBus {
  if (!redisUrl) {
    const pubsub: CaseEventPubSub = createPubSub();
    return { pubsub, publish: (ms) => ms.forEach((m) => pubsub.publish('case-events', m)), close: async () => {} };
  }
  const options = { lazyConnect: false, maxRetriesPerRequest: 3, enableOfflineQueue: true };
  const publishClient = new Redis(redisUrl, options);
  // No ready check on the subscriber: a SUBSCRIBE sent before the connection is ready would make
  // ioredis's INFO probe fail in subscriber mode, and the subscription would never start.
  const subscribeClient = new Redis(redisUrl, { ...options, enableReadyCheck: false });
  // ioredis reconnects by itself; errors are reported, not thrown into the process.
  for (const client of [publishClient, subscribeClient]) client.on('error', onError);
  const pubsub: CaseEventPubSub = createPubSub({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  return {
    pubsub,
    publish: (ms) => ms.forEach((m) => pubsub.publish('case-events', m)),
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
