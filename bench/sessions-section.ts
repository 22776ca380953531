/**
 * Sessions through the HTTP API, as an agent uses them (the TypeScript SDK against a real server):
 * the round trip of an exec in a warm session next to the same command spawned bare on the host
 * (like `subprocess.run` from a warm process), interleaved so machine noise hits both alike; and
 * session start (POST /api/sessions until the sandbox is ready). Each part stops at its count or
 * its share of the time budget, whichever comes first. `npx tsx bench/sessions.ts` has the same
 * figures without HTTP (the agent alone).
 */
import { CrucibleClient, type CrucibleSession } from '../src/client/index.js';
import { PYTHON, runArgv } from './lib/bare.js';
import { startBenchServer } from './lib/server.js';
import { distribution, round, type Distribution } from './lib/stats.js';
import type { Row, Section } from './lib/section.js';

/** The same command in the session (the environment's python3 on its PATH) and on the host. */
const COMMANDS = [
  { label: "python3 -c 'print(1)'", inSession: ['python3', '-c', 'print(1)'], bare: [PYTHON, '-c', 'print(1)'] },
  { label: '/bin/true', inSession: ['/bin/true'], bare: ['/bin/true'] },
] as const;
const WARM_UP = 5;
/** The goal for what a session adds to a command, p50. */
const OVERHEAD_TARGET_MS = 5;

export async function sessionsBench(opts: { execs: number; starts: number; budgetS: number }): Promise<Section> {
  const server = await startBenchServer(['--workers', '1']);
  const client = new CrucibleClient(server.url);
  const deadline = (share: number) => performance.now() + opts.budgetS * 1000 * share;
  try {
    const startMs: number[] = [];
    const startsUntil = deadline(0.3);
    while (startMs.length < opts.starts && performance.now() < startsUntil) {
      const t = performance.now();
      const s = await client.createSession({ memory_mb: 256, idle_timeout_s: 60, tags: ['bench:sessions'] });
      startMs.push(performance.now() - t);
      if (s.info.status !== 'ready') throw new Error(`session did not start: ${s.info.ended_reason} ${s.info.message}`);
      await s.end();
    }

    const session = await client.createSession({ memory_mb: 256, idle_timeout_s: 300, tags: ['bench:sessions'] });
    const measured: Array<{ label: string; session: Distribution; bare: Distribution }> = [];
    try {
      for (const [i, cmd] of COMMANDS.entries()) {
        for (let w = 0; w < WARM_UP; w++) {
          await execOk(session, cmd.inSession);
          await runArgv(cmd.bare);
        }
        const inSession: number[] = [];
        const bare: number[] = [];
        const until = deadline(0.7 / COMMANDS.length);
        while (inSession.length < opts.execs && performance.now() < until) {
          let t = performance.now();
          await execOk(session, cmd.inSession);
          inSession.push(performance.now() - t);
          t = performance.now();
          const b = await runArgv(cmd.bare);
          bare.push(performance.now() - t);
          if (b.exitCode !== 0) throw new Error(`bare ${cmd.label} exited with ${b.exitCode}`);
        }
        measured[i] = { label: cmd.label, session: distribution(inSession), bare: distribution(bare) };
      }
    } finally {
      await session.end();
    }

    const rows: Row[] = measured.map((m) => {
      const overhead = round(m.session.p50 - m.bare.p50);
      return {
        metric: `exec ${m.label} in a warm session, p50 / p99 (ms)`,
        crucible: `${m.session.p50} / ${m.session.p99}`,
        baseline: `${m.bare.p50} / ${m.bare.p99}`,
        target: `≤ +${OVERHEAD_TARGET_MS} ms p50`,
        met: overhead <= OVERHEAD_TARGET_MS,
        note: `${overhead >= 0 ? '+' : ''}${overhead} ms p50 over bare (n=${m.session.n}, HTTP + event log included)`,
      };
    });
    const start = distribution(startMs);
    rows.push({
      metric: 'session start (POST /api/sessions → ready), p50 / p99 (ms)',
      crucible: `${start.p50} / ${start.p99}`,
      note: `n=${start.n}, bubblewrap, python`,
    });
    return {
      name: 'sessions',
      title: `Sessions over HTTP: exec round trip in a warm session vs the same command bare on the host (interleaved), and session start`,
      rows,
      notes: [
        `at most ${opts.execs} execs per command and ${opts.starts} starts, within ${opts.budgetS} s; the bare column spawns /usr/bin/python3 or /bin/true from Node`,
      ],
      data: { execs: measured, start },
    };
  } finally {
    await server.stop();
  }
}

async function execOk(session: CrucibleSession, cmd: readonly string[]): Promise<void> {
  const r = await session.exec([...cmd]);
  if (r.reason !== 'completed') throw new Error(`${cmd.join(' ')} in the session: ${r.reason} (${r.message}) ${r.stderr ?? ''}`);
}
