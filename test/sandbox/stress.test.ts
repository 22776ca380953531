/**
 * Many overlapping runs of every kind (normal, crashing, timing out, cancelled, forking daemons,
 * flooding) on one backend: every run ends with the expected reason, and afterwards no process,
 * zombie or cgroup of them is left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { BubblewrapBackend } from '../../src/sandbox/bubblewrap/backend.js';
import { cgroupDriver } from '../../src/sandbox/index.js';
import { crucibleCgroupsOf, hostProcessesWith } from './suite.js';

function zombieChildrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('stress: bubblewrap', () => {
  it('40 overlapping mixed runs end as expected and leave nothing behind', async (ctx) => {
    const cgroups = cgroupDriver();
    const backend = new BubblewrapBackend({ cgroups: typeof cgroups === 'string' ? 'unavailable' : cgroups });
    const health = await backend.health();
    if (!health.ok) ctx.skip(health.detail);
    const marker = `crucible-stress-${process.pid}-${Date.now()}`;
    const kinds: Array<{ code: string; expect: string; timeout_s?: number; cancelAfterMs?: number; max_output_bytes?: number }> = [
      { code: 'print("ok")', expect: 'exit_zero' },
      { code: 'raise SystemExit(4)', expect: 'exit_nonzero' },
      { code: 'import os\nos.kill(os.getpid(), 9)', expect: 'signal' },
      { code: 'while True: pass', expect: 'timeout', timeout_s: 0.5 },
      { code: 'import time\ntime.sleep(20)', expect: 'cancelled', cancelAfterMs: 200 },
      {
        code: `import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)", "${marker}"])\ntime.sleep(0.1)`,
        expect: 'exit_zero',
      },
      { code: 'import sys\nwhile True: sys.stdout.write("z" * 8192)', expect: 'output_limit', max_output_bytes: 1024 },
    ];
    const runs = Array.from({ length: 40 }, (_, i) => kinds[i % kinds.length]!);
    let next = 0;
    const failures: string[] = [];
    const lane = async () => {
      while (next < runs.length) {
        const i = next++;
        const k = runs[i]!;
        const controller = new AbortController();
        if (k.cancelAfterMs) setTimeout(() => controller.abort(), k.cancelAfterMs);
        const r = await backend.run(
          {
            code: k.code,
            environment: 'python',
            limits: { ...DEFAULT_LIMITS, timeout_s: k.timeout_s ?? 10, max_output_bytes: k.max_output_bytes ?? DEFAULT_LIMITS.max_output_bytes },
            runId: `stress-${i}`,
          },
          { signal: controller.signal },
        );
        if (r.reason !== k.expect) failures.push(`run ${i}: expected ${k.expect}, got ${r.reason} (${r.message})`);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    expect(failures).toEqual([]);
    await backend.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(hostProcessesWith(marker)).toEqual([]);
    expect(crucibleCgroupsOf(process.pid)).toEqual([]);
    expect(zombieChildrenOf(process.pid)).toEqual([]);
  }, 60_000);
});
