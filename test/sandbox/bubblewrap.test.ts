import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
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
