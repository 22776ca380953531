/**
 * A Crucible server for a benchmark: the built CLI as a child process (so its CPU and memory are
 * its own and measurable), on a free 127.0.0.1 port, with a temporary data directory removed on
 * stop. Reuses the test helper that spawns and waits for readiness.
 */
import fs from 'node:fs';
import { spawnServer, tempDir, type ServerProcess } from '../../test/helpers/server.js';

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  /** Resident memory of the server process (kB), from /proc/<pid>/status. */
  rssKb(): number;
  /** User + system CPU time of the server process so far (ms), from /proc/<pid>/stat. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startBenchServer(args: string[] = [], options: { dataDir?: string; keepDataDir?: boolean; cli?: string } = {}): Promise<BenchServer> {
  const dataDir = options.dataDir ?? tempDir('crucible-bench-');
  let proc: ServerProcess;
  try {
    proc = await spawnServer(['--data-dir', dataDir, ...args], {}, options.cli ? { cli: options.cli } : {});
  } catch (err) {
    if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const pid = proc.child.pid!;
  return {
    url: proc.url,
    pid,
    dataDir,
    rssKb: () => rssKb(pid),
    cpuMs: () => cpuMs(pid),
    async stop() {
      await proc.kill('SIGTERM');
      if (!options.keepDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

export function cpuMs(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
}
