/**
 * A small typed client for the Crucible HTTP API, used by the CLI (and the demo suite): JSON
 * requests with API errors turned into readable exceptions, and an SSE reader that resumes with
 * Last-Event-ID when the connection drops.
 */
import type { ArtifactList } from '../domain/artifacts.js';
import type { CreateEvaluationInput, Evaluation, EvaluationList } from '../domain/evaluation.js';
import type { EvaluationEvent } from '../domain/events.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class CrucibleClient {
  /** `apiKey`: sent as `Authorization: Bearer <key>` (servers with auth required). */
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  private auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? this.auth() : { ...this.auth(), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the Crucible server at ${this.baseUrl} (${(err as Error).cause ?? (err as Error).message}); is \`crucible serve\` running? (set --server or CRUCIBLE_URL)`,
      );
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`, e?.details);
    }
    return json as T;
  }

  submit(input: CreateEvaluationInput, waitS?: number): Promise<Evaluation> {
    return this.request('POST', `/api/evaluations${waitS ? `?wait_s=${waitS}` : ''}`, input);
  }

  get(id: string): Promise<Evaluation> {
    return this.request('GET', `/api/evaluations/${encodeURIComponent(id)}`);
  }

  list(params: Record<string, string | number | undefined>): Promise<EvaluationList> {
    const qs = new URLSearchParams(
      Object.entries(params)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.request('GET', `/api/evaluations?${qs}`);
  }

  artifacts(id: string): Promise<ArtifactList> {
    return this.request('GET', `/api/evaluations/${encodeURIComponent(id)}/artifacts`);
  }

  /** One artifact's bytes. */
  async artifactBytes(id: string, path: string): Promise<Uint8Array> {
    const url = new URL(`/api/evaluations/${encodeURIComponent(id)}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`, this.baseUrl);
    const res = await fetch(url, { headers: this.auth() });
    if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, `cannot download artifact ${path}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  cancel(id: string): Promise<Evaluation> {
    return this.request('POST', `/api/evaluations/${encodeURIComponent(id)}/cancel`, {});
  }

  /** Yields the evaluation's events in order until `done`, reconnecting where it left off. */
  async *events(id: string, signal?: AbortSignal): AsyncGenerator<EvaluationEvent> {
    let last = 0;
    for (let failures = 0; failures < 20;) {
      try {
        const res = await fetch(new URL(`/api/evaluations/${encodeURIComponent(id)}/events`, this.baseUrl), {
          headers: { ...this.auth(), accept: 'text/event-stream', 'last-event-id': String(last) },
          signal,
        });
        if (res.status === 404) throw new ApiError(404, 'not_found', `evaluation ${id} does not exist`);
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        for await (const event of parseSse(res.body)) {
          failures = 0;
          if (event.event === 'status' || event.event === 'stdout' || event.event === 'stderr' || event.event === 'metrics' || event.event === 'done') {
            const parsed = JSON.parse(event.data) as EvaluationEvent;
            if (parsed.seq <= last) continue;
            last = parsed.seq;
            yield parsed;
            if (parsed.type === 'done') return;
          }
        }
      } catch (err) {
        if (err instanceof ApiError || signal?.aborted) throw err;
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
      }
    }
    throw new ApiError(0, 'stream_lost', `lost the event stream of ${id} repeatedly; check \`crucible status ${id}\``);
  }
}

export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string; id?: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length) yield { event, data: data.join('\n'), id };
    }
  }
}
