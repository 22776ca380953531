/**
 * Small synchronous helpers for cgroup control files. Control files are kernel objects, not disk
 * files: reads and writes complete in microseconds, so the hot path (applying limits, reading
 * counters) uses sync calls instead of paying a thread-pool round trip per file.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export function writeControl(path: string, value: string | number): void {
  writeFileSync(path, String(value));
}

export function readControl(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readNumber(path: string): number {
  return parseNumber(readControl(path));
}

/** Value of `key` in a flat-keyed file such as memory.oom_control or pids.events ("key value" lines). */
export function readKeyed(path: string, key: string): number {
  return parseKeyed(readControl(path), key);
}

function parseNumber(text: string): number {
  const trimmed = text.trim();
  return trimmed === 'max' ? Number.POSITIVE_INFINITY : Number(trimmed);
}

function parseKeyed(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k === key && v !== undefined) return Number(v);
  }
  return 0;
}

/** Shared by every ControlFile read: the files read this way are a number or a few short lines. */
const readBuffer = Buffer.allocUnsafe(4096);

/**
 * A control file of a pooled cgroup, kept open across runs: every run reads and writes the same
 * dozen files, and a pread/pwrite at offset 0 (the kernel regenerates a control file's text on
 * each read from offset 0) is one system call where readFileSync/writeFileSync take four or
 * three, about half the CPU per access. Opened on first use; close() before the cgroup is removed.
 * The fd is close-on-exec (Node opens every file so) and the spawner's children close every fd
 * above 4 anyway, so no sandbox ever holds it.
 */
export class ControlFile {
  private fd: number | null = null;

  constructor(
    readonly path: string,
    /** Opened for writing too (a read-only control file refuses a writable open). */
    private readonly writable = false,
  ) {}

  read(): string {
    const n = readSync(this.open(), readBuffer, 0, readBuffer.length, 0);
    // A file longer than the buffer is not one of ours: read it whole rather than cut it.
    return n < readBuffer.length ? readBuffer.toString('latin1', 0, n) : readControl(this.path);
  }

  readNumber(): number {
    return parseNumber(this.read());
  }

  readKeyed(key: string): number {
    return parseKeyed(this.read(), key);
  }

  write(value: string | number): void {
    writeSync(this.open(), String(value), 0);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): number {
    this.fd ??= openSync(this.path, this.writable ? 'r+' : 'r');
    return this.fd;
  }
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
