import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { GvisorBackend } from '../../src/sandbox/gvisor/backend.js';
import { chooseRunsc, SYSTEM_RUNSC } from '../../src/sandbox/gvisor/runsc-binary.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import { registerSandboxSuite } from './suite.js';

// Skipped (with the reason printed) when runsc or the rootfs is missing: see backend.health().
registerSandboxSuite('gvisor', async () => new GvisorBackend({ cgroups: cgroupDriver() }), {
  slowMs: 3000,
  forkBombReasons: ['pids_limit', 'timeout', 'exit_nonzero'],
  // Debian 13's runsc hands crucible-init the status channel (--pass-fd); Debian 12's cannot.
  rawExitStatus: chooseRunsc().passFd,
  programMetrics: chooseRunsc().passFd,
});

describe('gvisor: runsc code is not the sandbox memory', () => {
  it('a memory bomb with runsc evicted from the page cache still ends as oom, not as a thrashing timeout', async (ctx) => {
    // Cold, alone: no warm sandboxes booting beside it (they would read runsc first, and compete for the CPU).
    const backend = new GvisorBackend({ cgroups: cgroupDriver(), warmSandboxes: 0 });
    const health = await backend.health();
    if (!health.ok) ctx.skip(health.detail);
    // Drop just runsc's cached pages (as memory pressure or a reboot would): whoever reads them
    // next is charged for them. Before the fix that was the sandbox, which then thrashed.
    const runsc = chooseRunsc().path;
    execFileSync('/usr/bin/python3', [
      '-c',
      `import os; fd = os.open(${JSON.stringify(runsc)}, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)`,
    ]);
    const started = Date.now();
    const r = await backend.run({
      code: 'chunks = []\nwhile True:\n    chunks.append(b"x" * (16 << 20))',
      environment: 'python',
      limits: { ...DEFAULT_LIMITS, memory_mb: 128, timeout_s: 6 },
      runId: `gv-evicted-${process.pid}`,
    });
    await backend.close();
    expect(r.reason).toBe('oom');
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);
});

describe("gvisor with Debian 12's runsc (the fallback when Debian 13's cannot be fetched)", () => {
  it("runsc dying of a refused host thread is a platform error, not the program's exit 2", async (ctx) => {
    if (!existsSync(SYSTEM_RUNSC)) ctx.skip(`${SYSTEM_RUNSC} is not installed`);
    const backend = new GvisorBackend({ cgroups: cgroupDriver(), runscPath: SYSTEM_RUNSC });
    const health = await backend.health();
    if (!health.ok) ctx.skip(health.detail);
    const code =
      'import os, time\nif os.fork() == 0:\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\nfor i in range(60):\n    print("parent alive", i, flush=True)\n    time.sleep(0.1)';
    const r = await backend.run({
      code,
      environment: 'python',
      limits: { ...DEFAULT_LIMITS, max_processes: 32, timeout_s: 8 },
      runId: `gv-old-${process.pid}`,
    });
    await backend.close();
    expect([0, null]).toContain(r.exit_code);
    if (r.reason === 'platform_error') expect(r.message).toMatch(/gVisor runtime died \(runsc exit 2\)/);
  }, 40_000);
});

describe('gvisor: warm sandboxes (booted ahead, waiting for their program)', () => {
  const run = (backend: GvisorBackend, code: string, limits: Partial<typeof DEFAULT_LIMITS> = {}) =>
    backend.run({ code, environment: 'python', limits: { ...DEFAULT_LIMITS, timeout_s: 20, ...limits }, runId: `gv-warm-${process.pid}-${Math.random()}` });

  it('every run gets a sandbox no other run touched, and the limits of its own key', async (ctx) => {
    const backend = new GvisorBackend({ cgroups: cgroupDriver(), warmSandboxes: 2, warmAtStart: true });
    const health = await backend.health();
    if (!health.ok || !chooseRunsc().passFd) ctx.skip(health.ok ? 'this runsc has no --pass-fd: no warm sandboxes' : health.detail);
    try {
      await backend.warm();
      expect(backend.warmSandboxes()).toBe(2);
      const leave = 'open("/tmp/left-behind", "w").write("x"); open("/dev/shm/left-behind", "w").write("x"); open("/sandbox/left-behind", "w").write("x")';
      const look =
        'import os, resource\nprint([os.path.exists(p + "/left-behind") for p in ("/tmp", "/dev/shm", "/sandbox")], resource.getrlimit(resource.RLIMIT_NPROC)[0], os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize >> 20)';
      expect((await run(backend, leave)).reason).toBe('exit_zero');
      for (let i = 0; i < 3; i++) {
        const seen = await run(backend, look);
        expect(seen.stdout).toBe(`[False, False, False] ${DEFAULT_LIMITS.max_processes} ${DEFAULT_LIMITS.scratch_mb}\n`);
      }
      // Another key (process limit, scratch size) is not served by the default's sandboxes.
      const other = await run(backend, look, { max_processes: 8, scratch_mb: 16 });
      expect(other.stdout).toBe('[False, False, False] 8 16\n');
      const again = await run(backend, look, { max_processes: 8, scratch_mb: 16 });
      expect(again.stdout).toBe('[False, False, False] 8 16\n');
    } finally {
      await backend.close();
    }
  }, 120_000);

  it('a sandbox booted in a cgroup whose last run had tiny limits gets its own key’s limits', async (ctx) => {
    const backend = new GvisorBackend({ cgroups: cgroupDriver(), warmSandboxes: 1, warmAtStart: true });
    const health = await backend.health();
    if (!health.ok || !chooseRunsc().passFd) ctx.skip(health.ok ? 'this runsc has no --pass-fd: no warm sandboxes' : health.detail);
    try {
      // A tiny run leaves its CPU share and memory limit on the cgroup it gives back.
      const tiny = await run(backend, 'print("tiny")', { cpus: 0.1, memory_mb: 16 });
      expect(tiny.stdout).toBe('tiny\n');
      await backend.warm();
      for (let i = 0; i < 3; i++) {
        const r = await run(backend, 'print(sum(range(10**6)))');
        expect(r.reason).toBe('exit_zero');
        expect(r.stdout).toBe('499999500000\n');
      }
    } finally {
      await backend.close();
    }
  }, 120_000);
});

describe('gvisor: runsc state after runs', () => {
  it('no container stays registered with runsc after a run that ended by itself or was killed', async (ctx) => {
    const stateRoot = mkdtempSync(join(tmpdir(), 'crucible-gvisor-state-'));
    const backend = new GvisorBackend({ cgroups: cgroupDriver(), warmSandboxes: 0, stateRoot });
    const health = await backend.health();
    if (!health.ok) ctx.skip(health.detail);
    const registered = () =>
      readdirSync(stateRoot).flatMap((instance) =>
        execFileSync(chooseRunsc().path, ['--root', join(stateRoot, instance), 'list', '-quiet'], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean),
      );
    try {
      const ended = await backend.run({ code: 'print("done")', environment: 'python', limits: DEFAULT_LIMITS, runId: `gv-state-${process.pid}-1` });
      expect(ended.reason).toBe('exit_zero');
      const killed = await backend.run({
        code: 'while True: pass',
        environment: 'python',
        limits: { ...DEFAULT_LIMITS, timeout_s: 1 },
        runId: `gv-state-${process.pid}-2`,
      });
      expect(killed.reason).toBe('timeout');
      // Clean-up runs after each result is handed over.
      const deadline = Date.now() + 20_000;
      while (registered().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(registered()).toEqual([]);
    } finally {
      await backend.close();
      rmSync(stateRoot, { recursive: true, force: true });
    }
  }, 90_000);
});
