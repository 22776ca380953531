/**
 * Typed calls to the Crucible HTTP API. Types come from the same zod schemas the server validates
 * with, so a contract change breaks the UI build instead of the UI at runtime.
 */
import type { CreateEvaluationInput, Evaluation, EvaluationList, EvaluationStatus } from '../../../src/domain/evaluation';
import type { ConfigResponse, QueueStats, StatsResponse, SyntaxCheckResponse, WorkerView } from '../../../src/domain/system-views';
import { reportNetworkFailure, reportNetworkSuccess } from './connection';

/** One zod issue as the API reports it in `error.details`. */
export interface ApiIssue {
  path: Array<string | number>;
  message: string;
}

/** A failed API call: the server's `{error:{code,message,details}}`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The zod issues in `details`, if that is what the server sent. */
  get issues(): ApiIssue[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is ApiIssue => typeof d === 'object' && d !== null && Array.isArray((d as ApiIssue).path) && typeof (d as ApiIssue).message === 'string',
    );
  }
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON (proxy error page, empty body): fall through to a generic message
  }
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (err && typeof err.message === 'string') {
    return new ApiError(res.status, typeof err.code === 'string' ? err.code : 'error', err.message, err.details);
  }
  return new ApiError(res.status, 'http_error', `The server answered ${res.status} ${res.statusText}`.trim());
}

export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
  } catch (cause) {
    if (init.signal?.aborted) throw cause;
    reportNetworkFailure();
    throw new ApiError(0, 'network', 'Cannot reach the Crucible server. Check that it is running; the page reconnects by itself.');
  }
  reportNetworkSuccess();
  if (!res.ok) throw await errorFromResponse(res);
  return (await res.json()) as T;
}

const post = <T>(path: string, body: unknown, signal?: AbortSignal) =>
  request<T>(path, { method: 'POST', body: JSON.stringify(body), ...(signal ? { signal } : {}) });

export interface ListFilters {
  status?: readonly EvaluationStatus[];
  tags?: readonly string[];
  q?: string;
  meta?: string;
  limit?: number;
  cursor?: string | null;
}

export type EvaluationPage = EvaluationList;

export function listQueryString(f: ListFilters): string {
  const p = new URLSearchParams();
  if (f.status?.length) p.set('status', f.status.join(','));
  if (f.tags?.length) p.set('tags', f.tags.join(','));
  if (f.q?.trim()) p.set('q', f.q.trim());
  if (f.meta?.trim()) p.set('meta', f.meta.trim());
  if (f.limit) p.set('limit', String(f.limit));
  if (f.cursor) p.set('cursor', f.cursor);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  config: () => request<ConfigResponse>('/api/config'),
  create: (body: CreateEvaluationInput) => post<Evaluation>('/api/evaluations', body),
  get: (id: string, signal?: AbortSignal) => request<Evaluation>(`/api/evaluations/${encodeURIComponent(id)}`, signal ? { signal } : {}),
  list: (f: ListFilters, signal?: AbortSignal) => request<EvaluationPage>(`/api/evaluations${listQueryString(f)}`, signal ? { signal } : {}),
  cancel: (id: string) => post<Evaluation>(`/api/evaluations/${encodeURIComponent(id)}/cancel`, {}),
  syntaxCheck: (code: string, signal?: AbortSignal) => post<SyntaxCheckResponse>('/api/syntax-check', { code }, signal),
  queue: () => request<QueueStats>('/api/queue'),
  workers: () => request<{ workers: WorkerView[]; liveness_window_ms: number }>('/api/workers'),
  stats: (minutes: number, bucketS: number) => request<StatsResponse>(`/api/stats?minutes=${minutes}&bucket_s=${bucketS}`),
  health: () => fetch('/healthz', { headers: { accept: 'application/json' } }),
};
