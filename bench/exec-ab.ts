/**
 * Exec round trip of two builds side by side: this checkout's server and another checkout's (e.g.
 * a worktree at main), each with one warm session, and subprocess.run of the same command, all
 * interleaved (the order of the two builds alternates) so that machine noise hits each alike.
 * Both checkouts must be built (`npm run build`).
 *
 *   npx tsx bench/exec-ab.ts /work/wt-main [--execs 300]
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CrucibleClient, type CrucibleSession } from '../src/client/index.js';
import type { BenchServer, startBenchServer as StartBenchServer } from './lib/server.js';
import { distribution, round } from './lib/stats.js';
import { startSubprocessRunTimer } from './lib/subprocess-run-timer.js';
import { COMMANDS, execOk } from './sessions-section.js';

const { values, positionals } = parseArgs({ options: { execs: { type: 'string', default: '300' } }, allowPositionals: true });
if (positionals.length !== 1) throw new Error('usage: npx tsx bench/exec-ab.ts OTHER_CHECKOUT [--execs N]');
const execs = Number(values.execs);
const builds = [
  { name: 'this', root: path.resolve(import.meta.dirname, '..') },
  { name: 'other', root: path.resolve(positionals[0]!) },
];

interface Running {
  name: string;
  server: BenchServer;
  session: CrucibleSession;
}

const running: Running[] = [];
const timer = startSubprocessRunTimer();
try {
  for (const b of builds) {
    // Each checkout's own helper starts its own build (dist/cli/main.js of that checkout).
    const { startBenchServer } = (await import(path.join(b.root, 'bench/lib/server.ts'))) as { startBenchServer: typeof StartBenchServer };
    const server = await startBenchServer(['--workers', '1']);
    const session = await new CrucibleClient(server.url).createSession({ memory_mb: 512, idle_timeout_s: 600, tags: ['bench:exec-ab'] });
    running.push({ name: `${b.name} (${b.root})`, server, session });
  }
  console.log(`exec round trip, ${execs} interleaved rounds per command, ${os.cpus().length} CPUs`);
  for (const cmd of COMMANDS) {
    for (let w = 0; w < 5; w++) for (const r of running) await execOk(r.session, cmd.inSession);
    const ms = running.map(() => [] as number[]);
    const bare: number[] = [];
    for (let i = 0; i < execs; i++) {
      for (let k = 0; k < running.length; k++) {
        const at = i % 2 ? running.length - 1 - k : k;
        const t = performance.now();
        await execOk(running[at]!.session, cmd.inSession);
        ms[at]!.push(performance.now() - t);
      }
      bare.push((await timer.run(cmd.bare)).ms);
    }
    const b = distribution(bare);
    console.log(
      `\n${cmd.label}  (load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
    );
    console.log(`  bare subprocess.run  p50 ${b.p50}  p95 ${b.p95}`);
    running.forEach((r, k) => {
      const d = distribution(ms[k]!);
      console.log(`  ${r.name}  p50 ${d.p50}  p95 ${d.p95}  overhead p50 ${round(d.p50 - b.p50)}  p95 ${round(d.p95 - b.p95)}`);
    });
  }
} finally {
  await timer.close();
  for (const r of running) {
    await r.session.end().catch(() => undefined);
    await r.server.stop();
  }
}
