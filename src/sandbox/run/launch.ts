/**
 * One started sandbox launcher and what it has said so far. A launch can be started ahead of
 * time (a warm sandbox waiting for its code) and handed to a run later: its stdout/stderr stay
 * paused until the run attaches to them, so nothing is lost in between. Where the process and
 * its streams come from (the spawner, or a plain spawn) is the source's business.
 */
import type { Readable, Writable } from 'node:stream';
import type { LaunchCommand, LaunchExit, LaunchStreams, LauncherProcess, StartLauncher } from './launcher-process.js';
import { StatusChannel } from './status-channel.js';

export type { LaunchCommand, LaunchExit } from './launcher-process.js';

/** After the launcher exits, how long its streams may stay open (held by a stray process) before we stop reading. */
const PIPE_DRAIN_MS = 2000;

export class Launch {
  readonly status = new StatusChannel();
  spawnError: string | null = null;
  exit: LaunchExit | null = null;
  pid: number | undefined = undefined;
  spawnedAt = performance.now();
  exitedAt = 0;
  /** Resolves once the process has exited and its streams are drained. */
  readonly done: Promise<void>;
  /**
   * Resolves once what the run reports is complete: every output stream has closed and the
   * sandbox's init has said how the program ended (or, without that report, the launcher exited).
   * The launcher's own exit comes later (it reaps the sandbox's last processes, then the spawner
   * reaps it and says so: tens of ms on a loaded host); `done` waits for that, and the sandbox's
   * cgroup is reused only after `done`.
   */
  readonly ended: Promise<void>;
  /** True once `ended` resolved: the sandbox's processes are gone, only the launcher may be left. */
  reported = false;
  /** Resolves true when the sandbox reports ready, false if it ends first. */
  readonly ready: Promise<boolean>;
  /** Resolves true once the streams are there, false if the launch ends without them. */
  readonly attached: Promise<boolean>;
  private streams: LaunchStreams | null = null;
  private readonly process: LauncherProcess;
  private openOutputs = 0;
  private finished = false;
  private abandoned = false;
  private markDone!: () => void;
  private markEnded!: () => void;
  private markAttached!: (ok: boolean) => void;

  /** `start` is the backend's LauncherSource (spawner or plain spawn). */
  constructor(cmd: LaunchCommand, start: StartLauncher) {
    let markReady!: (ok: boolean) => void;
    this.done = new Promise((r) => (this.markDone = r));
    this.ended = new Promise((r) => (this.markEnded = r));
    void this.ended.then(() => (this.reported = true));
    this.ready = new Promise((r) => (markReady = r));
    this.attached = new Promise((r) => (this.markAttached = r));
    this.status.onReady = () => markReady(true);
    void this.done.then(() => markReady(false));
    this.process = start(cmd, {
      spawned: (pid) => (this.pid = pid),
      attached: (streams) => this.attach(streams),
      exited: (exit) => this.exited(exit),
      failed: (message) => {
        this.fail(message);
        this.destroyStreams();
        this.finish();
      },
    });
  }

  private attach(streams: LaunchStreams): void {
    if (this.finished) {
      for (const s of Object.values(streams)) (s as Readable | Writable | null)?.destroy();
      return;
    }
    this.streams = streams;
    for (const s of Object.values(streams)) (s as Readable | Writable | null)?.on('error', () => undefined); // EPIPE etc. are expected
    // The launch is drained when its output streams close (the input ones go at exit).
    // (A stream may have closed already: one that saw its end before the last one arrived.)
    const outputs = [streams.stdout, streams.stderr, streams.status].filter((s) => !s.closed);
    this.openOutputs = outputs.length;
    for (const s of outputs) {
      s.once('close', () => {
        if (--this.openOutputs === 0) this.outputsClosed();
      });
    }
    streams.status.on('data', (chunk: Buffer) => this.status.push(chunk));
    if (this.abandoned) this.abandon();
    this.markAttached(true);
    if (this.openOutputs === 0) this.outputsClosed();
  }

  /** Every output stream has closed: the run's report is complete if init said how the program ended. */
  private outputsClosed(): void {
    if (this.exit) this.finish();
    else if (this.status.ending) this.markEnded();
  }

  private exited(exit: LaunchExit): void {
    this.exitedAt = performance.now();
    this.exit = exit;
    // Nobody can read what we would still write to the launcher.
    this.streams?.stdin.destroy();
    this.streams?.code?.destroy();
    if (this.streams && this.openOutputs === 0) return this.finish();
    // Normally the streams close at once; a stray holder of them must not hang the run.
    setTimeout(() => {
      if (!this.streams) this.fail('the launcher exited before its streams arrived');
      this.destroyStreams();
      this.finish();
    }, PIPE_DRAIN_MS).unref();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.markAttached(this.streams !== null);
    this.markEnded();
    this.markDone();
  }

  private destroyStreams(): void {
    if (!this.streams) return;
    for (const s of Object.values(this.streams)) (s as Readable | Writable | null)?.destroy();
  }

  private fail(message: string): void {
    this.spawnError ??= message;
    this.exitedAt ||= performance.now();
  }

  get alive(): boolean {
    return !this.finished && this.exit === null && this.spawnError === null;
  }

  /** SIGKILLs the launcher itself (its sandbox is killed through its cgroup). */
  kill(): void {
    if (this.alive) this.process.kill();
  }

  // The stream getters are valid once `attached` resolved true.
  get stdin(): Writable {
    return this.streams!.stdin;
  }
  get stdout(): Readable {
    return this.streams!.stdout;
  }
  get stderr(): Readable {
    return this.streams!.stderr;
  }
  get code(): Writable | null {
    return this.streams?.code ?? null;
  }

  /** For a launch nobody will run (killed or failed): drains its output so its streams can close. */
  abandon(): void {
    this.abandoned = true;
    this.streams?.stdout.resume();
    this.streams?.stderr.resume();
  }
}
