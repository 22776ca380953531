import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import { fillProgram, registerSandboxSuite } from './suite.js';

registerSandboxSuite('bubblewrap', async () => {
  const backend = new BubblewrapBackend({ cgroups: cgroupDriver() });
  if ((await backend.health()).ok) await backend.warm();
  return backend;
}, { slowMs: 0, rawExitStatus: true });

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

describe('bubblewrap: shared memory', () => {
  it('/dev/shm works for multiprocessing but is bounded like /tmp (ENOSPC, not a memory fill)', async (ctx) => {
    const cgroups = cgroupDriver();
    if (typeof cgroups === 'string') ctx.skip(cgroups);
    const backend = new BubblewrapBackend({ cgroups, warmSandboxes: 0 });
    const code = `
import multiprocessing
q = multiprocessing.Queue(); q.put("via shm"); print(q.get())
${fillProgram('/dev/shm/fill')}`;
    const r = await backend.run({ code, environment: 'python', limits: { ...DEFAULT_LIMITS, scratch_mb: 8, memory_mb: 256 }, runId: `shm-${Date.now()}` });
    await backend.close();
    expect(r.stdout).toContain('via shm');
    expect(r.stdout).toContain('full ENOSPC');
    expect(r.reason).toBe('exit_zero');
  });
});
