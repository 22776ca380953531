/**
 * Shared by the SDK tests: whether the server under test has a route yet (sessions and artifacts
 * are being added alongside the SDKs: their tests skip with this reason until the server has
 * them), and a child process run with its output kept for failure messages.
 */
import { spawn } from 'node:child_process';

/** "No route ..." when the server answers 404 for a route it does not have; null when it has it. */
export async function missingRoute(baseUrl: string, path: string): Promise<string | null> {
  const res = await fetch(`${baseUrl}${path}`);
  if (res.status !== 404) return null;
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  const message = body?.error?.message ?? '';
  return message.startsWith('No route') ? `the server has no ${path} route yet (${message}); enabled by itself once it has` : null;
}

export interface ProcessRun {
  code: number | null;
  output: string;
}

/** Runs a program to its end (killed after `timeoutMs`); stdout and stderr interleaved. */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 120_000} ms:\n${output}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A finished evaluation's id, to probe per-evaluation routes with. */
export async function anyEvaluationId(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/evaluations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'pass', tags: ['sdk-probe'] }),
  });
  return ((await res.json()) as { id: string }).id;
}
