/**
 * Keeps runsc's own code out of the sandboxes' memory limits.
 *
 * A file's page cache is charged to the memory cgroup of whoever first reads it. When the cache
 * was cold (after boot, or after memory pressure evicted it), the first gVisor sandbox to start
 * faulted in runsc's 24 MB binary and its text counted against that sandbox's limit. A program
 * that then filled its memory did not get OOM-killed: the kernel kept evicting runsc's code to
 * make room and the sentry kept faulting it back, so the sandbox thrashed until the timeout
 * (measured after dropping caches: a 128 MiB memory bomb ended as `timeout` after 6 s instead of
 * `oom` after 0.3 s; reading runsc from the server first made every such run an `oom` again).
 *
 * Reading the files from the server charges their pages to the server's cgroup instead, where
 * no sandbox's reclaim can touch them. Re-read now and then (cheap while cached) in case memory
 * pressure evicted them meanwhile.
 */
import { open } from 'node:fs/promises';

const CHUNK = 1 << 20;

export class PageCacheCharge {
  private lastRead = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly paths: readonly string[],
    private readonly everyMs = 10_000,
  ) {}

  /** Reads the files through unless that was done within `everyMs`; never rejects. */
  refresh(): Promise<void> {
    if (this.reading) return this.reading;
    if (performance.now() - this.lastRead < this.everyMs) return Promise.resolve();
    this.lastRead = performance.now();
    this.reading = Promise.all(this.paths.map(readThrough)).then(
      () => undefined,
      () => undefined,
    );
    void this.reading.finally(() => (this.reading = null));
    return this.reading;
  }
}

async function readThrough(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    while ((await file.read(buffer, 0, CHUNK, null)).bytesRead > 0) {
      // the data itself is not needed, only its pages in the cache
    }
  } finally {
    await file.close();
  }
}
