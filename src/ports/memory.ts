/**
 * The process's memory after a large output: once an output of many MiB is garbage (its verdict
 * stored, or its response sent), the process can hand what it held back to the system instead of
 * keeping it resident until its heap grows again (src/memory/large-output-collector.ts).
 */
export interface MemoryReclaimer {
  /** `bytes` of output were just dropped; small amounts are ignored. Never blocks the caller. */
  afterLargeOutput(bytes: number): void;
}
