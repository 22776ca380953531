import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver, closeSandboxBackends, createSandboxBackends } from '../../src/sandbox/index.js';
import { DEFAULT_NATIVE_DIR, nativeHelpers } from '../../src/sandbox/native.js';
import { registerSandboxSuite } from './suite.js';

registerSandboxSuite(
  'bubblewrap',
  async () => {
    const backend = new BubblewrapBackend({ cgroups: cgroupDriver() });
    if ((await backend.health()).ok) await backend.warm();
    return backend;
  },
  { slowMs: 0, rawExitStatus: true, programMetrics: true, inodeCap: true },
);

describe('bubblewrap: a sandbox that cannot start', () => {
  it('ends as platform_error with the reason, never a rejection', async (ctx) => {
    const cgroups = cgroupDriver();
    if (typeof cgroups === 'string') ctx.skip(cgroups);
    // A "bwrap" that refuses its arguments, like a broken installation would.
    const backend = new BubblewrapBackend({ cgroups, bwrapPath: '/usr/bin/false', warmSandboxes: 0 });
    const r = await backend.run({ code: 'print(1)', environment: 'python', limits: DEFAULT_LIMITS, runId: 'broken' });
    expect(r.reason).toBe('platform_error');
    expect(r.message).toContain('before the program started');
    await backend.close();
    const missing = new BubblewrapBackend({ cgroups, bwrapPath: '/nonexistent/bwrap' });
    expect((await missing.health()).ok).toBe(false);
    const r2 = await missing.run({ code: 'print(1)', environment: 'python', limits: DEFAULT_LIMITS, runId: 'missing' });
    expect(r2.reason).toBe('platform_error');
    expect(r2.message).toContain('/nonexistent/bwrap');
    await missing.close();
  });
});

describe('bubblewrap: the seccomp filter exported at build time', () => {
  it('is exactly the policy the launcher compiles', () => {
    const helpers = nativeHelpers();
    const compiled = execFileSync(helpers.launcher, ['--export-seccomp-bpf']);
    expect(compiled.length).toBeGreaterThan(0);
    expect(readFileSync(helpers.seccompBpf).equals(compiled)).toBe(true);
  });

  it('is refused, never run without, when others could have written it or it is no filter', async (ctx) => {
    const cgroups = cgroupDriver();
    if (typeof cgroups === 'string') ctx.skip(cgroups);
    const dir = mkdtempSync(join(tmpdir(), 'crucible-bpf-'));
    for (const f of ['crucible-launch', 'crucible-init', 'crucible-spawner', 'seccomp.bpf']) copyFileSync(join(DEFAULT_NATIVE_DIR, f), join(dir, f));
    const bpf = join(dir, 'seccomp.bpf');
    const backend = new BubblewrapBackend({ cgroups, nativeDir: dir, warmSandboxes: 0 });
    const run = () => backend.run({ code: 'print(1)', environment: 'python', limits: DEFAULT_LIMITS, runId: 'bpf' });
    try {
      expect((await run()).stdout).toBe('1\n');
      chmodSync(bpf, 0o666);
      const writable = await run();
      expect(writable.reason).toBe('platform_error');
      expect(writable.message).toContain('refusing the seccomp filter');
      writeFileSync(bpf, Buffer.alloc(0));
      chmodSync(bpf, 0o644);
      const empty = await run();
      expect(empty.reason).toBe('platform_error');
      expect(empty.message).toContain('not a BPF program');
      rmSync(bpf);
      const missing = await run();
      expect(missing.reason).toBe('platform_error');
      expect(missing.message).toContain('seccomp.bpf is missing');
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('bubblewrap: a server that reads the sandbox late', () => {
  it("times the program by the sandbox's clock: its start as the program saw it, its whole time limit", async (ctx) => {
    const cgroups = cgroupDriver();
    if (typeof cgroups === 'string') ctx.skip(cgroups);
    const backend = new BubblewrapBackend({ cgroups, warmSandboxes: 1 });
    await backend.warm();
    try {
      let startedAtMs = 0;
      let blocked = false;
      const code = 'import time\nprint(repr(time.time()), flush=True)\nwhile True:\n    pass';
      const limits = { ...DEFAULT_LIMITS, timeout_s: 1 };
      const runCalledAtMs = Date.now();
      const r = await backend.run(
        { code, environment: 'python', limits, runId: 'late-reader' },
        {
          onStart: (ms) => (startedAtMs = ms),
          // As a loaded server does: the event loop is busy (0.5 s) while the program starts.
          sampleIntervalMs: 1,
          onSample: () => {
            if (blocked) return;
            blocked = true;
            const until = performance.now() + 500;
            while (performance.now() < until);
          },
        },
      );
      const finishedAtMs = Date.now();
      expect(r.reason).toBe('timeout');
      const programSawMs = Number(r.stdout.trim()) * 1000;
      // The start the server reports is the program's (it printed its clock right after; a loaded
      // machine may take a while to get there), not when the server heard of it.
      expect(startedAtMs).toBeLessThanOrEqual(programSawMs + 5);
      expect(startedAtMs).toBeGreaterThanOrEqual(runCalledAtMs - 1); // (Date.now() counts whole ms)
      // The 1 s limit counts from that start: the program got all of it.
      expect(r.metrics.wall_ms).toBeGreaterThanOrEqual(1000);
      expect(finishedAtMs - startedAtMs).toBeGreaterThanOrEqual(1000);
    } finally {
      await backend.close();
    }
  }, 30_000);
});

describe('bubblewrap: warm sandboxes', () => {
  it('keeps one waiting per lane and a spare, so every lane that frees finds its next sandbox ready', async (ctx) => {
    const cgroups = cgroupDriver();
    if (typeof cgroups === 'string') ctx.skip(cgroups);
    const backends = await createSandboxBackends({ enabled: ['bubblewrap'], lanes: 4, cleanupStale: false });
    const backend = backends.bubblewrap!;
    try {
      expect(backend.warmSandboxes?.()).toBe(5);
      // Four programs at once all start warm, leaving the spare; the pool is back to five after.
      const runs = await Promise.all(
        [0, 1, 2, 3].map((i) => backend.run({ code: `print(${i})`, environment: 'python', limits: DEFAULT_LIMITS, runId: `lane-${i}` })),
      );
      expect(runs.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n']);
      await expect.poll(() => backend.warmSandboxes?.(), { timeout: 20_000 }).toBe(5);
    } finally {
      await closeSandboxBackends(backends);
    }
  }, 60_000);
});
