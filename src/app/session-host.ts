/**
 * The sessions one process holds: their sandboxes, the execs and file operations on them, their
 * idle and lifetime limits, and the ordered event log of everything they do. Runs where the
 * sandboxes are (a worker, or the embedded server); the API reaches it through a SessionLink.
 * The host is the only writer of its sessions' records, so their events are in order.
 */
import type { Logger } from '../ports/logger.js';
import type { EventBus } from '../ports/bus.js';
import type { SandboxBackends } from '../ports/sandbox.js';
import type { SessionSandbox } from '../ports/session-sandbox.js';
import type { SessionStore } from '../ports/storage.js';
import type { FileRead, OutputListener, SessionHostOps } from '../ports/session-link.js';
import { conflict, CrucibleError } from '../domain/errors.js';
import {
  execVerdict,
  SESSION_BOUNDS,
  type ExecEventData,
  type ExecRequest,
  type ExecResult,
  type FileWritten,
  type NewSessionEvent,
  type Session,
  type SessionEndReason,
} from '../domain/session.js';
import { markSessionEnded, recordSessionEvent } from './session-records.js';

/** Output kept in an exec's event (the transcript); the full output is in the exec's answer. */
const TRANSCRIPT_OUTPUT_BYTES = 64 * 1024;

interface Live {
  session: Session;
  sandbox: SessionSandbox | null;
  running: number;
  idleTimer?: NodeJS.Timeout;
  lifetimeTimer?: NodeJS.Timeout;
  ending: Promise<void> | null;
}

export class SessionHost implements SessionHostOps {
  private readonly live = new Map<string, Live>();
  private closed = false;

  constructor(
    private readonly deps: { store: SessionStore; sandboxes: SandboxBackends; bus: EventBus; log: Logger },
    readonly hostId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sessions held here now. */
  get count(): number {
    return this.live.size;
  }

  /**
   * Ends every session the store says `worker` holds but no live host does (it restarted or
   * died): never silently, with reason worker_lost.
   */
  async endLost(worker: string | undefined, message: string): Promise<number> {
    const orphans = (await this.deps.store.open(worker)).filter((s) => !this.live.has(s.id));
    for (const s of orphans) await this.markEnded(s.id, 'worker_lost', message);
    return orphans.length;
  }

  /** Starts the sandbox of a session already stored as `starting` on this host; resolves once it is ready or ended. */
  async start(session: Session): Promise<void> {
    if (this.closed) return void (await this.markEnded(session.id, 'worker_shutdown', 'the worker is shutting down'));
    const live: Live = { session, sandbox: null, running: 0, ending: null };
    this.live.set(session.id, live);
    live.lifetimeTimer = setTimeout(
      () => void this.end(session.id, 'max_lifetime', `the session reached its max_lifetime_s of ${session.limits.max_lifetime_s} s`),
      session.limits.max_lifetime_s * 1000,
    );
    live.lifetimeTimer.unref();
    const backend = this.deps.sandboxes[session.sandbox];
    let sandbox: SessionSandbox;
    try {
      if (!backend?.openSession) throw new Error(`this worker has no ${session.sandbox} sandbox`);
      sandbox = await backend.openSession({ environment: session.environment, ...session.limits, runId: session.id });
    } catch (err) {
      this.forget(live);
      await this.markEnded(session.id, 'start_failed', `the session's sandbox could not be started: ${(err as Error).message}`);
      return;
    }
    live.sandbox = sandbox;
    if (live.ending || this.closed) return void (await sandbox.close());
    void sandbox.ended.then((ending) => {
      if (ending.cause === 'agent_exited') void this.end(session.id, 'agent_exited', ending.message);
    });
    const at = new Date(this.now()).toISOString();
    await this.deps.store.update(session.id, { status: 'ready', ready_at: at, last_activity_at: at });
    live.session = { ...session, status: 'ready', ready_at: at, last_activity_at: at };
    await this.record(session.id, { type: 'status', at, data: { status: 'ready' } });
    this.touch(live);
  }

  private ready(id: string): Live & { sandbox: SessionSandbox } {
    const live = this.live.get(id);
    if (!live || live.ending) throw conflict('session_ended', `session ${id} has ended`);
    if (!live.sandbox) throw conflict('session_not_ready', `session ${id} is still starting`);
    return live as Live & { sandbox: SessionSandbox };
  }

  /** Restarts the idle clock. */
  private touch(live: Live): void {
    clearTimeout(live.idleTimer);
    if (live.running > 0) return; // an exec in progress is activity
    const idleS = live.session.limits.idle_timeout_s;
    live.idleTimer = setTimeout(
      () => void this.end(live.session.id, 'idle_timeout', `no exec or file operation for idle_timeout_s (${idleS} s)`),
      idleS * 1000,
    );
    live.idleTimer.unref();
  }

  async exec(id: string, request: ExecRequest, onOutput?: OutputListener): Promise<ExecResult> {
    const live = this.ready(id);
    if (live.running >= SESSION_BOUNDS.concurrent_execs) {
      throw conflict('session_busy', `session ${id} already runs ${SESSION_BOUNDS.concurrent_execs} execs at once; retry when one ends`);
    }
    live.running++;
    clearTimeout(live.idleTimer);
    const argv = request.cmd ?? ['python3', '-c', request.code!];
    const stdin = request.stdin_base64 !== undefined ? Buffer.from(request.stdin_base64, 'base64') : Buffer.from(request.stdin ?? '', 'utf8');
    let raw;
    try {
      raw = await live.sandbox.exec(
        { argv, env: request.env, cwd: request.cwd, stdin, timeout_s: request.timeout_s, max_output_bytes: request.max_output_bytes },
        onOutput,
      );
    } catch (err) {
      throw conflict('session_ended', `session ${id} ended during the exec: ${(err as Error).message}`);
    } finally {
      live.running--;
      this.touch(live);
    }
    const verdict = execVerdict({ ...raw, timeout_s: request.timeout_s });
    const base64 = request.output_encoding === 'base64';
    const result: ExecResult = {
      exit_code: raw.exit_code,
      signal: raw.signal,
      reason: verdict.reason,
      message: raw.message ?? verdict.message,
      ...(base64
        ? { stdout_base64: raw.stdout.toString('base64'), stderr_base64: raw.stderr.toString('base64') }
        : { stdout: raw.stdout.toString('utf8'), stderr: raw.stderr.toString('utf8') }),
      stdout_truncated: raw.stdout_truncated,
      stderr_truncated: raw.stderr_truncated,
      metrics: { wall_ms: raw.wall_ms },
    };
    const at = new Date(this.now()).toISOString();
    await this.recordActivity(id, {
      type: 'exec',
      at,
      data: {
        ...(request.cmd ? { cmd: request.cmd } : { code: request.code!.slice(0, TRANSCRIPT_OUTPUT_BYTES) }),
        cwd: request.cwd ?? null,
        env_keys: Object.keys(request.env),
        stdin_bytes: stdin.length,
        exit_code: result.exit_code,
        signal: result.signal,
        reason: result.reason,
        message: result.message,
        stdout: raw.stdout.subarray(0, TRANSCRIPT_OUTPUT_BYTES).toString('utf8'),
        stderr: raw.stderr.subarray(0, TRANSCRIPT_OUTPUT_BYTES).toString('utf8'),
        stdout_bytes: raw.stdout.length,
        stderr_bytes: raw.stderr.length,
        stdout_truncated: raw.stdout_truncated,
        stderr_truncated: raw.stderr_truncated,
        wall_ms: raw.wall_ms,
      } satisfies ExecEventData,
    });
    return result;
  }

  async writeFile(id: string, path: string, content: Buffer): Promise<FileWritten> {
    const live = this.ready(id);
    const result = await this.fileOp(live, () => live.sandbox.writeFile(path, content));
    const written = { path, size: result.size, sha256: result.sha256 };
    await this.recordActivity(id, { type: 'file_write', at: new Date(this.now()).toISOString(), data: written });
    return written;
  }

  /** A caller's `maxBytes` only lowers the bound: the agent refuses a larger file without sending it. */
  async readFile(id: string, path: string, maxBytes?: number): Promise<FileRead> {
    const live = this.ready(id);
    const bound = Math.min(maxBytes ?? SESSION_BOUNDS.file_bytes, SESSION_BOUNDS.file_bytes);
    const result = await this.fileOp(live, () => live.sandbox.readFile(path, bound));
    await this.recordActivity(id, { type: 'file_read', at: new Date(this.now()).toISOString(), data: { path, size: result.size, sha256: result.sha256 } });
    return result;
  }

  private async fileOp<T>(live: Live, op: () => Promise<{ ok: true; value: T } | { ok: false; code: string; message: string }>): Promise<T> {
    live.running++;
    clearTimeout(live.idleTimer);
    try {
      const result = await op().catch((err: Error) => {
        throw conflict('session_ended', `session ${live.session.id} ended during the file operation: ${err.message}`);
      });
      if (!result.ok) throw new CrucibleError(result.code === 'file_error' ? 'bad_request' : (result.code as 'invalid_path'), result.message);
      return result.value;
    } finally {
      live.running--;
      this.touch(live);
    }
  }

  /** Ends a session held here: kills everything in its sandbox, frees it, records why. Idempotent. */
  end(id: string, reason: SessionEndReason, message: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) return this.markEnded(id, reason, message);
    live.ending ??= (async () => {
      clearTimeout(live.idleTimer);
      clearTimeout(live.lifetimeTimer);
      await live.sandbox?.close();
      this.live.delete(id);
      await this.markEnded(id, reason, message);
    })();
    return live.ending;
  }

  private forget(live: Live): void {
    clearTimeout(live.idleTimer);
    clearTimeout(live.lifetimeTimer);
    this.live.delete(live.session.id);
  }

  private async markEnded(id: string, reason: SessionEndReason, message: string): Promise<void> {
    await markSessionEnded(this.deps, id, reason, message, new Date(this.now()).toISOString());
  }

  private record(id: string, event: NewSessionEvent): Promise<void> {
    return recordSessionEvent(this.deps, id, event);
  }

  /** Records an exec or file operation; its time becomes the session's last activity (one write). */
  private recordActivity(id: string, event: NewSessionEvent): Promise<void> {
    return recordSessionEvent(this.deps, id, event, { activity: true });
  }

  /** Ends every session held here (worker_shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.live.keys()].map((id) => this.end(id, 'worker_shutdown', 'the worker holding the session stopped')));
  }
}
