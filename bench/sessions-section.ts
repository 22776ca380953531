/**
 * Sessions through the HTTP API, as an agent uses them (the TypeScript SDK against a real server):
 * - the round trip of an exec in a warm session next to `subprocess.run` of the same command from
 *   one warm python3 (bench/lib/subprocess_run_timer.py), interleaved so machine noise hits both
 *   alike; p50 / p95 / p99 and the p50 overhead against the target;
 * - file write/read throughput through the session file API (PUT/GET) next to writing (with
 *   fsync) and reading the same bytes to/from a temp file on the local disk, in the same run;
 * - session start (POST /api/sessions until the sandbox is ready).
 * The exec and start parts stop at their count or their share of the time budget, whichever comes
 * first. `npx tsx bench/sessions.ts` has the exec and start figures without HTTP (the agent alone).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { get as httpGet } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from '../test/helpers/server.js';
import { CrucibleClient, type CrucibleSession } from '../src/client/index.js';
import { PYTHON } from './lib/bare.js';
import { startBenchServer } from './lib/server.js';
import { distribution, round, type Distribution } from './lib/stats.js';
import { startSubprocessRunTimer } from './lib/subprocess-run-timer.js';
import type { Row, Section } from './lib/section.js';

/** The same command in the session (the environment's python3 on its PATH) and on the host. */
export const COMMANDS = [
  { label: "python3 -c 'print(1)'", inSession: ['python3', '-c', 'print(1)'], bare: [PYTHON, '-c', 'print(1)'] },
  { label: '/bin/true', inSession: ['/bin/true'], bare: ['/bin/true'] },
] as const;
const WARM_UP = 5;
/** The goal for what a session adds to a command, p50. */
const OVERHEAD_TARGET_MS = 5;
/** File sizes for the throughput part; 64 MiB is the session's per-file limit. */
const FILE_SIZES_MIB = [16, 64];
const MIB = 1024 * 1024;
const PYTHON_SDK = path.resolve(import.meta.dirname, '../sdk/python/src');
const PYTHON_READ_TIMER = path.resolve(import.meta.dirname, 'lib/python_sdk_read_timer.py');

interface ExecFigures {
  label: string;
  session: Distribution;
  bare: Distribution;
}

interface FileFigures {
  mib: number;
  reps: number;
  /** Medians over the reps, MiB/s. */
  sessionWrite: number;
  sessionRead: number;
  /** The same GET read with node:http instead of the SDK's fetch: separates the server from the client. */
  sessionReadHttp: number;
  /** The same read through the Python SDK (stdlib http.client), timed inside one warm python3. */
  sessionReadPython: number;
  diskWriteFsync: number;
  diskWriteNoFsync: number;
  diskRead: number;
}

export async function sessionsBench(opts: { execs: number; starts: number; fileReps: number; budgetS: number }): Promise<Section> {
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

    const session = await client.createSession({ memory_mb: 512, scratch_mb: 200, idle_timeout_s: 300, tags: ['bench:sessions'] });
    let execs: ExecFigures[];
    let files: FileFigures[];
    try {
      execs = await measureExecs(session, opts.execs, () => deadline(0.7 / COMMANDS.length));
      files = await measureFiles(session, server.url, opts.fileReps);
    } finally {
      await session.end();
    }

    const rows: Row[] = execs.map((m) => {
      const overhead = round(m.session.p50 - m.bare.p50);
      return {
        metric: `exec ${m.label} in a warm session, p50 / p95 / p99 (ms)`,
        crucible: `${m.session.p50} / ${m.session.p95} / ${m.session.p99}`,
        baseline: `${m.bare.p50} / ${m.bare.p95} / ${m.bare.p99}`,
        target: `overhead ≤ ${OVERHEAD_TARGET_MS} ms p50`,
        met: overhead <= OVERHEAD_TARGET_MS,
        note: `overhead p50 ${overhead >= 0 ? '+' : ''}${overhead} ms (target ≤ ${OVERHEAD_TARGET_MS} ms), n=${m.session.n}, HTTP + event log included`,
      };
    });
    for (const f of files) {
      rows.push({
        metric: `file write ${f.mib} MiB (PUT), MiB/s`,
        crucible: f.sessionWrite,
        baseline: f.diskWriteFsync,
        ratio: round(f.sessionWrite / f.diskWriteFsync, 2),
        note: `disk: writeFileSync + fsync (without fsync ${f.diskWriteNoFsync} MiB/s); median of ${f.reps}`,
      });
      rows.push({
        metric: `file read ${f.mib} MiB (GET), MiB/s`,
        crucible: f.sessionRead,
        baseline: f.diskRead,
        ratio: round(f.sessionRead / f.diskRead, 2),
        note: `SDK readFile (fetch); the same GET with node:http: ${f.sessionReadHttp} MiB/s, with the Python SDK's read_file: ${f.sessionReadPython} MiB/s; disk: readFileSync of the file just written (page cache); median of ${f.reps}`,
      });
    }
    const start = distribution(startMs);
    rows.push({
      metric: 'session start (POST /api/sessions → ready), p50 / p95 / p99 (ms)',
      crucible: `${start.p50} / ${start.p95} / ${start.p99}`,
      note: `n=${start.n}, bubblewrap, python`,
    });
    return {
      name: 'sessions',
      title: `Sessions over HTTP: exec round trip in a warm session vs subprocess.run of the same command (interleaved), file throughput vs the local disk, session start`,
      rows,
      notes: [
        `at most ${opts.execs} execs per command and ${opts.starts} starts, within ${opts.budgetS} s; the baseline column is subprocess.run from one warm /usr/bin/python3, timed by python itself`,
        `files: ${opts.fileReps} reps per size through the SDK (writeFile / readFile, bytes checked); the session's files live on its scratch tmpfs (memory), the disk baseline is a temp file on ${os.tmpdir()} (removed after)`,
        'figures taken on a shared, loaded machine are noisy: compare the two columns of one run, not runs with each other',
      ],
      data: { execs, files, start },
    };
  } finally {
    await server.stop();
  }
}

async function measureExecs(session: CrucibleSession, count: number, until: () => number): Promise<ExecFigures[]> {
  const timer = startSubprocessRunTimer();
  try {
    const measured: ExecFigures[] = [];
    for (const cmd of COMMANDS) {
      const bareOk = async () => {
        const b = await timer.run(cmd.bare);
        if (b.returncode !== 0) throw new Error(`bare ${cmd.label} exited with ${b.returncode}`);
        return b.ms;
      };
      for (let w = 0; w < WARM_UP; w++) {
        await execOk(session, cmd.inSession);
        await bareOk();
      }
      const inSession: number[] = [];
      const bare: number[] = [];
      const stopAt = until();
      while (inSession.length < count && performance.now() < stopAt) {
        const t = performance.now();
        await execOk(session, cmd.inSession);
        inSession.push(performance.now() - t);
        bare.push(await bareOk());
      }
      measured.push({ label: cmd.label, session: distribution(inSession), bare: distribution(bare) });
    }
    return measured;
  } finally {
    await timer.close();
  }
}

async function measureFiles(session: CrucibleSession, baseUrl: string, reps: number): Promise<FileFigures[]> {
  const dir = tempDir('crucible-bench-files-');
  try {
    const figures: FileFigures[] = [];
    for (const mib of FILE_SIZES_MIB) {
      const bytes = randomBytes(mib * MIB);
      const local = path.join(dir, `file-${mib}.bin`);
      const rates = {
        sessionWrite: [] as number[],
        sessionRead: [] as number[],
        sessionReadHttp: [] as number[],
        sessionReadPython: [] as number[],
        diskWriteFsync: [] as number[],
        diskWriteNoFsync: [] as number[],
        diskRead: [] as number[],
      };
      const rate = (ms: number) => mib / (ms / 1000);
      for (let r = 0; r < reps; r++) {
        let t = performance.now();
        await session.writeFile(`bench-${mib}.bin`, bytes);
        rates.sessionWrite.push(rate(performance.now() - t));
        t = performance.now();
        const back = await session.readFile(`bench-${mib}.bin`);
        rates.sessionRead.push(rate(performance.now() - t));
        if (!Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(bytes)) throw new Error(`${mib} MiB read back differs`);
        t = performance.now();
        const viaHttp = await httpGetBytes(`${baseUrl}/api/sessions/${session.id}/files?path=bench-${mib}.bin`);
        rates.sessionReadHttp.push(rate(performance.now() - t));
        if (!viaHttp.equals(bytes)) throw new Error(`${mib} MiB read back over node:http differs`);

        rates.sessionReadPython.push(...pythonSdkReadMs(baseUrl, session.id, `bench-${mib}.bin`, 1, bytes.length).map(rate));

        t = performance.now();
        writeWithFsync(local, bytes);
        rates.diskWriteFsync.push(rate(performance.now() - t));
        t = performance.now();
        const read = fs.readFileSync(local);
        rates.diskRead.push(rate(performance.now() - t));
        if (read.length !== bytes.length) throw new Error(`${mib} MiB local read back has ${read.length} bytes`);
        fs.rmSync(local);
        t = performance.now();
        fs.writeFileSync(local, bytes);
        rates.diskWriteNoFsync.push(rate(performance.now() - t));
        fs.rmSync(local);
      }
      const median = (xs: number[]) => round(distribution(xs).p50);
      figures.push({
        mib,
        reps,
        sessionWrite: median(rates.sessionWrite),
        sessionRead: median(rates.sessionRead),
        sessionReadHttp: median(rates.sessionReadHttp),
        sessionReadPython: median(rates.sessionReadPython),
        diskWriteFsync: median(rates.diskWriteFsync),
        diskWriteNoFsync: median(rates.diskWriteNoFsync),
        diskRead: median(rates.diskRead),
      });
    }
    return figures;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A GET's whole body through node:http (no fetch), as bytes. */
function httpGetBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    httpGet(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject),
  );
}

/** Milliseconds of each of `reps` reads of `file` through the Python SDK, in one warm python3. */
function pythonSdkReadMs(baseUrl: string, sessionId: string, file: string, reps: number, size: number): number[] {
  const run = spawnSync(PYTHON, [PYTHON_READ_TIMER, baseUrl, sessionId, file, String(reps), String(size)], {
    env: { ...process.env, PYTHONPATH: PYTHON_SDK },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`the Python SDK read of ${file} failed: ${run.stderr || run.error?.message}`);
  return JSON.parse(run.stdout) as number[];
}

function writeWithFsync(file: string, bytes: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function execOk(session: CrucibleSession, cmd: readonly string[]): Promise<void> {
  const r = await session.exec([...cmd]);
  if (r.reason !== 'completed') throw new Error(`${cmd.join(' ')} in the session: ${r.reason} (${r.message}) ${r.stderr ?? ''}`);
}
