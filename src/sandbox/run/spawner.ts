/**
 * Client of crucible-spawner (native/spawner.c): a small helper process, started once, that
 * forks the sandbox launchers instead of the server. libuv's spawn forks the whole server and
 * blocks its event loop while the page tables are copied (~10 ms per run at ~120 MB RSS); the
 * spawner's fork costs ~0.1 ms and happens outside the event loop.
 *
 * Node cannot receive file descriptors, so the launcher's five streams come back as connections
 * to a unix socket in a private root-only (0700) directory: the spawner opens them before it
 * forks, each starting with a header naming the launch and the stream, and hands them to the
 * launcher as fds 0-4. Connections with an unknown header are dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isInstanceOwnerAlive, ownInstanceName } from '../cgroups/ownership.js';
import { argsWithParent, type LaunchCommand, type LaunchEvents, type LauncherProcess } from './launcher-process.js';

const HEADER_BYTES = 5;
const STREAMS = ['stdin', 'stdout', 'stderr', 'status', 'code'] as const;
/** How long a launch that exited may wait for connections the spawner opened before it forked. */
const LATE_STREAMS_MS = 5000;
/**
 * A launch the spawner has not forked after this long means the spawner is stuck (stopped,
 * starved, wedged): it is killed and replaced, instead of every later run waiting on it. A fork
 * takes ~0.1 ms, so this is far beyond any load.
 */
export const DEFAULT_SPAWN_TIMEOUT_MS = 10_000;

interface Pending {
  events: LaunchEvents;
  spawned: boolean;
  streams: Array<Socket | null>;
  expected: number;
  attached: boolean;
  exited: boolean;
  watchdog: NodeJS.Timeout;
}

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class Spawner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the spawner process is gone; a new one is needed then. */
  gone = false;
  /** True once the spawner said hello: it works on this machine. */
  private greeted = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly server: Server,
    private readonly dir: string,
    /** Called when the spawner ends; `worked` = it had started properly. */
    private readonly onGone: (worked: boolean, why: string) => void,
    private readonly spawnTimeoutMs: number,
  ) {
    this.server.on('connection', (socket) => this.accept(socket));
    process.on('exit', this.removeDir);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => this.event(line));
    child.stdin!.on('error', () => undefined); // a dead spawner shows up as 'exit'
    child.on('error', (err) => this.lost(`the sandbox spawner failed: ${err.message}`));
    child.on('exit', (code, signal) => this.lost(`the sandbox spawner exited (${signal ?? `code ${code}`})`));
    this.idle(true);
  }

  /** Starts a spawner from `binary`; throws if it cannot be started at all. */
  static start(binary: string, onGone: (worked: boolean, why: string) => void, spawnTimeoutMs = DEFAULT_SPAWN_TIMEOUT_MS): Spawner {
    removeDirsOfDeadServers();
    // mkdtemp creates the directory 0700: only root (the server) can connect to the socket in it.
    const dir = mkdtempSync(join(tmpdir(), `crucible-spawner-${ownInstanceName()}-`));
    const path = join(dir, 'streams.sock');
    // Half-open: input streams are shut on the spawner's side while we still write to them.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false });
    try {
      server.listen(path); // bind + listen happen synchronously for a unix path
      const child = spawn(binary, [path, String(process.pid)], { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/', env: {} });
      return new Spawner(child, server, dir, onGone, spawnTimeoutMs);
    } catch (err) {
      server.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  launch(cmd: LaunchCommand, events: LaunchEvents): LauncherProcess {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffffffff) + 1;
    const argv = [cmd.command, ...argsWithParent(cmd, this.child.pid!)];
    const env = Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`);
    const fields = ['L', String(id), String(cmd.codeFd ? 5 : 4), String(argv.length), ...argv, ...env];
    if (fields.some((f) => f.includes('\0'))) {
      queueMicrotask(() => events.failed('a launcher argument contains a NUL byte'));
      return { kill: () => undefined };
    }
    const watchdog = setTimeout(() => this.unresponsive(id), this.spawnTimeoutMs).unref();
    this.pending.set(id, {
      events,
      spawned: false,
      streams: [null, null, null, null, null],
      expected: cmd.codeFd ? 5 : 4,
      attached: false,
      exited: false,
      watchdog,
    });
    this.idle(false);
    this.send(fields);
    return { kill: () => this.pending.has(id) && this.send(['K', String(id)]) };
  }

  private send(fields: string[]): void {
    const payload = Buffer.from(fields.map((f) => `${f}\0`).join(''));
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    payload.copy(frame, 4);
    this.child.stdin!.write(frame);
  }

  private event(line: string): void {
    const [kind, idText, ...rest] = line.split(' ');
    if (kind === 'hello') {
      this.greeted = true;
      return;
    }
    const id = Number(idText);
    const p = this.pending.get(id);
    if (!p) return;
    if (kind === 'spawned') {
      p.spawned = true;
      clearTimeout(p.watchdog);
      p.events.spawned(Number(rest[0]));
      this.handOver(id, p);
    } else if (kind === 'failed') this.forget(id, p, rest.join(' '));
    else if (kind === 'exit') {
      const [code, signal] = rest.map(Number) as [number, number];
      p.exited = true;
      p.events.exited({ code: code >= 0 ? code : null, signal: signal >= 0 ? (signalNames.get(signal) ?? null) : null });
      if (p.attached) this.forget(id, p);
      else setTimeout(() => this.forget(id, p), LATE_STREAMS_MS).unref();
    }
  }

  /** Reads a new connection's header, then files it under its launch. */
  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const onReadable = () => {
      const header = socket.read(HEADER_BYTES) as Buffer | null;
      if (header === null) return;
      socket.off('readable', onReadable);
      if (header.length < HEADER_BYTES) return void socket.destroy();
      // Removing the 'readable' listener returns the stream to its initial mode (neither
      // flowing nor paused: 'data' listeners and resume() start it) only on the next tick.
      process.nextTick(() => this.file(socket, header.readUInt32BE(0), header[4]!));
    };
    socket.on('readable', onReadable);
  }

  private file(socket: Socket, id: number, index: number): void {
    const p = this.pending.get(id);
    if (!p || p.attached || index >= p.expected || p.streams[index]) return void socket.destroy();
    p.streams[index] = socket;
    const name = STREAMS[index]!;
    // Outputs: we never write to them. Inputs: the spawner shut its side, only EOF will come;
    // consuming it lets the socket close by itself once we end our side.
    if (name === 'stdin' || name === 'code') socket.resume();
    else socket.end();
    this.handOver(id, p);
  }

  /**
   * Gives the launch its streams once all have arrived and its pid is known (a kill right after
   * must be able to spare the launcher by pid; the connections can overtake the 'spawned' line).
   */
  private handOver(id: number, p: Pending): void {
    if (p.attached || !p.spawned || p.streams.filter(Boolean).length < p.expected) return;
    p.attached = true;
    const [stdin, stdout, stderr, status, code] = p.streams;
    p.events.attached({
      stdin: stdin as Writable,
      stdout: stdout as Readable,
      stderr: stderr as Readable,
      status: status as Readable,
      code: code ?? null,
    });
    if (p.exited) this.forget(id, p);
  }

  /** Drops a launch; with a message, it failed (and its streams go too). */
  private forget(id: number, p: Pending, failure?: string): void {
    if (this.pending.get(id) !== p) return;
    this.pending.delete(id);
    clearTimeout(p.watchdog);
    if (failure !== undefined) {
      for (const s of p.streams) s?.destroy();
      p.events.failed(failure);
    }
    if (this.pending.size === 0) this.idle(true);
  }

  /** A launch still not forked: the spawner is stuck; end it so that a new one takes over. */
  private unresponsive(id: number): void {
    const p = this.pending.get(id);
    if (!p || p.spawned || this.gone) return;
    this.lost(`the sandbox spawner stopped responding (no launch for ${this.spawnTimeoutMs} ms) and was replaced`);
    this.child.kill('SIGKILL');
  }

  private lost(why: string): void {
    if (this.gone) return;
    this.gone = true;
    // Its launchers die with it (PR_SET_PDEATHSIG); their runs end as platform errors.
    for (const [id, p] of [...this.pending]) this.forget(id, p, why);
    this.server.close();
    this.removeDir();
    process.off('exit', this.removeDir);
    this.onGone(this.greeted, why);
  }

  private readonly removeDir = () => rmSync(this.dir, { recursive: true, force: true });

  /** While no launch is in flight, the spawner must not keep the server's event loop alive. */
  private idle(yes: boolean): void {
    const handles = [this.child, this.server, this.child.stdin as unknown as Socket, this.child.stdout as unknown as Socket];
    for (const h of handles) {
      if (yes) h.unref();
      else h.ref();
    }
  }

  /** Stops the spawner (its launchers die with it). */
  close(): void {
    this.child.stdin!.end();
  }
}

/** Socket directories of servers that were killed (named after their instance) are left over: remove them. */
function removeDirsOfDeadServers(): void {
  for (const name of readdirSync(tmpdir())) {
    const instance = /^crucible-spawner-(p\d+-\d+)-/.exec(name)?.[1];
    if (instance && !isInstanceOwnerAlive(instance)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}
