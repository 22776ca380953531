/**
 * A handle on one session (a long-lived sandbox): run commands in it, move files in and out, end
 * it. `CrucibleClient.withSession` ends it however the block that needed it ends.
 */
import type { RequestOptions } from './options.js';
import type { ExecInput, ExecResult, SessionEvent, SessionInfo } from './session-types.js';

/** What a session needs from its client (CrucibleClient is one). */
export interface SessionTransport {
  json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  bytes(path: string, signal?: AbortSignal): Promise<Uint8Array>;
  putBytes<T>(path: string, data: Uint8Array, signal?: AbortSignal): Promise<T | undefined>;
  sessionEvents(id: string, opts?: RequestOptions & { lastEventId?: string }): AsyncGenerator<SessionEvent>;
}

export class CrucibleSession {
  constructor(
    private readonly client: SessionTransport,
    /** The session as the server last described it. */
    public info: SessionInfo,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /** Runs a command (`exec(['ls', '-l'])`) or Python code (`exec({ code: 'print(1)' })`) and waits for its result. */
  exec(cmdOrInput: string[] | ExecInput, opts: RequestOptions = {}): Promise<ExecResult> {
    const body: ExecInput = Array.isArray(cmdOrInput) ? { cmd: cmdOrInput } : cmdOrInput;
    return this.client.json('POST', `${this.path()}/exec`, body, opts.signal);
  }

  /** Writes bytes (or UTF-8 text) to a file in the session; parent folders are created. */
  async writeFile(path: string, data: Uint8Array | string, opts: RequestOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    await this.client.putBytes(`${this.path()}/files?path=${encodeURIComponent(path)}`, bytes, opts.signal);
  }

  /**
   * A file's bytes exactly (ApiError 404 `file_not_found` if there is none). `maxBytes`: a larger
   * file is refused (ApiError 413 `file_too_large`) without being sent; the server's own bound
   * applies either way.
   */
  readFile(path: string, opts: RequestOptions & { maxBytes?: number } = {}): Promise<Uint8Array> {
    const limit = opts.maxBytes === undefined ? '' : `&max_bytes=${opts.maxBytes}`;
    return this.client.bytes(`${this.path()}/files?path=${encodeURIComponent(path)}${limit}`, opts.signal);
  }

  /** Re-reads the session's state (status, ended_reason, ...). */
  async refresh(opts: RequestOptions = {}): Promise<SessionInfo> {
    this.info = await this.client.json<SessionInfo>('GET', this.path(), undefined, opts.signal);
    return this.info;
  }

  /** Ends the session: the server kills everything in it and frees its resources. */
  async end(opts: RequestOptions = {}): Promise<SessionInfo> {
    const ended = await this.client.json<SessionInfo | undefined>('DELETE', this.path(), undefined, opts.signal);
    if (ended) this.info = ended;
    return this.info;
  }

  /** Everything the session did (execs with results, file reads and writes), in order. */
  events(opts: RequestOptions & { lastEventId?: string } = {}): AsyncGenerator<SessionEvent> {
    return this.client.sessionEvents(this.id, opts);
  }

  private path(): string {
    return `/api/sessions/${encodeURIComponent(this.id)}`;
  }
}
