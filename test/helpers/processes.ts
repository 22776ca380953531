/**
 * Child processes for multi-process tests: started from an argv, watched for a ready line, killed
 * by their own PID only, and a teardown list that runs even when a test fails half-way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface Proc {
  pid: number;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
  /** Sends the signal (if still running) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns argv; resolves once `ready` matches the output so far (its match is returned), or rejects. */
export async function startProcess(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; ready?: RegExp; timeoutMs?: number; uid?: number; gid?: number; cwd?: string } = {},
): Promise<Proc & { ready: RegExpExecArray | null }> {
  const [file, ...args] = argv;
  const child = spawn(file!, args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const proc: Proc = {
    pid: child.pid ?? -1,
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill(signal = 'SIGTERM') {
      if (proc.alive() && child.pid) process.kill(child.pid, signal);
      await exited;
    },
  };
  if (child.pid === undefined) {
    await new Promise((r) => child.once('error', r));
    throw new Error(`could not start ${argv.join(' ')}`);
  }
  let ready: RegExpExecArray | null = null;
  if (options.ready) {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      ready = options.ready.exec(out);
      if (ready) break;
      if (!proc.alive()) throw new Error(`${argv.join(' ')} exited early (${child.exitCode ?? child.signalCode}): ${out}`);
      if (Date.now() > deadline) {
        await proc.kill('SIGKILL');
        throw new Error(`${argv.join(' ')} not ready within ${options.timeoutMs ?? 30_000} ms: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return Object.assign(proc, { ready });
}

export interface RestartableServer {
  pid(): number | null;
  /** Stops it the hard way (by its PID, with the given signal) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it (again), on the same port and directory. */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  destroy(): Promise<void>;
}

/** A private server process that tests may kill and start again; started once before returning. */
export async function restartableServer(options: {
  argv: string[];
  ready: RegExp;
  killSignal: NodeJS.Signals;
  dir: string;
  uid?: number;
  gid?: number;
}): Promise<RestartableServer> {
  let proc: Proc | null = null;
  const server: RestartableServer = {
    pid: () => (proc?.alive() ? proc.pid : null),
    async start() {
      if (proc?.alive()) throw new Error(`${options.argv[0]} is already running`);
      proc = await startProcess(options.argv, { ready: options.ready, timeoutMs: 20_000, uid: options.uid, gid: options.gid, cwd: options.dir });
    },
    async kill() {
      await proc?.kill(options.killSignal);
    },
    async destroy() {
      await server.kill();
      fs.rmSync(options.dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** PIDs of host processes whose command line contains the marker (sandboxed programs exec themselves with it). */
export function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/** Clean-up steps, run last-in first-out; each failure is collected, none stops the others. */
export class Teardown {
  private readonly steps: Array<{ what: string; run: () => unknown }> = [];

  add(what: string, run: () => unknown): void {
    this.steps.push({ what, run });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (err) {
        failures.push(`${step.what}: ${String(err)}`);
      }
    }
    if (failures.length) throw new Error(`teardown: ${failures.join('; ')}`);
  }
}
