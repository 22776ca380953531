/**
 * Starts real Crucible servers for tests: in-process (fast, for API behaviour) or as a child
 * process of the built CLI (for crash and restart tests). Always on 127.0.0.1 with a free port
 * and a private temporary data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, type PlatformConfig } from '../../src/main/config.js';
import { startServer, type RunningServer } from '../../src/main/roles.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const cliPath = path.join(repoRoot, 'dist/cli/main.js');

export function tempDir(prefix = 'crucible-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A server in this process; a data directory it made itself is removed when it stops. */
export async function startTestServer(overrides: Partial<PlatformConfig> = {}): Promise<RunningServer & { dataDir: string }> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? tempDir();
  const config = resolveConfig({ logLevel: 'warn', workers: 2, sandboxes: ['bubblewrap'], ...overrides, dataDir });
  const server = await startServer(config, { host: '127.0.0.1', port: 0 });
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    dataDir,
    async stop() {
      await stop();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILLs the server's whole process group, as a crash of its container or unit would (needs `ownGroup`). */
  killGroup(): void;
}

/**
 * Runs `crucible serve` from the built CLI as a separate process and waits until it is ready.
 * `ownGroup`: the server leads a process group of its own, so killGroup() reaches all its children.
 * `cli`: another build's dist/cli/main.js (a benchmark comparing two builds), else this checkout's.
 */
export async function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}, options: { ownGroup?: boolean; cli?: string } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [options.cli ?? cliPath, 'serve', '--host', '127.0.0.1', '--port', String(port), ...args], {
    env: { ...process.env, CRUCIBLE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownGroup ?? false,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}): ${out}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server not ready within 30 s: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    killGroup() {
      if (!options.ownGroup || child.pid === undefined) throw new Error('killGroup needs a server spawned with ownGroup');
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is already gone */
      }
    },
  };
}

export async function api<T = unknown>(
  url: string,
  method: string,
  pathname: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
