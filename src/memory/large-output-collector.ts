/**
 * A full garbage collection right after a large output is dropped: its verdict stored (the
 * worker), or its response sent (the API). The process's MemoryReclaimer.
 *
 * While it is captured and stored, an output is held several times over (the captured bytes, the
 * text decoded from them, the live events, the driver's copies), and a response that sends it
 * makes pieces of it on the way. Once the verdict is written or the response sent it is all
 * garbage, but V8 collects old-generation and large objects only when the heap grows again: until
 * then a server that just ran one 16 MiB + 16 MiB evaluation keeps tens of MiB of it
 * resident while clients read that output (bench/output-memory.ts, with SQLite's 2 MiB page
 * cache: 140–170 MiB of RSS rise while reading without this collection, 80–95 MiB with it).
 * What it frees outside that heap then goes back to the system too (memory-trim.ts).
 *
 * The collection is a pause (tens of milliseconds on a quiet machine for a server-sized heap), so
 * it runs only after outputs of at least LARGE_OUTPUT_BYTES, at most once per MIN_INTERVAL_MS
 * (later ones wait for the interval's end), and off the verdict's own path: a stream of large
 * outputs costs at most one pause per interval, and small evaluations never pay for it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MemoryReclaimer } from '../ports/memory.js';
import { trimMallocHeap } from './memory-trim.js';

const LARGE_OUTPUT_BYTES = 4 * 1024 * 1024;
/**
 * At most two pauses a second however many large outputs end or are sent: a bound on what a flood
 * of them costs, short enough that a verdict's output is not left resident behind the collection
 * an earlier response asked for (at 2 s, one run in six kept ~100 MiB of heap through its reads).
 */
const MIN_INTERVAL_MS = 500;

/** V8's own full collection: exposing it at run time is supported, and a fresh context picks it up. */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** One per process: the heap is the process's, whichever worker, runner or route dropped the output. */
export const largeOutputCollector: MemoryReclaimer = new (class LargeOutputCollector implements MemoryReclaimer {
  private collect: (() => void) | null = null;
  private lastAt = Number.NEGATIVE_INFINITY;
  private pending = false;

  afterLargeOutput(bytes: number): void {
    if (bytes < LARGE_OUTPUT_BYTES || this.pending) return;
    this.pending = true;
    // After the caller has dropped its last reference (the output goes out of scope with its
    // frame); within MIN_INTERVAL_MS of the last collection, once that interval is over, so every
    // large output is followed by one (a skipped one left its output resident until the next).
    const run = () => {
      this.pending = false;
      this.lastAt = performance.now();
      this.collect ??= fullCollection();
      this.collect();
      // What the collection freed outside the JavaScript heap is mostly free pages inside the
      // malloc heap, which glibc keeps resident (~35 MiB after 2 × 16 MiB outputs).
      trimMallocHeap();
    };
    const wait = this.lastAt + MIN_INTERVAL_MS - performance.now();
    if (wait > 0) setTimeout(run, wait).unref();
    else setImmediate(run);
  }
})();
