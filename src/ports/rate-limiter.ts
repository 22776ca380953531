/**
 * Rate-limiter port: token buckets keyed by caller (an API key, a client address). In-process for
 * the embedded platform; in Redis for scale-out, so every API process draws from the same bucket.
 */
export interface BucketRule {
  /** Tokens the bucket holds when full: the burst a caller may make at once. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
}

export interface RateLimiter {
  /** Takes one token from the bucket: 0 when taken, else the milliseconds until one is available (nothing taken). */
  take(bucket: string, rule: BucketRule): Promise<number>;
  /** Like take, but takes nothing: 0 when a token is available now. */
  peek(bucket: string, rule: BucketRule): Promise<number>;
  close(): Promise<void>;
}
