import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
    const backend = new GvisorBackend({ cgroups: cgroupDriver() });
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
