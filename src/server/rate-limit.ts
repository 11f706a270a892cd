import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../lib/logger.ts';

/** A principal's budget of cost points: Shopify's leaky bucket. */
export interface Budget {
  /** The bucket's size: the most points available at once. */
  maximumAvailable: number;
  /** Points restored per second. */
  restoreRate: number;
}

/** What `extensions.cost.throttle` shows after a request. */
export interface ThrottleStatus extends Budget {
  currentlyAvailable: number;
}

export interface Take {
  allowed: boolean;
  status: ThrottleStatus;
  /** When refused: how long until the points asked for are available. */
  retryAfterMs: number;
}

/** The budgets (README, "Limits and security"). An API key's budget is set when it is issued. */
export const USER_BUDGET: Budget = { maximumAvailable: 40_000, restoreRate: 1_000 };
export const API_KEY_BUDGET: Budget = { maximumAvailable: 20_000, restoreRate: 500 };
/** Requests without valid credentials, per client address: this many per window, then blocked. */
export const ANONYMOUS_REQUESTS = { points: 30, durationSeconds: 60, blockSeconds: 60 } as const;

/** Leaky buckets of cost points, one per principal. */
export interface CostBuckets {
  take(key: string, cost: number, budget: Budget): Promise<Take>;
  close(): Promise<void>;
}

function level(available: number, at: number, now: number, budget: Budget): number {
  return Math.min(budget.maximumAvailable, available + ((now - at) / 1000) * budget.restoreRate);
}

function decide(current: number, cost: number, budget: Budget): Take {
  const allowed = cost <= current;
  const left = allowed ? current - cost : current;
  return {
    allowed,
    status: { ...budget, currentlyAvailable: Math.floor(left) },
    retryAfterMs: allowed ? 0 : Math.ceil(((cost - current) / budget.restoreRate) * 1000),
  };
}

/**
 * In one process. The map is bounded: past MAX_KEYS the least recently used bucket goes (a
 * forgotten bucket is a full one, so this can only be generous, never wrongly refuse).
 */
export class MemoryCostBuckets implements CostBuckets {
  private static readonly MAX_KEYS = 100_000;
  private readonly buckets = new Map<string, { available: number; at: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, cost: number, budget: Budget): Promise<Take> {
    return this.takeNow(key, cost, budget);
  }

  takeNow(key: string, cost: number, budget: Budget): Take {
    const now = this.now();
    const b = this.buckets.get(key);
    const current = b ? level(b.available, b.at, now, budget) : budget.maximumAvailable;
    const result = decide(current, cost, budget);
    this.buckets.delete(key);
    this.buckets.set(key, { available: result.allowed ? current - cost : current, at: now });
    if (this.buckets.size > MemoryCostBuckets.MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value as string);
    return result;
  }

  async close(): Promise<void> {}
}

/**
 * Shared by every instance through Redis. rate-limiter-flexible (used below for addresses) counts
 * fixed windows; Shopify's leaky bucket restores points continuously, which takes this one
 * script: read the level, restore what the elapsed time gives back, take the cost if it fits,
 * write back. Redis's own clock serves every instance. O(1) per request.
 */
const LEAKY_BUCKET = `
local max = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'a', 't')
local available = tonumber(v[1])
local at = tonumber(v[2])
if available == nil or at == nil then available = max; at = now end
available = math.min(max, available + (now - at) / 1000 * rate)
local allowed = 0
if cost <= available then available = available - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'a', tostring(available), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((max - available) / rate * 1000) + 1000)
return { allowed, tostring(available) }
`;

export class RedisCostBuckets implements CostBuckets {
  private readonly redis: Redis;
  /** While Redis is away, this instance keeps counting on its own rather than letting all through. */
  private readonly fallback = new MemoryCostBuckets();
  private lastWarning = 0;

  constructor(
    redisUrl: string,
    private readonly logger: Logger,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on('error', (err) => this.warn(err));
    this.redis.defineCommand('arrearsLeakyBucket', { numberOfKeys: 1, lua: LEAKY_BUCKET });
  }

  /** Resolves when the connection is up (tests; requests never wait for it). */
  ready(): Promise<void> {
    return this.redis.status === 'ready' ? Promise.resolve() : new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  async take(key: string, cost: number, budget: Budget): Promise<Take> {
    // Not connected (starting, or Redis is away): count here rather than make the request wait.
    if (this.redis.status !== 'ready') return this.fallback.takeNow(key, cost, budget);
    try {
      const [allowed, left] = (await (this.redis as unknown as {
        arrearsLeakyBucket(key: string, max: number, rate: number, cost: number): Promise<[number, string]>;
      }).arrearsLeakyBucket(`arrears:cost:${key}`, budget.maximumAvailable, budget.restoreRate, cost));
      const available = Number(left);
      return {
        allowed: allowed === 1,
        status: { ...budget, currentlyAvailable: Math.floor(available) },
        retryAfterMs: allowed === 1 ? 0 : Math.ceil(((cost - available) / budget.restoreRate) * 1000),
      };
    } catch (err) {
      this.warn(err as Error);
      return this.fallback.takeNow(key, cost, budget);
    }
  }

  private warn(err: Error): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger.warn({ err }, 'redis (rate limits): counting in this process until it answers');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/**
 * Requests without valid credentials, counted per client address (rate-limiter-flexible; in Redis
 * when configured, with an in-memory insurance limiter while Redis is down).
 */
export class AddressLimiter {
  private readonly limiter: RateLimiterAbstract;
  private readonly redis: Redis | undefined;

  constructor(redisUrl: string | undefined, options: { points: number; durationSeconds: number; blockSeconds: number } = ANONYMOUS_REQUESTS) {
    const base = { points: options.points, duration: options.durationSeconds, blockDuration: options.blockSeconds, keyPrefix: 'arrears:anon' };
    if (redisUrl) {
      this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      this.redis.on('error', () => {}); // reported by the cost buckets' client; the insurance limiter takes over
      this.limiter = new RateLimiterRedis({ ...base, storeClient: this.redis, insuranceLimiter: new RateLimiterMemory(base) });
    } else {
      this.limiter = new RateLimiterMemory(base);
    }
  }

  /** Resolves when the Redis connection is up, at once without Redis (tests; requests never wait for it). */
  ready(): Promise<void> {
    const redis = this.redis;
    return !redis || redis.status === 'ready' ? Promise.resolve() : new Promise((resolve) => redis.once('ready', () => resolve()));
  }

  /** Milliseconds until this address may try again, or 0 when it may now. Does not count. */
  async blockedFor(address: string): Promise<number> {
    const res = await this.limiter.get(address).catch(() => null);
    if (!res || res.consumedPoints <= this.limiter.points) return 0;
    return Math.max(1, res.msBeforeNext);
  }

  /** Counts a request that came without valid credentials; returns the wait when over budget. */
  async fail(address: string): Promise<number> {
    try {
      await this.limiter.consume(address, 1);
      return 0;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, res.msBeforeNext);
      return 0; // the store failed: the insurance limiter already counted
    }
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
