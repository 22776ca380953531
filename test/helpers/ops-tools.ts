/**
 * The operations tools the test/ops suites drive (promtool, prometheus, kubectl, systemd-analyze):
 * `scripts/setup.sh --test` installs them; a test runs them with a bounded time and skips, saying
 * why, only when one is truly missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const deployDir = path.resolve(import.meta.dirname, '../../deploy');

export function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Why a test must skip (the tool is absent even after scripts/setup.sh --test), or null. */
export function missingTool(command: string, debianPackage: string): string | null {
  return which(command) ? null : `${command} is not installed (scripts/setup.sh --test installs the Debian package ${debianPackage})`;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; a non-zero exit is returned, not thrown, so a test can show the output. */
export async function tool(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}
