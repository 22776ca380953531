/**
 * The one error type of the client SDK: every failed call, whether the server answered with its
 * `{ "error": { code, message, details } }` body, with something else (a proxy's error page), or
 * not at all (status 0).
 */

/** One validation issue as the API reports it in `error.details`. */
export interface ApiIssue {
  path: Array<string | number>;
  message: string;
}

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached or the stream was lost. */
    readonly status: number,
    /** The API's error code (see the README's error table), or `unreachable`, `http_error`, `stream_lost`. */
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
    /** Seconds the server asked to wait before retrying (Retry-After), if it said. */
    readonly retryAfterS: number | undefined = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The validation issues in `details`, if that is what the server sent. */
  get issues(): ApiIssue[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is ApiIssue => typeof d === 'object' && d !== null && Array.isArray((d as ApiIssue).path) && typeof (d as ApiIssue).message === 'string',
    );
  }
}

/** Turns a failed response into an ApiError, whatever its body is. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = JSON.parse(await res.text());
  } catch {
    // not JSON (proxy error page, empty body): fall through to a generic message
  }
  const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (err && typeof err.message === 'string') {
    return new ApiError(res.status, typeof err.code === 'string' ? err.code : 'http_error', err.message, err.details, retryAfterS);
  }
  return new ApiError(res.status, 'http_error', `The server answered ${res.status} ${res.statusText}`.trim(), undefined, retryAfterS);
}

/** Retry-After in seconds (the API sends whole seconds; an HTTP date is read too). */
export function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}
