/**
 * Every error code the API can answer with, its HTTP status and when it happens, in one typed
 * catalogue. Code that raises an error names a key of this table (so a typo does not compile), a
 * CrucibleError takes its HTTP status from here, and the README's error table is generated from it
 * (scripts/generate-error-table.ts; a test fails when the README drifts).
 */
export const ERROR_CATALOGUE = {
  invalid_request: {
    status: 400,
    meaning:
      'a field, query parameter (unknown, repeated, not plain digits, out of range), path id or header is invalid; `details[]` has `location` (body, querystring, params, headers), `path` and `message` for each problem',
  },
  missing_body: { status: 400, meaning: 'the endpoint needs a JSON body and the request had none' },
  invalid_json: { status: 400, meaning: 'the body is not JSON, not UTF-8, or has a number too large for a double (`1e400`)' },
  duplicate_key: { status: 400, meaning: 'a key appears twice in one object; `details.path` says where' },
  forbidden_key: { status: 400, meaning: 'a `__proto__` or `constructor.prototype` key; `details.path` says where' },
  nesting_too_deep: { status: 400, meaning: 'the body nests more than 64 levels' },
  invalid_cursor: { status: 400, meaning: '`cursor` is not a `next_cursor` this API returned' },
  invalid_last_event_id: { status: 400, meaning: '`Last-Event-ID` / `?after=` names an event the evaluation does not have' },
  sandbox_unavailable: { status: 400, meaning: 'no live worker serving the environment offers the requested sandbox' },
  unknown_environment: { status: 400, meaning: 'the `environment` is not one Crucible declares; `details.known` lists them' },
  limit_above_environment_maximum: {
    status: 400,
    meaning: "a limit is within the global bounds but above the environment's own maximum (e.g. `memory_mb` for `python`); the message names the maximum",
  },
  invalid_path: { status: 400, meaning: 'a session file path that is empty, too long, has NUL, or goes through a file as if it were a directory' },
  is_a_directory: { status: 400, meaning: 'a session file read or write names a directory' },
  invalid_url: { status: 400, meaning: 'malformed percent-encoding in the path' },
  invalid_content_length: { status: 400, meaning: 'a body shorter or longer than its Content-Length' },
  bad_http_request: { status: 400, meaning: 'the bytes received are not HTTP/1.1; the connection is closed' },
  bad_request: { status: 400, meaning: 'a malformed request that no more specific code covers' },
  sign_in_failed: {
    status: 400,
    meaning:
      'web sign-in with OpenID Connect did not complete: the provider refused or answered wrongly, the sign-in took over 10 minutes or was started in another browser (state), or the claims map to no role or project; the message says which',
  },
  request_aborted: { status: 400, meaning: 'the client hung up before the whole body arrived; nothing was done' },
  unauthenticated: {
    status: 401,
    meaning:
      'auth is required and the request has no valid `Authorization: Bearer <key>` (missing, malformed, unknown, expired or revoked key) nor a valid web session cookie (signed out, expired, revoked); with `WWW-Authenticate: Bearer`',
  },
  forbidden: { status: 403, meaning: "the caller's role may not do this (e.g. a viewer submitting, a non-admin managing keys)" },
  csrf_failed: {
    status: 403,
    meaning:
      'a request authenticated by the web session cookie that changes something (POST, PUT, DELETE) without the `X-CSRF-Token` header matching the session (the `crucible_csrf` cookie); requests with `Authorization: Bearer` need none',
  },
  not_found: { status: 404, meaning: 'no such evaluation or route' },
  artifact_not_found: {
    status: 404,
    meaning:
      'the evaluation exists (and the caller may see it) but collected no artifact at that path; `GET /api/evaluations/{id}/artifacts` lists what it has',
  },
  environment_not_found: { status: 404, meaning: '`/api/environments/{name}` names no declared environment; `details.known` lists them' },
  file_not_found: { status: 404, meaning: 'a session file read names a file that does not exist (inside the sandbox)' },
  permission_denied: { status: 403, meaning: "the session's sandbox user may not read or write that path (e.g. the read-only system directories)" },
  method_not_allowed: { status: 405, meaning: 'the path exists for other methods (listed in `Allow`; `OPTIONS` answers 204 with `Allow`)' },
  request_timeout: { status: 408, meaning: 'the request (headers and body) was not received within 60 s' },
  environment_not_built: {
    status: 409,
    meaning:
      'the environment is declared but not built on this host, so its SBOM cannot be read here; the message says how to build it (`crucible env build <name>`)',
  },
  already_terminal: { status: 409, meaning: 'cancelling an evaluation that already ended' },
  cancel_race: { status: 409, meaning: 'cancelling an evaluation that changed state meanwhile; retrying settles it' },
  duplicate_id: { status: 409, meaning: 'an evaluation with this id already exists' },
  session_busy: { status: 409, meaning: 'the session already runs its maximum of 4 execs at once; retry when one ends' },
  session_ended: { status: 409, meaning: 'the session has ended (see its `ended_reason`); start a new one' },
  session_not_ready: { status: 409, meaning: 'the session is still starting; retry in a moment' },
  length_required: { status: 411, meaning: 'a body was sent without a length' },
  payload_too_large: { status: 413, meaning: 'the body is over 14 MiB (`request_bounds.body_bytes` in /api/config)' },
  file_too_large: { status: 413, meaning: 'a session file over 64 MiB (written or read)' },
  uri_too_long: { status: 414, meaning: 'the URL is longer than the server accepts' },
  unsupported_media_type: { status: 415, meaning: 'not `application/json` (form, multipart, text…), a charset other than UTF-8, or a `Content-Encoding`' },
  headers_too_large: { status: 431, meaning: 'the request line and headers are too large' },
  rate_limited: {
    status: 429,
    meaning:
      'too many requests with one API key (its token bucket: `CRUCIBLE_KEY_RATE_BURST` at once, `CRUCIBLE_KEY_RATE_PER_SECOND` sustained, shared by every API process in scale-out), or too many failed authentications from this address (30 a minute; even a valid key is refused until then); with `Retry-After`',
  },
  quota_exceeded: {
    status: 429,
    meaning:
      "beyond one of the project's quotas (named in the message and `details.quota`): queued evaluations, sessions, CPU seconds per day, or a limit larger than the caller's role may ask for; with `Retry-After` when waiting helps; nothing was accepted",
  },
  internal_error: { status: 500, meaning: 'a bug on our side; the cause is in the server log, never in the response' },
  queue_full: {
    status: 503,
    meaning: 'the queue holds its maximum of waiting evaluations (`CRUCIBLE_MAX_QUEUE_DEPTH`); with `Retry-After`; nothing was accepted',
  },
  queue_unavailable: { status: 503, meaning: 'the queue cannot be reached; with `Retry-After`; nothing was accepted' },
  storage_unavailable: { status: 503, meaning: 'the database cannot be reached; with `Retry-After`; nothing was changed' },
  storage_read_only: { status: 503, meaning: 'the database accepts reads but refuses writes right now; with `Retry-After`; nothing was changed' },
  storage_full: {
    status: 507,
    meaning:
      'the disk holding the database is full; with `Retry-After`; nothing was changed, reads still work, and writes resume by themselves once space is freed',
  },
  dependency_unavailable: { status: 503, meaning: 'a backing service (database or queue) failed mid-request; with `Retry-After`; nothing was changed' },
  no_space: { status: 507, meaning: "the session's scratch space (scratch_mb) is full" },
  session_unavailable: { status: 503, meaning: 'the worker holding the session did not answer, or no worker can start one with this sandbox' },
  syntax_check_failed: { status: 503, meaning: 'the sandboxed syntax check could not complete' },
  syntax_check_unavailable: { status: 503, meaning: 'this API instance has no sandbox to run the syntax check in' },
  server_busy: {
    status: 503,
    meaning:
      'a large response (≥ 1 MiB, e.g. an evaluation with megabytes of output) would exceed the memory kept for responses clients have not read yet (`CRUCIBLE_MAX_PENDING_RESPONSE_MB`, default 256); with `Retry-After`',
  },
  too_many_streams: { status: 503, meaning: 'the server already holds `CRUCIBLE_MAX_STREAMS` (default 1 000) event streams open; with `Retry-After`' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

/** The README's error table: one row per code, ordered by status (the catalogue's order within one). */
export function errorTableMarkdown(): string {
  const rows = (Object.entries(ERROR_CATALOGUE) as [ErrorCode, { status: number; meaning: string }][])
    .map(([code, entry], index) => ({ code, ...entry, index }))
    .sort((a, b) => a.status - b.status || a.index - b.index)
    .map((e) => `| ${e.status} | \`${e.code}\` | ${e.meaning} |`);
  return ['| status | code | when |', '|---|---|---|', ...rows].join('\n');
}
