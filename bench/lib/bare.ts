/**
 * The baseline every platform figure is compared with: the same program run by /usr/bin/python3
 * directly (never the pyenv shim on PATH, which adds ~60 ms), from a file like the sandbox does.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const PYTHON = '/usr/bin/python3';

export interface BareRun {
  exitCode: number | null;
  ms: number;
}

export function runBare(file: string, stdin?: string): Promise<BareRun> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [file], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], cwd: path.dirname(file) });
    child.stdout!.resume();
    child.stderr!.resume();
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, ms: performance.now() - t }));
  });
}

/** Writes each program to its own file under `dir` (bare runs read code from a file, as the sandbox does). */
export function writePrograms(dir: string, programs: Array<{ name: string; code: string }>): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return programs.map((p, i) => {
    const file = path.join(dir, `${String(i).padStart(4, '0')}-${p.name.replace(/[^A-Za-z0-9_-]/g, '_')}.py`);
    fs.writeFileSync(file, p.code);
    return file;
  });
}

/** A command spawned directly on the host (argv, no shell), its output read and dropped: a bare `subprocess.run`. */
export function runArgv(argv: readonly string[]): Promise<BareRun> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.resume();
    child.stderr!.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, ms: performance.now() - t }));
  });
}

export interface BareBatch {
  seconds: number;
  runs: BareRun[];
}

/**
 * The files run by bare /usr/bin/python3 launched from Python's own `subprocess`, `parallel` at a
 * time (bare-subprocess.py): the held-out throughput baseline, ~25% faster than spawning from Node.
 */
export function runBareBatch(files: string[], parallel: number): Promise<BareBatch> {
  const script = path.join(import.meta.dirname, 'bare-subprocess.py');
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [script, String(parallel), ...files], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const out = JSON.parse(stdout) as { seconds: number; runs: Array<{ exit_code: number; ms: number }> };
      resolve({ seconds: out.seconds, runs: out.runs.map((r) => ({ exitCode: r.exit_code, ms: r.ms })) });
    });
  });
}
