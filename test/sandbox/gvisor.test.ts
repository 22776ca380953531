import { GvisorBackend } from '../../src/sandbox/gvisor/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import { registerSandboxSuite } from './suite.js';

// Skipped (with the reason printed) when runsc or the rootfs is missing: see backend.health().
registerSandboxSuite('gvisor', async () => new GvisorBackend({ cgroups: cgroupDriver() }), {
  slowMs: 3000,
  forkBombReasons: ['pids_limit', 'timeout', 'exit_nonzero'],
});
