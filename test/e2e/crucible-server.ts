/**
 * Starts a real `crucible serve` for end-to-end tests: a free loopback port, a throwaway data
 * directory, wait for /readyz, and stop it by PID afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  /** Everything the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Asks the OS for a free port by listening on port 0, then releases it for the server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startServer(
  opts: {
    workers?: number;
    readyTimeoutMs?: number;
    /** More `crucible serve` flags; a function gets the server's own URL (for --public-url). */
    args?: string[] | ((url: string) => string[]);
    env?: NodeJS.ProcessEnv;
    /** A data directory the test prepared (e.g. with `crucible keys create`); removed at stop like a made one. */
    dataDir?: string;
  } = {},
): Promise<RunningServer> {
  const main = path.join(repoRoot, 'dist/cli/main.js');
  const webIndex = path.join(repoRoot, 'dist/web/index.html');
  for (const f of [main, webIndex]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(repoRoot, f)} is missing: run \`npm run build\` first`);
  }
  const port = await freePort();
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-e2e-'));
  const args = [main, 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'];
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  args.push(...(typeof opts.args === 'function' ? opts.args(`http://127.0.0.1:${port}`) : (opts.args ?? [])));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(child.pid, 'SIGTERM');
      const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 45_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`crucible serve exited with ${child.exitCode} before it was ready:\n${out}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`crucible serve was not ready within the timeout:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, dataDir, output: () => out, stop };
}
