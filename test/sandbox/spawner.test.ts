/**
 * Sandboxes started through crucible-spawner (src/sandbox/run/spawner.ts): every launch gets its
 * own streams even when many start at once, input and binary output pass through the socket
 * streams intact, a spawner killed mid-run ends its runs as platform errors and is replaced, and
 * without a spawner binary the plain-spawn fallback runs the same sandboxes.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import { BubblewrapBackend, cgroupDriver } from '../../src/sandbox/index.js';
import { DEFAULT_NATIVE_DIR } from '../../src/sandbox/native.js';
import type { RunResult } from '../../src/ports/sandbox.js';
import { hostProcessesWith, spawnersOf } from './suite.js';

let counter = 0;
function runIn(backend: BubblewrapBackend, code: string, extra: { stdin?: string; limits?: Partial<Limits>; onStart?: () => void } = {}): Promise<RunResult> {
  return backend.run(
    { code, stdin: extra.stdin, environment: 'python', limits: { ...DEFAULT_LIMITS, timeout_s: 20, ...extra.limits }, runId: `sp${process.pid}-${counter++}` },
    { onStart: extra.onStart },
  );
}

describe('sandbox spawner', () => {
  let backend: BubblewrapBackend;
  let skip: string | null = null;

  beforeAll(async () => {
    backend = new BubblewrapBackend({ cgroups: cgroupDriver(), warmSandboxes: 2 });
    const health = await backend.health();
    if (!health.ok) skip = health.detail;
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('runs through a spawner, not a fork of this process', async (ctx) => {
    if (skip) ctx.skip(skip);
    const r = await runIn(backend, 'print("hi")');
    expect(r.stdout).toBe('hi\n');
    expect(spawnersOf(process.pid)).toHaveLength(1);
  }, 20_000);

  it('50 launches at once each get their own streams', async (ctx) => {
    if (skip) ctx.skip(skip);
    const code = 'import sys\nme = sys.stdin.read()\nprint(me)\nprint("err-" + me, file=sys.stderr)';
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => runIn(backend, code, { stdin: `run-${i}` })));
    results.forEach((r, i) => {
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe(`run-${i}\n`);
      expect(r.stderr).toBe(`err-run-${i}\n`);
    });
  }, 120_000);

  it('passes a large stdin through to EOF and binary output back', async (ctx) => {
    if (skip) ctx.skip(skip);
    const stdin = 'x'.repeat(3 * 1024 * 1024);
    const r = await runIn(backend, 'import sys\nprint(len(sys.stdin.buffer.read()))', { stdin, limits: { max_output_bytes: 1024 } });
    expect(r.stdout).toBe(`${stdin.length}\n`);
    const bin = await runIn(backend, 'import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)');
    expect(bin.stdout).toBe(Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)).toString('utf8'));
  }, 30_000);

  it('the program cannot write back on its stdin', async (ctx) => {
    if (skip) ctx.skip(skip);
    const r = await runIn(backend, 'import os\ntry:\n    os.write(0, b"x")\n    print("wrote")\nexcept OSError as e:\n    print(e.errno)');
    expect(r.stdout).toBe('32\n'); // EPIPE: the spawner shut that direction
  }, 20_000);

  it('a program that exits without reading a big stdin is fine (EPIPE on our side)', async (ctx) => {
    if (skip) ctx.skip(skip);
    const r = await runIn(backend, 'print("bye")', { stdin: 'y'.repeat(8 * 1024 * 1024) });
    expect(r.reason).toBe('exit_zero');
    expect(r.stdout).toBe('bye\n');
  }, 30_000);

  it('a spawner killed mid-run ends the run as platform_error, takes its sandbox along and is replaced', async (ctx) => {
    if (skip) ctx.skip(skip);
    const marker = `crucible-spawner-kill-${process.pid}-${Date.now()}`;
    let started = false;
    const code = `import os, sys\nos.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "${marker}"])`;
    const pending = runIn(backend, code, { onStart: () => (started = true) });
    const deadline = Date.now() + 10_000;
    while (!(started && hostProcessesWith(marker).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const [spawner] = spawnersOf(process.pid);
    expect(spawner).toBeDefined();
    process.kill(spawner!, 'SIGKILL');
    const r = await pending;
    expect(r.reason).toBe('platform_error');
    expect(r.message).toMatch(/spawner/);
    await new Promise((res) => setTimeout(res, 500));
    expect(hostProcessesWith(marker)).toEqual([]);
    // The warm sandboxes went with the spawner; the next runs start a new one.
    for (let i = 0; i < 3; i++) {
      const next = await runIn(backend, 'print("again")');
      expect(next.stdout).toBe('again\n');
    }
    expect(spawnersOf(process.pid)).toHaveLength(1);
    expect(spawnersOf(process.pid)[0]).not.toBe(spawner);
  }, 60_000);

  it('a program that ends while its spawner is stalled keeps its own verdict, not the timeout that fired meanwhile', async (ctx) => {
    if (skip) ctx.skip(skip);
    await runIn(backend, 'pass');
    await new Promise((res) => setTimeout(res, 1500)); // the pool refills: the next run needs no launch
    const [spawner] = spawnersOf(process.pid);
    expect(spawner).toBeDefined();
    // Stopped, the spawner cannot report the launcher's exit, so the run outlives its 1 s timeout.
    process.kill(spawner!, 'SIGSTOP');
    try {
      const pending = runIn(backend, 'print("done")', { limits: { timeout_s: 1 } });
      await new Promise((res) => setTimeout(res, 2500));
      process.kill(spawner!, 'SIGCONT');
      const r = await pending;
      expect(r.reason).toBe('exit_zero');
      expect(r.stdout).toBe('done\n');
      expect(r.metrics.wall_ms).not.toBeNull();
      expect(r.metrics.wall_ms!).toBeLessThan(1000); // the program's time, not the stall's
    } finally {
      process.kill(spawner!, 'SIGCONT');
    }
  }, 30_000);

  it('a stuck spawner is replaced: the launch waiting on it fails as platform_error, the next run works', async (ctx) => {
    if (skip) ctx.skip(skip);
    // This backend's own spawner counts as stuck after 1.5 s (the other backend's keeps its default).
    const cold = new BubblewrapBackend({ cgroups: cgroupDriver(), warmSandboxes: 0, launchers: { spawnTimeoutMs: 1500 } });
    let stuck: number | undefined;
    try {
      const before = spawnersOf(process.pid);
      expect((await runIn(cold, 'print(0)')).stdout).toBe('0\n');
      [stuck] = spawnersOf(process.pid).filter((pid) => !before.includes(pid)); // cold's own spawner
      expect(stuck).toBeDefined();
      process.kill(stuck!, 'SIGSTOP');
      const r = await runIn(cold, 'print(1)');
      expect(r.reason).toBe('platform_error');
      expect(r.message).toMatch(/stopped responding/);
      const next = await runIn(cold, 'print(2)');
      expect(next.reason).toBe('exit_zero');
      expect(next.stdout).toBe('2\n');
      expect(spawnersOf(process.pid)).not.toContain(stuck);
    } finally {
      try {
        if (stuck) process.kill(stuck, 'SIGCONT');
      } catch {
        // already gone, as it should be
      }
      await cold.close();
    }
  }, 30_000);

  it('without a spawner binary, falls back to a plain spawn (and says so once)', async (ctx) => {
    if (skip) ctx.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), 'crucible-nospawner-'));
    for (const f of ['crucible-launch', 'crucible-init', 'seccomp.bpf']) copyFileSync(join(DEFAULT_NATIVE_DIR, f), join(dir, f));
    const warnings: string[] = [];
    const fallback = new BubblewrapBackend({ cgroups: cgroupDriver(), nativeDir: dir, warmSandboxes: 0, launchers: { log: (m) => warnings.push(m) } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await runIn(fallback, 'import sys\nprint(sys.stdin.read())', { stdin: `fb-${i}` });
        expect(r.stdout).toBe(`fb-${i}\n`);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/plain spawn/);
    } finally {
      await fallback.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
