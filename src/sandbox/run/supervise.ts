/**
 * Runs one program in an already launched sandbox (fresh, or warm and waiting for its code),
 * whatever the backend: applies the limits to its cgroup, feeds stdin and the code, captures
 * output, enforces the wall-clock timeout, the output flood limit and cancellation by killing
 * the whole cgroup, samples resource use, and turns what happened into a RunResult via
 * interpretExit. Never rejects.
 */
import type { Readable, Writable } from 'node:stream';
import { interpretExit, type ExitFacts } from '../../domain/exit-interpretation.js';
import { OUTPUT_FLOOD_FACTOR } from '../../domain/limits.js';
import type { CgroupEvents, CgroupLimits, CgroupUsage, SandboxCgroup } from '../cgroups/driver.js';
import type { RunCallbacks, RunResult, SandboxSpec } from '../../ports/sandbox.js';
import { killSandbox } from './kill.js';
import type { Launch } from './launch.js';
import { OutputCapture } from './output-capture.js';
import { ProgramStartAccounting } from './program-start.js';
import { startSampler } from './sampler.js';
import { decodeShellCode, type ProgramEnding } from './status-channel.js';
import { ArtifactReceiver } from './artifact-receiver.js';
import { collectsArtifacts, programBundle } from './program-bundle.js';

export interface SuperviseOptions {
  /** True when the sandbox writes "started" / "exit <status>" lines to the status fd. */
  reportsStatus: boolean;
  /** The python that runs an entrypoint (inside the sandbox). */
  python: string;
  /** Extra time before the timeout starts counting, for backends with a slow start and no "started" report (old gVisor). */
  startupGraceMs: number;
  /**
   * The runtime works in the cgroup before the program starts (gVisor): time, CPU, memory and the
   * memory limit count from init's "started" (see program-start.ts), and the timeout is exactly
   * timeout_s from then. Until "started", the sandbox has this long to start the program, or the
   * run is a platform error.
   */
  measureFromProgramStart?: { startupLimitMs: number };
  /**
   * The sandbox's CLOCK_MONOTONIC is the host's (no time virtualisation: bubblewrap, not gVisor):
   * the clock init writes on its "started" and "exit" lines then places the program's start and
   * end, and its timeout counts from that start, however late a busy server reads the lines.
   */
  sharesHostClock?: boolean;
  /**
   * Says what ended a sandbox whose program's ending nobody reported (with reportsStatus: init
   * never said "exit"; without: returns null unless the ending is known not to be the program's,
   * e.g. the runtime itself crashed). Default: killed from outside.
   */
  unreportedEnding?: (ending: ProgramEnding, facts: { pidsLimitHit: boolean; reportsStatus: boolean }) => string | null;
  /**
   * Turns an ending without status lines (or, with reportsStatus, one before "started") into a
   * set-up failure with the runtime's own words (e.g. runsc's error); null = no such failure.
   */
  startFailure?: (ending: ProgramEnding, stderr: string) => string | null;
}

type KillCause = 'timeout' | 'cancelled' | 'output_limit' | 'startup' | 'collection';

const DEFAULT_SAMPLE_MS = 250;

/**
 * The performance.now() of a moment stamped with CLOCK_MONOTONIC in ns (the clock both
 * process.hrtime and performance.now() read), never later than now.
 */
function hostTimeOf(clockNs: bigint): number {
  const agoMs = Number(process.hrtime.bigint() - clockNs) / 1e6;
  return performance.now() - Math.max(0, agoMs);
}

/**
 * How long collecting /sandbox/out may take once the program ended (it reads at most
 * max_artifact_bytes, 64 MiB at most, from a tmpfs): beyond it the sandbox is killed and the
 * collection listed as incomplete. The verdict is the program's either way.
 */
export const COLLECTION_LIMIT_MS = 10_000;

export async function superviseRun(
  launch: Launch,
  cgroup: SandboxCgroup,
  spec: SandboxSpec,
  callbacks: RunCallbacks,
  options: SuperviseOptions,
  /** The limits the runner wrote into the cgroup for this run. */
  applied: CgroupLimits,
): Promise<RunResult> {
  return new SupervisedRun(launch, cgroup, spec, callbacks, options, applied).run();
}

class SupervisedRun {
  private readonly stdout: OutputCapture;
  private readonly stderr: OutputCapture;
  private killCause: KillCause | null = null;
  private killStarted = false;
  /** The kill in progress: it sweeps the cgroup until empty, so the cgroup must not be reused before it ends. */
  private killing: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private baseline: CgroupEvents = { oomKills: 0, pidsMaxHits: 0 };
  private readonly cleanups: Array<() => void> = [];
  private readonly callbacks: RunCallbacks;
  private readonly fromProgramStart: ProgramStartAccounting | null;
  private readonly artifacts: ArtifactReceiver | null;
  /** The cgroup's figures when the program ended: what the collection uses after is not the program's. */
  private atEnd: { usage: CgroupUsage; events: CgroupEvents } | null = null;

  constructor(
    private readonly launch: Launch,
    private readonly cgroup: SandboxCgroup,
    private readonly spec: SandboxSpec,
    callbacks: RunCallbacks,
    private readonly options: SuperviseOptions,
    applied: CgroupLimits,
  ) {
    this.callbacks = guarded(callbacks);
    this.fromProgramStart = options.measureFromProgramStart ? new ProgramStartAccounting(cgroup, applied, spec.limits.memory_mb * 1024 * 1024) : null;
    const max = spec.limits.max_output_bytes;
    this.stdout = new OutputCapture(max, this.callbacks.onStdout);
    this.stderr = new OutputCapture(max, this.callbacks.onStderr);
    this.artifacts = collectsArtifacts(spec) ? new ArtifactReceiver(spec.limits) : null;
  }

  async run(): Promise<RunResult> {
    const launch = this.launch;
    // Accounting starts now: a warm sandbox's set-up is not the program's.
    this.cgroup.resetAccounting();
    this.baseline = this.cgroup.events();
    this.startedAt = performance.now();
    if (await launch.attached) this.go(launch);
    await launch.ended;
    // Our kill may still be sweeping the cgroup. Once the run returns, its cgroup is recycled and
    // may host the next sandbox, which a late sweep would kill.
    await this.killing;
    for (const cleanup of this.cleanups) cleanup();
    clearTimeout(this.timer);
    this.stdout.end();
    this.stderr.end();
    return this.assemble();
  }

  private go(launch: Launch): void {
    launch.status.receiver = this.artifacts;
    launch.status.onEnded = () => this.programEnded();
    this.capture(launch.stdout, this.stdout);
    this.capture(launch.stderr, this.stderr);
    this.feed(launch.stdin, this.spec.stdin ?? '');
    const program = launch.code;
    if (program) {
      const bundle = programBundle(this.spec, this.options.python);
      if (this.fromProgramStart) void this.feedOnceReady(launch, this.fromProgramStart, program, bundle);
      else this.feed(program, bundle);
    }
    if (!this.options.reportsStatus) this.callbacks.onStart?.(Date.now());

    const startup = this.options.measureFromProgramStart;
    if (startup) {
      if (!launch.status.started) this.setTimer(() => this.kill('startup'), startup.startupLimitMs);
    } else {
      this.setTimer(() => this.kill('timeout'), this.spec.limits.timeout_s * 1000 + this.options.startupGraceMs);
    }
    // After the timers: a start already reported sets the program's own timeout.
    launch.status.onStarted = () => this.programStarted();
    if (launch.status.started) this.programStarted();
    const signal = this.callbacks.signal;
    if (signal) {
      const onAbort = () => this.kill('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
      if (signal.aborted) onAbort();
    }
    if (this.callbacks.onSample) {
      const interval = this.callbacks.sampleIntervalMs ?? DEFAULT_SAMPLE_MS;
      this.cleanups.push(startSampler(() => this.programUsage(this.cgroup.usage()), this.startedAt, interval, this.callbacks.onSample));
    }
  }

  /**
   * Sends the code once the runtime has booted and init waits for it (a warm sandbox already
   * does), with the program's accounting started just before: nothing of the program can run
   * earlier, and the runtime's own start-up is over.
   */
  private async feedOnceReady(launch: Launch, accounting: ProgramStartAccounting, program: Writable, bundle: Buffer): Promise<void> {
    if (!launch.status.ready && !(await launch.ready)) return;
    if (this.killStarted) return;
    accounting.beforeProgram();
    this.feed(program, bundle);
  }

  /** The one pending run timer (start-up, then timeout); replacing it clears the previous one. */
  private timer: NodeJS.Timeout | undefined;
  private setTimer(fn: () => void, ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(fn, ms);
  }

  private programStarted(): void {
    const timeoutMs = this.spec.limits.timeout_s * 1000;
    const startedClock = this.launch.status.startedClockNs;
    let startedAtMs = Date.now();
    if (this.fromProgramStart) {
      // The runtime's start-up is not the program's: its clock starts now (its CPU and memory
      // were measured from when its code was sent, see feedOnceReady).
      this.startedAt = performance.now();
      this.setTimer(() => this.kill('timeout'), timeoutMs);
    } else if (this.options.sharesHostClock && startedClock !== null) {
      // The program started when init said, not when this line was read: time it from there.
      this.startedAt = Math.max(this.startedAt, hostTimeOf(startedClock));
      this.setTimer(() => this.kill('timeout'), this.startedAt + timeoutMs - performance.now());
      startedAtMs -= performance.now() - this.startedAt;
    }
    this.callbacks.onStart?.(startedAtMs);
  }

  /** The cgroup's figures as the program's: less a runtime's own memory where it has one. */
  private programUsage(usage: CgroupUsage): CgroupUsage {
    return this.fromProgramStart?.programUsage(usage) ?? usage;
  }

  /**
   * The program's wall time. Where init stamped both its start and its end, their difference:
   * whatever the sandbox's clock reads (gVisor's is its own), it runs at the host's rate, and
   * neither stamp depends on when a busy server read it. Otherwise (killed: no "exit" stamp), from
   * what the server saw.
   */
  private programWallMs(): number {
    const { startedClockNs, endedClockNs, endedAt } = this.launch.status;
    if (startedClockNs !== null && endedClockNs !== null && endedClockNs >= startedClockNs) return Number(endedClockNs - startedClockNs) / 1e6;
    return Math.max(0, (endedAt ?? this.launch.exitedAt) - this.startedAt);
  }

  /** The program ended: its figures are taken now, and the collection of its files gets its own time limit. */
  private programEnded(): void {
    try {
      this.atEnd = { usage: this.cgroup.usage(), events: this.cgroup.events() };
    } catch {
      // the cgroup is going away; assemble() reads what it can
    }
    if (this.artifacts) this.setTimer(() => this.kill('collection'), COLLECTION_LIMIT_MS);
  }

  /**
   * Writes everything then closes; a program that exits without reading (EPIPE) is fine. Nothing
   * to write (the usual empty stdin) is just the close: an empty chunk would still go through the
   * stream machinery and a zero-byte write on the socket.
   */
  private feed(stream: Writable, data: string | Buffer): void {
    stream.on('error', () => undefined);
    if (data.length === 0) stream.end();
    else stream.end(data);
  }

  private capture(stream: Readable, capture: OutputCapture): void {
    const floodAt = OUTPUT_FLOOD_FACTOR * this.spec.limits.max_output_bytes;
    stream.on('data', (chunk: Buffer) => {
      capture.push(chunk);
      if (capture.totalBytes > floodAt) this.kill('output_limit');
    });
  }

  private kill(cause: KillCause): void {
    if (this.killStarted || !this.launch.alive) return;
    this.killStarted = true;
    // A program whose ending init already reported was not ended by us (it exited just before the
    // timer, or its launcher is slow to report): the sweep only clears what is left, and the
    // verdict stays the program's own instead of a timeout or cancellation it never suffered.
    if (!this.launch.status.ending) this.killCause = cause;
    this.killing = killSandbox(this.launch, this.cgroup).catch(() => undefined);
  }

  private assemble(): RunResult {
    const launch = this.launch;
    let usage: CgroupUsage | null = null;
    let events: CgroupEvents | null = null;
    try {
      usage = this.programUsage(this.atEnd?.usage ?? this.cgroup.usage());
      events = this.atEnd?.events ?? this.cgroup.events();
    } catch {
      // metrics unavailable; OOM / pids verdicts then default to "not hit"
    }
    const ending = launch.status.ending ?? decodeShellCode(launch.exit?.code ?? null, launch.exit?.signal ?? null);
    const oomKilled = events !== null && events.oomKills > this.baseline.oomKills;
    const facts: ExitFacts = {
      exitCode: ending.exitCode,
      signal: ending.signal,
      oomKilled,
      pidsLimitHit: events !== null && events.pidsMaxHits > this.baseline.pidsMaxHits,
      timedOut: this.killCause === 'timeout',
      cancelled: this.killCause === 'cancelled',
      outputLimitKilled: this.killCause === 'output_limit',
      platformError: null,
      limits: this.spec.limits,
    };
    facts.platformError = this.platformError(ending, oomKilled, facts.pidsLimitHit);
    const verdict = interpretExit(facts);
    const ran = launch.spawnError === null;
    const failed = verdict.reason === 'platform_error';
    const output = { stdout: this.stdout.text(), stderr: this.stderr.text(), stdout_raw: this.stdout.rawBytes(), stderr_raw: this.stderr.rawBytes() };
    this.stdout.release();
    this.stderr.release();
    return {
      exit_code: failed ? null : facts.exitCode,
      signal: failed ? null : facts.signal,
      reason: verdict.reason,
      message: verdict.message,
      ...output,
      stdout_truncated: this.stdout.truncated,
      stderr_truncated: this.stderr.truncated,
      metrics: {
        // Until init saw the program end (the sandbox's own tear-down is not the program's time).
        wall_ms: ran ? round1(this.programWallMs()) : null,
        cpu_ms: ran && usage ? round1(usage.cpuNs / 1e6) : null,
        peak_memory_bytes: ran && usage ? usage.peakMemoryBytes : null,
      },
      // Collected only from a program that ended by itself (init reported it): a killed sandbox has none.
      ...(this.artifacts && launch.status.ending && !failed ? { artifacts: this.artifacts.result() } : {}),
    };
  }

  private platformError(ending: ProgramEnding, oomKilled: boolean, pidsLimitHit: boolean): string | null {
    const { spawnError, status } = this.launch;
    if (spawnError) {
      return this.launch.pid === undefined
        ? `the sandbox launcher could not be started (${spawnError})`
        : `the sandbox launcher was lost while it ran (${spawnError})`;
    }
    if (status.setupError) return `the sandbox could not be set up: ${status.setupError}`;
    if (this.killCause === 'startup') {
      const detail = this.options.startFailure?.(ending, this.stderr.text()) ?? lastLines(this.stderr.text());
      return `the sandbox did not start the program within ${this.options.measureFromProgramStart!.startupLimitMs / 1000} s${detail ? ` (${detail})` : ''}`;
    }
    if (this.killCause) return null; // we ended it; whatever state it was in, the reason is ours
    if (this.options.reportsStatus) {
      if (!status.started) {
        const own = this.options.startFailure?.(ending, this.stderr.text());
        if (own) return own;
        const detail = lastLines(this.stderr.text()) || describe(ending);
        return `the sandbox failed before the program started: ${detail}`;
      }
      // init always reports how the program ended; without that report the sandbox's own
      // processes were killed from outside (not by the program, which cannot reach them).
      // (Unless the memory limit's OOM killer picked one of them: that is the program's doing.)
      if (status.ending || oomKilled) return null;
      return (
        this.options.unreportedEnding?.(ending, { pidsLimitHit, reportsStatus: true }) ??
        `the sandbox was ended from outside while the program ran (${describe(ending)})`
      );
    }
    return this.options.startFailure?.(ending, this.stderr.text()) ?? this.options.unreportedEnding?.(ending, { pidsLimitHit, reportsStatus: false }) ?? null;
  }
}

/**
 * The caller's callbacks, made harmless: they run inside stream and timer handlers, where an
 * exception would take down the whole server instead of just losing one event.
 */
function guarded(callbacks: RunCallbacks): RunCallbacks {
  const safe = <A extends unknown[]>(fn: ((...args: A) => void) | undefined) =>
    fn &&
    ((...args: A) => {
      try {
        fn(...args);
      } catch {
        // the caller's problem; the run goes on
      }
    });
  return {
    ...callbacks,
    onStart: safe(callbacks.onStart),
    onStdout: safe(callbacks.onStdout),
    onStderr: safe(callbacks.onStderr),
    onSample: safe(callbacks.onSample),
  };
}

function describe(e: ProgramEnding): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.exitCode}`;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
