/**
 * Small synchronous helpers for cgroup control files. Control files are kernel objects, not disk
 * files: reads and writes complete in microseconds, so the hot path (applying limits, reading
 * counters) uses sync calls instead of paying a thread-pool round trip per file.
 */
import { readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function writeControl(path: string, value: string | number): void {
  writeFileSync(path, String(value));
}

export function readControl(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readNumber(path: string): number {
  const text = readControl(path).trim();
  return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
}

/** Value of `key` in a flat-keyed file such as memory.oom_control or pids.events ("key value" lines). */
export function readKeyed(path: string, key: string): number {
  for (const line of readControl(path).split('\n')) {
    const [k, v] = line.split(' ');
    if (k === key && v !== undefined) return Number(v);
  }
  return 0;
}

export function readPids(procsFile: string): number[] {
  try {
    return readControl(procsFile)
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

export function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** SIGKILLs everything listed in the procs files until they are empty (or attempts run out). */
export async function killProcsUntilEmpty(procsFiles: readonly string[], sparePid?: number): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    let alive = 0;
    for (const file of procsFiles) {
      for (const pid of readPids(file)) {
        if (pid === sparePid) continue;
        alive++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (alive === 0) return true;
    await sleep(attempt < 10 ? 2 : 10);
  }
  return false;
}

/**
 * rmdir that waits out EBUSY: a cgroup whose last task just died (or is still a zombie being
 * reaped) is briefly busy. Absent directories count as removed.
 */
export async function rmdirWithBackoff(dir: string, totalMs = 5000): Promise<void> {
  let delay = 2;
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (Date.now() > deadline || (code !== 'EBUSY' && code !== 'EAGAIN')) throw err;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}
