/**
 * Session figures (run alone: `npx tsx bench/sessions.ts`): exec round trip in a warm bubblewrap
 * session (through the agent, without HTTP) against a bare subprocess of the same command, and
 * session start time.
 */
import { spawnSync } from 'node:child_process';
import { nearestRank } from '../src/domain/percentiles.js';
import { closeSandboxBackends, createSandboxBackends } from '../src/sandbox/index.js';

const ROUNDS = 200;
const STARTS = 20;
const spec = (runId: string) => ({ environment: 'python' as const, memory_mb: 256, cpus: 1, max_processes: 64, scratch_mb: 64, runId });
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} ms`);

const backends = await createSandboxBackends({ enabled: ['bubblewrap'] });
const backend = backends.bubblewrap!;
try {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t = performance.now();
    const s = await backend.openSession!(spec(`bench-start-${i}`));
    starts.push(performance.now() - t);
    await s.close();
  }
  const session = await backend.openSession!(spec('bench-exec'));
  const inSession: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    await session.exec({ argv: ['/bin/true'], env: {}, stdin: Buffer.alloc(0), timeout_s: 10, max_output_bytes: 1024 });
    inSession.push(performance.now() - t);
    t = performance.now();
    spawnSync('/bin/true');
    bare.push(performance.now() - t);
  }
  await session.close();
  const e = sorted(inSession);
  const b = sorted(bare);
  const s = sorted(starts);
  console.log(`exec round trip in a warm session: p50 ${ms(nearestRank(e, 0.5))}, p95 ${ms(nearestRank(e, 0.95))} (${ROUNDS} execs of /bin/true)`);
  console.log(
    `bare subprocess of the same command (spawnSync, like subprocess.run from a warm process): p50 ${ms(nearestRank(b, 0.5))}, p95 ${ms(nearestRank(b, 0.95))}`,
  );
  console.log(`session start (sandbox + agent hello): p50 ${ms(nearestRank(s, 0.5))}, p95 ${ms(nearestRank(s, 0.95))} (${STARTS} starts)`);
} finally {
  await closeSandboxBackends(backends);
}
