/**
 * Hands the malloc heap's free pages back to the system (glibc's malloc_trim), through the addon
 * native/build.sh builds (native/memory-trim.c says why). Without the addon — Node's headers
 * were missing at build time, or another libc — it does nothing: memory stays resident longer,
 * nothing else changes.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** build/native of this checkout (src/memory or dist/memory are two levels below the root). */
const ADDON = fileURLToPath(new URL('../../build/native/memory-trim.node', import.meta.url));

let trim: (() => boolean) | null | undefined;

/** True when some memory went back to the system. */
export function trimMallocHeap(): boolean {
  if (trim === undefined) {
    try {
      trim = (createRequire(import.meta.url)(ADDON) as { trim: () => boolean }).trim;
    } catch {
      trim = null;
    }
  }
  return trim?.() ?? false;
}
