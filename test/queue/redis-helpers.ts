/** Redis test helpers: a unique key prefix per test, and deleting exactly the keys under it. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.CRUCIBLE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function testPrefix(): string {
  return `crucible-test-${randomBytes(6).toString('hex')}`;
}

export async function deleteKeys(prefix: string): Promise<void> {
  if (!/^crucible-test-[0-9a-f]+$/.test(prefix)) throw new Error(`refusing to delete keys of ${prefix}`);
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The names of the Redis connections open now whose name contains `part` (each process names its own). */
export async function connectionNames(part: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const list = (await redis.client('LIST')) as string;
    return list
      .split('\n')
      .map((line) => / name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.includes(part))
      .sort();
  } finally {
    redis.disconnect();
  }
}
