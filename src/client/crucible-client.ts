/**
 * The TypeScript client of the Crucible HTTP API — the one client the CLI, the demo and the web UI
 * use, published as the `sdk/typescript` package. Fetch-based (Node ≥ 20 and browsers), typed
 * from the domain's zod schemas, API errors as `ApiError`, 429/503 with Retry-After retried a
 * bounded number of times, and event streams that resume with Last-Event-ID when they drop.
 */
import type { CreateEvaluationInput, Evaluation, EvaluationList, EvaluationSummary } from '../domain/evaluation.js';
import type { EvaluationEvent } from '../domain/events.js';
import type { ConfigResponse, QueueStats, StatsResponse, SyntaxCheckResponse, WorkerView } from '../domain/system-views.js';
import { ApiError, errorFromResponse } from './api-error.js';
import type { ArtifactInfo, ArtifactList } from '../domain/artifacts.js';
import type { AuditPage, AuditVerification } from '../domain/audit.js';
import type { EvaluationSetSummary } from '../domain/evaluation-set-summary.js';
import type { EnvironmentList, EnvironmentView } from '../domain/environments.js';
import type { CreateSessionInput, SessionEvent, SessionInfo, SessionList, SessionStatus } from './session-types.js';
import type { ClientOptions, ListFilters, RequestOptions, StreamOptions, WaitOptions } from './options.js';
import { CrucibleSession, type SessionTransport } from './session.js';
import { parseSse, type SseMessage } from './sse.js';

const EVALUATION_EVENT_TYPES: ReadonlySet<string> = new Set(['status', 'stdout', 'stderr', 'metrics', 'done']);
/** Consecutive failed reconnects before a stream is given up as lost. */
const MAX_STREAM_FAILURES = 20;

export class CrucibleClient implements SessionTransport {
  /** The server's base URL without a trailing slash; '' means the page's own origin (browsers). */
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly retries: number;
  private readonly maxRetryWaitS: number;
  private readonly fetchImpl: typeof fetch;

  constructor(baseUrl = '', options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey || undefined;
    this.retries = options.retries ?? 2;
    this.maxRetryWaitS = options.maxRetryWaitS ?? 30;
    // Called through a closure: browsers refuse a fetch called as a method of another object.
    const f = options.fetch;
    this.fetchImpl = f ? (input, init) => f(input, init) : (input, init) => fetch(input, init);
  }

  // ---- evaluations -------------------------------------------------------------------------

  /** Queues a program (202). With `waitS`, the server holds the answer until it ends or the time runs out. */
  submit(input: CreateEvaluationInput, opts: RequestOptions & { waitS?: number } = {}): Promise<Evaluation> {
    return this.json('POST', `/api/evaluations${opts.waitS ? `?wait_s=${opts.waitS}` : ''}`, input, opts.signal);
  }

  /** Submits and waits for the end: the finished evaluation, with its outputs and verdict. */
  async run(input: CreateEvaluationInput, opts: WaitOptions = {}): Promise<Evaluation> {
    const created = await this.submit(input, opts);
    return this.wait(created.id, opts);
  }

  /** Queues several programs at once, all or nothing; the ids in request order. */
  async batch(inputs: CreateEvaluationInput[], opts: RequestOptions = {}): Promise<string[]> {
    const res = await this.json<{ ids: string[] }>('POST', '/api/evaluations/batch', { evaluations: inputs }, opts.signal);
    return res.ids;
  }

  get(id: string, opts: RequestOptions = {}): Promise<Evaluation> {
    return this.json('GET', `/api/evaluations/${encodeURIComponent(id)}`, undefined, opts.signal);
  }

  /** Follows the evaluation's events until `done`, then reads it: the finished evaluation. */
  async wait(id: string, opts: WaitOptions = {}): Promise<Evaluation> {
    const timeout = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    const signal = timeout && opts.signal ? AbortSignal.any([timeout, opts.signal]) : (timeout ?? opts.signal);
    try {
      for await (const event of this.events(id, { signal })) if (event.type === 'done') break;
    } catch (err) {
      if (timeout?.aborted && !opts.signal?.aborted) throw new ApiError(0, 'wait_timeout', `evaluation ${id} did not finish within ${opts.timeoutMs} ms`);
      throw err;
    }
    return this.get(id, opts);
  }

  /** One page of evaluations, newest first (`next_cursor` fetches the next). */
  list(filters: ListFilters = {}, opts: RequestOptions = {}): Promise<EvaluationList> {
    return this.json('GET', `/api/evaluations${listQueryString(filters)}`, undefined, opts.signal);
  }

  /** Counts per status and run-time percentiles of every evaluation matching the filters (e.g. one tag). */
  summary(filters: Omit<ListFilters, 'cursor' | 'limit'> = {}, opts: RequestOptions = {}): Promise<EvaluationSetSummary> {
    return this.json('GET', `/api/evaluations/summary${listQueryString(filters)}`, undefined, opts.signal);
  }

  /** Every evaluation matching the filters, page after page. */
  async *listAll(filters: Omit<ListFilters, 'cursor'> = {}, opts: RequestOptions = {}): AsyncGenerator<EvaluationSummary> {
    let cursor: string | null = null;
    do {
      const page: EvaluationList = await this.list({ ...filters, cursor }, opts);
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor);
  }

  /** Cancels a queued evaluation or kills a running one (ApiError `already_terminal` if it ended). */
  cancel(id: string, opts: RequestOptions = {}): Promise<Evaluation> {
    return this.json('POST', `/api/evaluations/${encodeURIComponent(id)}/cancel`, {}, opts.signal);
  }

  /** The program's standard output exactly as written (NUL and non-UTF-8 bytes included). */
  stdoutBytes(id: string, opts: RequestOptions = {}): Promise<Uint8Array> {
    return this.bytes(`/api/evaluations/${encodeURIComponent(id)}/stdout`, opts.signal);
  }

  stderrBytes(id: string, opts: RequestOptions = {}): Promise<Uint8Array> {
    return this.bytes(`/api/evaluations/${encodeURIComponent(id)}/stderr`, opts.signal);
  }

  /** The files the evaluation left behind (path, size, sha256, content type). */
  async artifacts(id: string, opts: RequestOptions = {}): Promise<ArtifactInfo[]> {
    return (await this.artifactList(id, opts)).items;
  }

  /** The whole listing: the artifacts kept and those dropped over the limits (with why). */
  artifactList(id: string, opts: RequestOptions = {}): Promise<ArtifactList> {
    return this.json<ArtifactList>('GET', `/api/evaluations/${encodeURIComponent(id)}/artifacts`, undefined, opts.signal);
  }

  /** Where one artifact's bytes are served, relative to the server (for links and images). */
  static artifactPath(id: string, path: string): string {
    return `/api/evaluations/${encodeURIComponent(id)}/artifacts/${encodeArtifactPath(path)}`;
  }

  /** One artifact's bytes. */
  artifact(id: string, path: string, opts: RequestOptions = {}): Promise<Uint8Array> {
    return this.bytes(CrucibleClient.artifactPath(id, path), opts.signal);
  }

  /**
   * The evaluation's events in order until `done`; a dropped connection is resumed with
   * Last-Event-ID, so nothing is missed or repeated.
   */
  async *events(id: string, opts: StreamOptions = {}): AsyncGenerator<EvaluationEvent> {
    let last = opts.after ?? 0;
    const path = `/api/evaluations/${encodeURIComponent(id)}/events`;
    for await (const message of this.follow(path, () => String(last), opts.signal)) {
      if (!EVALUATION_EVENT_TYPES.has(message.event)) continue;
      const event = JSON.parse(message.data) as EvaluationEvent;
      if (event.seq <= last) continue;
      last = event.seq;
      yield event;
      if (event.type === 'done') return;
    }
  }

  /** URL of an evaluation's event stream, for EventSource (`after` resumes after that seq). */
  eventsUrl(id: string, after?: number): string {
    const base = `${this.baseUrl}/api/evaluations/${encodeURIComponent(id)}/events`;
    return after === undefined ? base : `${base}?after=${after}`;
  }

  /** URL of the stream of every evaluation's status changes (GET /api/events), for EventSource. */
  statusFeedUrl(): string {
    return `${this.baseUrl}/api/events`;
  }

  // ---- sessions ----------------------------------------------------------------------------

  /** Starts a long-lived sandbox; it lives until `end()` or its idle/lifetime limit (see withSession). */
  async createSession(input: CreateSessionInput = {}, opts: RequestOptions = {}): Promise<CrucibleSession> {
    const info = await this.json<SessionInfo>('POST', '/api/sessions', input, opts.signal);
    return new CrucibleSession(this, info);
  }

  /** Starts a session, gives it to `use`, and ends it whether `use` returns or throws. */
  async withSession<T>(input: CreateSessionInput, use: (session: CrucibleSession) => Promise<T>): Promise<T> {
    const session = await this.createSession(input);
    let result: T;
    try {
      result = await use(session);
    } catch (err) {
      // The block's own error is the one worth reporting; ending is still attempted.
      await session.end().catch(() => undefined);
      throw err;
    }
    await session.end();
    return result;
  }

  getSession(id: string, opts: RequestOptions = {}): Promise<SessionInfo> {
    return this.json('GET', `/api/sessions/${encodeURIComponent(id)}`, undefined, opts.signal);
  }

  /** Sessions, newest first; `status` keeps one status only, `limit` caps the count (server default 100). */
  listSessions(opts: RequestOptions & { status?: SessionStatus; limit?: number } = {}): Promise<SessionList> {
    const q = new URLSearchParams();
    if (opts.status) q.set('status', opts.status);
    if (opts.limit) q.set('limit', String(opts.limit));
    const query = q.toString();
    return this.json('GET', `/api/sessions${query ? `?${query}` : ''}`, undefined, opts.signal);
  }

  /** A handle on an existing session (no request). */
  session(info: SessionInfo): CrucibleSession {
    return new CrucibleSession(this, info);
  }

  /** URL of a session's event stream for EventSource (browsers), resuming after seq `after`. */
  sessionEventsUrl(id: string, after?: number): string {
    const base = `${this.baseUrl}/api/sessions/${encodeURIComponent(id)}/events`;
    return after === undefined ? base : `${base}?after=${after}`;
  }

  /** Everything the session did, in order, resuming with Last-Event-ID; ends when the server ends the stream. */
  async *sessionEvents(id: string, opts: RequestOptions & { lastEventId?: string } = {}): AsyncGenerator<SessionEvent> {
    let last = opts.lastEventId;
    for await (const message of this.follow(`/api/sessions/${encodeURIComponent(id)}/events`, () => last, opts.signal, { endsWhenServerCloses: true })) {
      if (message.id !== undefined) last = message.id;
      yield { type: message.event, id: message.id, data: JSON.parse(message.data) as unknown };
    }
  }

  // ---- system views (the web UI's dashboard and editor) ---------------------------------------

  config(opts: RequestOptions = {}): Promise<ConfigResponse> {
    return this.json('GET', '/api/config', undefined, opts.signal);
  }

  queue(opts: RequestOptions = {}): Promise<QueueStats> {
    return this.json('GET', '/api/queue', undefined, opts.signal);
  }

  workers(opts: RequestOptions = {}): Promise<{ workers: WorkerView[]; liveness_window_ms: number }> {
    return this.json('GET', '/api/workers', undefined, opts.signal);
  }

  stats(minutes: number, bucketS: number, opts: RequestOptions = {}): Promise<StatsResponse> {
    return this.json('GET', `/api/stats?minutes=${minutes}&bucket_s=${bucketS}`, undefined, opts.signal);
  }

  /** The environments programs can run in, with their Python, packages, limits, build status and serving workers. */
  environments(opts: RequestOptions = {}): Promise<EnvironmentList> {
    return this.json('GET', '/api/environments', undefined, opts.signal);
  }

  /** One environment by name (404 environment_not_found for an unknown one). */
  environment(name: string, opts: RequestOptions = {}): Promise<EnvironmentView> {
    return this.json('GET', `/api/environments/${encodeURIComponent(name)}`, undefined, opts.signal);
  }

  /** A page of the audit log (admin); `query` is the query string, e.g. `?action=key.create&limit=50`. */
  audit(query = '', opts: RequestOptions = {}): Promise<AuditPage> {
    return this.json('GET', `/api/audit${query}`, undefined, opts.signal);
  }

  /** Whether the audit log's hash chain is intact (admin). */
  auditVerify(opts: RequestOptions = {}): Promise<AuditVerification> {
    return this.json('GET', '/api/audit/verify', undefined, opts.signal);
  }

  syntaxCheck(code: string, opts: RequestOptions = {}): Promise<SyntaxCheckResponse> {
    return this.json('POST', '/api/syntax-check', { code }, opts.signal);
  }

  // ---- transport ---------------------------------------------------------------------------

  /** A JSON request; the parsed answer, or ApiError. Also used by CrucibleSession. */
  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, {
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A request whose answer is raw bytes (outputs, artifacts, session files). */
  async bytes(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const res = await this.send('GET', path, { headers: { accept: 'application/octet-stream' }, signal });
    return readBody(res);
  }

  /** Sends raw bytes (session file writes); the JSON answer if there is one. */
  async putBytes<T>(path: string, data: Uint8Array, signal?: AbortSignal): Promise<T | undefined> {
    const res = await this.send('PUT', path, {
      headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
      body: data as unknown as RequestInit['body'],
      signal,
    });
    const text = await res.text();
    return text ? (JSON.parse(text) as T) : undefined;
  }

  /** One request with auth, Retry-After handling and errors as ApiError; the (ok) response. */
  private async send(
    method: string,
    path: string,
    init: { headers: Record<string, string>; body?: RequestInit['body']; signal?: AbortSignal },
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers: { ...this.auth(), ...init.headers }, body: init.body, signal: init.signal });
      } catch (err) {
        if (init.signal?.aborted) throw err;
        throw this.unreachable(err);
      }
      if (res.ok) return res;
      const error = await errorFromResponse(res);
      const wait = error.retryAfterS;
      if ((res.status === 429 || res.status === 503) && wait !== undefined && wait <= this.maxRetryWaitS && attempt < this.retries) {
        await sleep(wait * 1000, init.signal);
        continue;
      }
      throw error;
    }
  }

  private auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private unreachable(err: unknown): ApiError {
    const cause = (err as Error).cause ?? (err as Error).message;
    return new ApiError(0, 'unreachable', `cannot reach the Crucible server at ${this.baseUrl || 'this origin'} (${String(cause)})`);
  }

  /**
   * An SSE stream that reconnects (sending `lastEventId()` as Last-Event-ID) when the connection
   * drops, until the server answers 204 or — with `endsWhenServerCloses` — ends the stream itself.
   * The caller stops it by leaving its loop (the evaluation stream after `done`).
   */
  private async *follow(
    path: string,
    lastEventId: () => string | undefined,
    signal: AbortSignal | undefined,
    opts: { endsWhenServerCloses?: boolean } = {},
  ): AsyncGenerator<SseMessage> {
    for (let failures = 0; failures < MAX_STREAM_FAILURES;) {
      const last = lastEventId();
      let res: Response;
      try {
        res = await this.send('GET', path, { headers: { accept: 'text/event-stream', ...(last === undefined ? {} : { 'last-event-id': last }) }, signal });
      } catch (err) {
        if (err instanceof ApiError && err.status !== 0 && err.status < 500) throw err;
        if (signal?.aborted) throw err;
        failures++;
        await sleep(Math.min(2000, 100 * 2 ** failures), signal);
        continue;
      }
      if (res.status === 204 || !res.body) return;
      try {
        for await (const message of parseSse(res.body)) {
          failures = 0;
          yield message;
        }
        if (opts.endsWhenServerCloses) return;
      } catch (err) {
        if (signal?.aborted) throw err;
      }
      failures++;
      await sleep(Math.min(2000, 100 * 2 ** failures), signal);
    }
    throw new ApiError(0, 'stream_lost', `lost the event stream ${path} repeatedly`);
  }
}

export function listQueryString(f: ListFilters): string {
  const p = new URLSearchParams();
  const joined = (v: string | readonly string[] | undefined) => (typeof v === 'string' ? v : v?.join(','));
  const status = joined(f.status);
  const tags = joined(f.tags);
  if (status) p.set('status', status);
  if (tags) p.set('tags', tags);
  if (f.q?.trim()) p.set('q', f.q.trim());
  if (f.meta?.trim()) p.set('meta', f.meta.trim());
  if (f.project) p.set('project', f.project);
  if (f.limit) p.set('limit', String(f.limit));
  if (f.cursor) p.set('cursor', f.cursor);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * A response's body, each chunk copied once into a buffer of the announced size. `arrayBuffer()`
 * gathers the chunks, concatenates them and copies the result again: two more copies of a 64 MiB
 * session file. Without a usable Content-Length (or if more arrives), the buffer grows.
 */
async function readBody(res: Response): Promise<Uint8Array> {
  const announced = Number(res.headers.get('content-length'));
  // A compressed body's length is not the length of what the reader yields.
  if (!res.body || res.headers.get('content-encoding')) return new Uint8Array(await res.arrayBuffer());
  let out = new Uint8Array(Number.isSafeInteger(announced) && announced > 0 ? announced : 64 * 1024);
  let filled = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (filled + value.length > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, filled + value.length));
      bigger.set(out.subarray(0, filled));
      out = bigger;
    }
    out.set(value, filled);
    filled += value.length;
  }
  return filled === out.length ? out : out.subarray(0, filled);
}

/** Each segment of an artifact path escaped, the slashes kept (the route takes the rest of the URL). */
function encodeArtifactPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
