/** Options of the client and of its calls. */
import type { EvaluationStatus } from '../domain/evaluation.js';

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>` (servers with auth required). */
  apiKey?: string;
  /** How many times a 429 or 503 answer that carries Retry-After is retried (default 2; 0 = never). */
  retries?: number;
  /** Longest Retry-After the client waits out before giving up with the error (default 30 s). */
  maxRetryWaitS?: number;
  /** The fetch to use (default: the global one) — e.g. to observe connectivity, as the web UI does. */
  fetch?: typeof fetch;
}

/** Filters of `list` / `listAll`; arrays are sent comma-separated. */
export interface ListFilters {
  status?: EvaluationStatus | readonly EvaluationStatus[];
  tags?: string | readonly string[];
  q?: string;
  /** Metadata filter, `key=value,key2=value2` (each top-level metadata value, as text, must equal the value). */
  meta?: string;
  project?: string;
  limit?: number;
  cursor?: string | null;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface StreamOptions extends RequestOptions {
  /** Resume after this sequence number (what a previous stream yielded last). */
  after?: number;
}

export interface WaitOptions extends RequestOptions {
  /** Give up (ApiError `wait_timeout`, status 0) after this long; default: wait as long as it runs. */
  timeoutMs?: number;
}
