import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/server.js';
import { trimMallocHeap } from '../../src/memory/memory-trim.js';

describe('memory trim after large outputs', () => {
  it('is built on this machine and hands free heap pages back without failing', () => {
    // Node's headers are on every machine this project sets up (.npmrc: nodedir=/usr).
    expect(existsSync(`${repoRoot}/build/native/memory-trim.node`)).toBe(true);
    // Freed memory somewhere in the heap: a megabyte of small allocations, dropped.
    let garbage: Buffer[] | null = Array.from({ length: 256 }, () => Buffer.alloc(4096, 1));
    expect(garbage.length).toBe(256);
    garbage = null;
    expect(typeof trimMallocHeap()).toBe('boolean');
    expect(typeof trimMallocHeap()).toBe('boolean');
  });
});
