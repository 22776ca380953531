/**
 * Token buckets in Redis (scale-out): one atomic script per request, timed by Redis's own clock,
 * so every API process shares each bucket and their clocks need not agree. A bucket left alone
 * refills and then expires. Redis unreachable: the request is let through (fail open) and the
 * error reported: rate limiting protects the service, it must not take it down with Redis.
 *
 * The connection is opened by the first bucket consulted, not by the constructor: every process of
 * a deployment builds the same use cases, but only API processes admit requests, so a
 * `crucible worker` never opens one.
 */
import { Redis } from 'ioredis';
import type { BucketRule, RateLimiter } from '../ports/rate-limiter.js';

const SCRIPT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local take = ARGV[3] == '1'
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1]) or capacity
local at = tonumber(stored[2]) or nowMs
tokens = math.min(capacity, tokens + math.max(0, nowMs - at) / 1000 * rate)
local wait = 0
if tokens >= 1 then
  if take then tokens = tokens - 1 end
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
if take or stored[1] then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(nowMs))
  redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
end
return wait
`;

export interface RedisRateLimiterOptions {
  url: string;
  /** Key prefix (the deployment's namespace). */
  prefix: string;
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly options: RedisRateLimiterOptions) {
    this.onError = options.onError ?? ((err) => process.emitWarning(`redis rate limiter: ${String(err)}`));
    this.redis = new Redis(options.url, {
      connectionName: `crucible-rate-limiter-${options.prefix}`,
      lazyConnect: true,
      // Also what lets the first command wait for the lazily opened connection.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: options.timeoutMs ?? 3000,
      commandTimeout: options.timeoutMs ?? 3000,
    });
    this.redis.on('error', this.onError);
    this.redis.defineCommand('crucibleBucket', { numberOfKeys: 1, lua: SCRIPT });
  }

  private async run(bucket: string, rule: BucketRule, take: boolean): Promise<number> {
    try {
      const call = (this.redis as unknown as { crucibleBucket(key: string, ...args: string[]): Promise<number> }).crucibleBucket;
      return Number(
        await call.call(this.redis, `${this.options.prefix}:rate:${bucket}`, String(rule.capacity), String(rule.refillPerSecond), take ? '1' : '0'),
      );
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }

  take(bucket: string, rule: BucketRule): Promise<number> {
    return this.run(bucket, rule, true);
  }

  peek(bucket: string, rule: BucketRule): Promise<number> {
    return this.run(bucket, rule, false);
  }

  async close(): Promise<void> {
    // Never used: nothing to say goodbye to (QUIT would open the connection just to close it).
    if (this.redis.status === 'wait') this.redis.disconnect();
    else await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
