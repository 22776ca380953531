/** Token buckets in this process's memory (embedded platform: one API process). */
import type { BucketRule, RateLimiter } from '../ports/rate-limiter.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** Beyond this many buckets, full ones (which mean nothing: same as absent) are forgotten. */
const MAX_BUCKETS = 100_000;

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private refilled(key: string, rule: BucketRule): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: rule.capacity, at: now };
    bucket.tokens = Math.min(rule.capacity, bucket.tokens + ((now - bucket.at) / 1000) * rule.refillPerSecond);
    bucket.at = now;
    return bucket;
  }

  private waitMs(bucket: Bucket, rule: BucketRule): number {
    return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) / rule.refillPerSecond) * 1000);
  }

  async take(key: string, rule: BucketRule): Promise<number> {
    const bucket = this.refilled(key, rule);
    const wait = this.waitMs(bucket, rule);
    if (wait === 0) bucket.tokens -= 1;
    if (this.buckets.size >= MAX_BUCKETS && !this.buckets.has(key)) this.forgetFull(rule);
    this.buckets.set(key, bucket);
    return wait;
  }

  async peek(key: string, rule: BucketRule): Promise<number> {
    return this.buckets.has(key) ? this.waitMs(this.refilled(key, rule), rule) : 0;
  }

  private forgetFull(rule: BucketRule): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((this.now() - bucket.at) / 1000) * rule.refillPerSecond >= rule.capacity) this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
