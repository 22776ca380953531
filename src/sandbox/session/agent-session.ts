/**
 * A session sandbox as the platform sees it: requests to the agent inside (native/session-agent.py)
 * matched to its replies by id, and the sandbox's ending. The agent is the sandbox's program, so
 * its death (killed by a program of the session, out of memory) ends the sandbox: `ended` then
 * resolves with cause agent_exited and the cgroup is swept, never left half alive.
 */
import type { OpenSandbox } from '../run/runner.js';
import type { AgentExec, AgentExecResult, AgentFileResult, SessionSandbox, SessionSandboxEnding } from '../../ports/session-sandbox.js';
import type { SessionFileError } from '../../domain/session.js';
import { readFrames, writeFrame, type Frame } from './agent-frames.js';

/** How long the agent has to say hello after its sandbox was started. */
const HELLO_TIMEOUT_MS = 30_000;

interface Pending {
  onFrame(frame: Frame): void;
  fail(message: string): void;
}

export class AgentSession implements SessionSandbox {
  readonly ended: Promise<SessionSandboxEnding>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | null = null;
  private endedWith: SessionSandboxEnding | null = null;
  private agentLog = '';

  private constructor(private readonly sandbox: OpenSandbox) {
    this.ended = sandbox.launch.done.then(async () => {
      const ending: SessionSandboxEnding = this.closing
        ? { cause: 'closed', message: 'the session was ended' }
        : { cause: 'agent_exited', message: this.describeDeath() };
      this.endedWith = ending;
      for (const p of this.pending.values()) p.fail(`the session's sandbox ended: ${ending.message}`);
      this.pending.clear();
      // Sweep and free everything (the launcher already reaped the processes when it exited).
      await this.close();
      return ending;
    });
  }

  /** Waits for the agent's hello; on failure closes the sandbox and rejects with why. */
  static async start(sandbox: OpenSandbox): Promise<AgentSession> {
    const session = new AgentSession(sandbox);
    const launch = sandbox.launch;
    if (!(await launch.attached)) {
      await sandbox.close();
      throw new Error(launch.spawnError ?? 'the sandbox launcher ended before it started');
    }
    launch.stderr.on('data', (chunk: Buffer) => (session.agentLog = (session.agentLog + chunk.toString('utf8')).slice(-2000)));
    const hello = new Promise<boolean>((resolve) => {
      session.pending.set(0, { onFrame: () => resolve(true), fail: () => resolve(false) });
      void launch.done.then(() => resolve(false));
      setTimeout(() => resolve(false), HELLO_TIMEOUT_MS).unref();
    });
    readFrames(
      launch.stdout,
      (frame) => session.dispatch(frame),
      (message) => {
        session.agentLog += message;
        void session.close();
      },
    );
    if (!(await hello)) {
      const why = session.describeDeath();
      await session.close();
      throw new Error(why);
    }
    return session;
  }

  private dispatch(frame: Frame): void {
    const id = frame.header.type === 'hello' ? 0 : Number(frame.header.id);
    const pending = this.pending.get(id);
    pending?.onFrame(frame);
  }

  private describeDeath(): string {
    const status = this.sandbox.launch.status;
    if (status.setupError) return `the sandbox could not be set up: ${status.setupError}`;
    const ending = status.ending;
    const how = ending ? (ending.signal ? `killed by ${ending.signal}` : `exited with code ${ending.exitCode}`) : 'ended';
    let oom = false;
    try {
      oom = this.sandbox.cgroup.events().oomKills > 0;
    } catch {
      // the cgroup may be gone already
    }
    const log = this.agentLog.trim().split('\n').slice(-3).join(' | ');
    return `the session agent ${how}${oom ? ' (the session ran out of memory)' : ''}${log ? `: ${log}` : ''}`;
  }

  private request(header: Record<string, unknown>, payload: Buffer | undefined, onFrame: (frame: Frame, done: () => void) => void): Promise<Frame> {
    if (this.endedWith || this.closing) return Promise.reject(new Error('the session sandbox has ended'));
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const done = () => this.pending.delete(id);
      this.pending.set(id, {
        onFrame: (frame) => {
          if (frame.header.type === 'out') return onFrame(frame, done);
          done();
          resolve(frame);
        },
        fail: (message) => reject(new Error(message)),
      });
      writeFrame(this.sandbox.launch.stdin, { ...header, id }, payload);
    });
  }

  async exec(request: AgentExec, onOutput?: (stream: 'stdout' | 'stderr', bytes: Buffer) => void): Promise<AgentExecResult> {
    const frame = await this.request(
      {
        op: 'exec',
        argv: request.argv,
        env: request.env,
        cwd: request.cwd,
        timeout_s: request.timeout_s,
        max_output: request.max_output_bytes,
        stream: onOutput !== undefined,
      },
      request.stdin,
      (out) => onOutput?.(out.header.stream as 'stdout' | 'stderr', out.payload),
    );
    const h = frame.header;
    const stdoutLen = Number(h.stdout_len);
    if (h.type !== 'exec_done') throw new Error(`the session agent failed: ${String(h.message)}`);
    return {
      exit_code: (h.exit_code as number | null) ?? null,
      signal: (h.signal as string | null) ?? null,
      outcome: String(h.outcome),
      message: h.message as string | undefined,
      wall_ms: Number(h.wall_ms),
      stdout: frame.payload.subarray(0, stdoutLen),
      stderr: frame.payload.subarray(stdoutLen),
      stdout_truncated: Boolean(h.stdout_truncated),
      stderr_truncated: Boolean(h.stderr_truncated),
    };
  }

  async writeFile(path: string, content: Buffer): Promise<AgentFileResult<{ size: number; sha256: string }>> {
    const frame = await this.request({ op: 'write', path }, content, () => undefined);
    return fileResult(frame, () => ({ size: Number(frame.header.size), sha256: String(frame.header.sha256) }));
  }

  async readFile(path: string, maxBytes: number): Promise<AgentFileResult<{ size: number; sha256: string; content: Buffer }>> {
    const frame = await this.request({ op: 'read', path, max_bytes: maxBytes }, undefined, () => undefined);
    return fileResult(frame, () => ({ size: Number(frame.header.size), sha256: String(frame.header.sha256), content: frame.payload }));
  }

  close(): Promise<void> {
    this.closing ??= this.sandbox.close();
    return this.closing;
  }
}

function fileResult<T>(frame: Frame, value: () => T): AgentFileResult<T> {
  if (frame.header.type === 'error') {
    return { ok: false, code: frame.header.code as SessionFileError | 'file_error', message: String(frame.header.message) };
  }
  return { ok: true, value: value() };
}
