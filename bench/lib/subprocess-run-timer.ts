/**
 * Drives subprocess_run_timer.py: one warm /usr/bin/python3 that times `subprocess.run` of each
 * command it is sent, so a benchmark can interleave the bare baseline with what it measures.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { PYTHON } from './bare.js';

const SCRIPT = fileURLToPath(new URL('./subprocess_run_timer.py', import.meta.url));

export interface SubprocessRunTimer {
  /** Times one `subprocess.run(argv)` inside the warm python3; the time is python's own perf_counter. */
  run(argv: readonly string[]): Promise<{ ms: number; returncode: number }>;
  close(): Promise<void>;
}

export function startSubprocessRunTimer(): SubprocessRunTimer {
  const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    async run(argv) {
      child.stdin!.write(`${JSON.stringify(argv)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error(`${SCRIPT} exited (code ${child.exitCode})`);
      return JSON.parse(next.value) as { ms: number; returncode: number };
    },
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}
