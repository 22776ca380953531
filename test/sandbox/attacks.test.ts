/**
 * Attacks on the bubblewrap sandbox that the shared suite does not cover, each as a real program
 * in a real sandbox: reaching other sandboxes through what the kernel accounts per host user,
 * and system calls the filter must refuse (or, for clone3, make libc fall back from).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import type { RunCallbacks, RunResult } from '../../src/sandbox/types.js';
import { hostProcessesWith } from './suite.js';

let backend: BubblewrapBackend;
let skipReason: string | null = null;
let counter = 0;

const run = (code: string, limits: Partial<Limits> = {}, callbacks: RunCallbacks = {}): Promise<RunResult> =>
  backend.run({ code, environment: 'python', limits: { ...DEFAULT_LIMITS, timeout_s: 10, ...limits }, runId: `atk${process.pid}-${counter++}` }, callbacks);

/** Real and effective host uid/gid of a host process (from /proc/PID/status). */
function hostIds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

async function waitFor<T>(what: () => T | null | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bubblewrap attacks', () => {
  beforeAll(async () => {
    const cgroups = cgroupDriver();
    backend = new BubblewrapBackend({ cgroups, warmSandboxes: 2 });
    const health = await backend.health();
    if (!health.ok) skipReason = health.detail;
    else await backend.warm();
  }, 60_000);

  afterAll(async () => {
    await backend?.close();
  }, 60_000);

  const test = (title: string, fn: () => Promise<void>, timeoutMs = 30_000) =>
    it(title, async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      await fn();
    }, timeoutMs);

  test('every sandbox runs as a host uid of its own (65534 inside), so per-user kernel limits are not shared', async () => {
    const marker = `crucible-ids-${process.pid}-${Date.now()}`;
    const sleeper = (n: number) =>
      `import os, sys\nprint(os.getuid(), os.getgid(), flush=True)\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "${marker}-${n}"])`;
    const controller = new AbortController();
    const runs = [0, 1].map((n) => run(sleeper(n), {}, { signal: controller.signal }));
    const pids = await Promise.all([0, 1].map((n) => waitFor(() => hostProcessesWith(`${marker}-${n}`)[0], 10_000)));
    const ids = pids.map(hostIds);
    controller.abort();
    const results = await Promise.all(runs);
    for (const r of results) expect(r.stdout).toBe('65534 65534\n');
    for (const { uid, gid } of ids) {
      expect(uid).not.toBe(0);
      expect(uid).not.toBe(65534); // the host's nobody, which other sandboxes and host services would share
      expect(gid).toBe(uid);
    }
    expect(ids[0]!.uid).not.toBe(ids[1]!.uid);
  });

  test('a sandbox that uses up its inotify instances does not take them from a concurrent one', async () => {
    const hog = `
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init() >= 0:
    n += 1
print("hogged", n, flush=True)
time.sleep(30)
`;
    const controller = new AbortController();
    let hogged = false;
    const hogRun = run(hog, {}, { signal: controller.signal, onStdout: (t) => (hogged ||= t.includes('hogged')) });
    await waitFor(() => hogged || null, 10_000);
    const victim = await run(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
print("inotify", "ok" if fd >= 0 else os.strerror(ctypes.get_errno()))
`);
    controller.abort();
    const hogResult = await hogRun;
    expect(hogResult.stdout).toMatch(/hogged \d+/);
    expect(victim.stdout).toBe('inotify ok\n');
  });
});
