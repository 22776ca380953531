/**
 * The host uid/gid each bubblewrap sandbox runs as. Inside, the program is always 65534
 * (nobody); on the host, every sandbox gets an identity of its own from a reserved range.
 *
 * Why not one shared unprivileged uid: the kernel accounts a number of resources per user,
 * across all of that user's namespaces — inotify instances and watches, pipe buffer pages,
 * queued signals, POSIX message queue bytes, epoll watches, RLIMIT_NPROC. With one uid for
 * every sandbox, a program that used up its user's inotify instances (128 here) made inotify
 * fail in every other sandbox running at the same time (and for the host's own `nobody`
 * processes). Separate uids keep each sandbox's per-user counters its own.
 *
 * An identity is picked at random from the range and held until the sandbox's launcher has
 * reaped every process of it; randomness keeps several servers on one machine (which share the
 * range without knowing of each other) from colliding in practice.
 */
import { randomInt } from 'node:crypto';

export interface HostIdRange {
  first: number;
  count: number;
}

/**
 * Above systemd's container range (524288–1879048191) and below its foreign-uid range and 2^31
 * (which some tools mishandle as negative): no allocator on a Debian host hands these out.
 */
export const DEFAULT_HOST_ID_RANGE: HostIdRange = { first: 1_900_000_000, count: 1_000_000 };

/** The uid and gid the program sees inside its user namespace. */
export const SANDBOX_INNER_ID = 65534;

export class HostIdentities {
  private readonly inUse = new Set<number>();

  constructor(private readonly range: HostIdRange = DEFAULT_HOST_ID_RANGE) {
    const last = range.first + range.count - 1;
    if (!Number.isInteger(range.first) || !Number.isInteger(range.count) || range.first < 1 || range.count < 1 || last >= 2 ** 32 - 1) {
      throw new Error(`invalid host id range ${range.first}+${range.count}`);
    }
  }

  /** An identity no other sandbox of this process holds; used as both uid and gid. */
  acquire(): number {
    if (this.inUse.size >= this.range.count) throw new Error('no free host identity for a sandbox');
    for (;;) {
      const id = this.range.first + randomInt(this.range.count);
      if (!this.inUse.has(id)) {
        this.inUse.add(id);
        return id;
      }
    }
  }

  release(id: number): void {
    this.inUse.delete(id);
  }
}
