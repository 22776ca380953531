/**
 * A full garbage collection right after a verdict with a large output is stored.
 *
 * While it is captured and stored, an output is held several times over (the captured bytes, the
 * text decoded from them, the live events, the driver's copies). Once the verdict is written it is
 * all garbage, but V8 collects old-generation and large objects only when the heap grows again:
 * until then a server that just ran one 16 MiB + 16 MiB evaluation keeps tens of MiB of it
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
import type { RunResult } from '../domain/run-result.js';
import { trimMallocHeap } from './memory-trim.js';

const LARGE_OUTPUT_BYTES = 4 * 1024 * 1024;
const MIN_INTERVAL_MS = 2000;

/** V8's own full collection: exposing it at run time is supported, and a fresh context picks it up. */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** One per process: the heap is the process's, whichever worker or runner stored the output. */
export const largeOutputCollector = new (class LargeOutputCollector {
  private collect: (() => void) | null = null;
  private lastAt = Number.NEGATIVE_INFINITY;
  private pending = false;

  /** Called once a verdict is stored (or was refused): the result's output is garbage from here on. */
  afterVerdict(result: Pick<RunResult, 'stdout' | 'stderr' | 'stdout_raw' | 'stderr_raw'>): void {
    const held = result.stdout.length + result.stderr.length + (result.stdout_raw?.byteLength ?? 0) + (result.stderr_raw?.byteLength ?? 0);
    if (held < LARGE_OUTPUT_BYTES || this.pending) return;
    this.pending = true;
    // After the caller has dropped its last reference (the result goes out of scope with its
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
