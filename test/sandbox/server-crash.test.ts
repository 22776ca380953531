/**
 * A server SIGKILLed mid-run takes its spawner and sandboxes with it (parent-death signals along
 * server → spawner → launcher → bwrap, then the PID namespace),
 * and the next server's cleanupStale() removes what it left in the cgroup tree and runsc state.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSandboxBackends } from '../../src/sandbox/index.js';
import { crucibleCgroupsOf, hostProcessesWith } from './suite.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-server.ts', import.meta.url));

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function procsIn(dirs: string[]): number[] {
  return dirs.flatMap((inst) =>
    readdirSync(inst, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => readFileSync(`${inst}/${e.name}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number)),
  );
}

for (const name of ['bubblewrap', 'gvisor'] as const) {
  describe(`server crash: ${name}`, () => {
    it('sandboxes die with a SIGKILLed server and cleanupStale removes their cgroups', async (ctx) => {
      const probe = await createSandboxBackends({ enabled: [name], cleanupStale: false, warm: false });
      const health = await probe[name]!.health();
      if (!health.ok) ctx.skip(`${name} unavailable: ${health.detail}`);

      const marker = `crucible-crash-${name}-${process.pid}-${Date.now()}`;
      const server = spawn(process.execPath, ['--import', 'tsx', fixture, name, marker], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      server.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the run to start', () => out.includes('RUNNING'), 30_000);
      const serverCgroups = crucibleCgroupsOf(server.pid!);
      expect(serverCgroups.length).toBeGreaterThan(0);
      if (name === 'bubblewrap') expect(hostProcessesWith(marker).length).toBeGreaterThanOrEqual(2);
      // Its sandboxes were started by its spawner (the socket path names the server's pid).
      const spawnerTag = `crucible-spawner-p${server.pid}-`;
      expect(hostProcessesWith(spawnerTag).length).toBe(1);

      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      // Parent-death signals and the PID namespace end every sandboxed process by themselves.
      await waitFor('sandboxed processes gone', () => hostProcessesWith(marker).length === 0, 5000);
      await waitFor('the spawner gone', () => hostProcessesWith(spawnerTag).length === 0, 5000);
      await waitFor('cgroups of the dead server empty', () => procsIn(serverCgroups.filter(existsSync)).length === 0, 10_000);

      await probe[name]!.cleanupStale();
      expect(crucibleCgroupsOf(server.pid!)).toEqual([]);
      if (name === 'gvisor')
        expect(existsSync(`/run/crucible/gvisor`) && readdirSync('/run/crucible/gvisor').some((d) => d.startsWith(`p${server.pid}-`))).toBe(false);
      await probe[name]!.close?.();
    }, 60_000);
  });
}
