/**
 * Every error code the API can answer with, its HTTP status and what it means, in one typed
 * catalogue. Code that raises an error names a key of this table (so a typo does not compile), the
 * HTTP edge takes the status from here, and the README's error table is checked against it by a
 * test, so the documentation cannot drift from what the server says.
 */
export const ERROR_CATALOGUE = {
  // 400: the request itself is wrong
  invalid_request: { status: 400, meaning: 'A body, query or header field failed validation; `details` lists each problem with its location.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON (or is empty), or is not UTF-8.' },
  nesting_too_deep: { status: 400, meaning: 'The body nests objects or arrays deeper than any request needs.' },
  missing_body: { status: 400, meaning: 'The endpoint needs a JSON object as the body and none was sent.' },
  duplicate_key: { status: 400, meaning: 'A JSON object repeats a key, so which value counts would be ambiguous.' },
  forbidden_key: { status: 400, meaning: 'A JSON object uses a key such as `__proto__` that is never accepted.' },
  invalid_cursor: { status: 400, meaning: 'The list cursor is not one this server issued.' },
  invalid_last_event_id: { status: 400, meaning: 'Last-Event-ID (or `after`) names an event this stream does not have.' },
  invalid_content_length: { status: 400, meaning: 'The body is shorter or longer than its Content-Length header says.' },
  invalid_url: { status: 400, meaning: 'The URL is not percent-encoded UTF-8.' },
  bad_request: { status: 400, meaning: 'The HTTP request is malformed in a way no more specific code covers.' },
  bad_http_request: { status: 400, meaning: 'The bytes received are not valid HTTP/1.1; the connection is closed.' },
  request_aborted: { status: 400, meaning: 'The client closed the connection before the whole request arrived; nothing was done.' },
  sandbox_unavailable: { status: 400, meaning: 'No running worker offers the requested sandbox backend.' },
  // 404, 405, 408, 409
  not_found: { status: 404, meaning: 'The evaluation (or route) does not exist.' },
  method_not_allowed: { status: 405, meaning: 'The route exists but not with this method; the Allow header lists the methods it has.' },
  request_timeout: { status: 408, meaning: 'The request was not received completely within the request timeout.' },
  already_terminal: { status: 409, meaning: 'The evaluation already ended, so it cannot be cancelled.' },
  cancel_race: { status: 409, meaning: 'The evaluation changed state during the cancel; retrying settles it.' },
  duplicate_id: { status: 409, meaning: 'An evaluation with this id already exists.' },
  // 411–431: the request's shape is refused before it is read
  length_required: { status: 411, meaning: 'A body was sent without a length.' },
  payload_too_large: { status: 413, meaning: 'The body is larger than the server accepts.' },
  uri_too_long: { status: 414, meaning: 'The URL is longer than the server accepts.' },
  unsupported_media_type: { status: 415, meaning: 'The body is not `application/json` in UTF-8 without a content encoding.' },
  headers_too_large: { status: 431, meaning: 'The request line and headers are larger than the server accepts.' },
  // 5xx: the platform, not the request (nothing was changed; Retry-After says when to try again)
  internal_error: { status: 500, meaning: 'An unexpected error; it is logged with the request id.' },
  queue_full: { status: 503, meaning: 'The queue holds its maximum of waiting evaluations; nothing was accepted.' },
  queue_unavailable: { status: 503, meaning: 'The queue cannot be reached; nothing was accepted.' },
  storage_unavailable: { status: 503, meaning: 'The database cannot be reached; nothing was changed.' },
  dependency_unavailable: { status: 503, meaning: 'A backing service (database or queue) failed; nothing was changed.' },
  syntax_check_failed: { status: 503, meaning: 'The sandboxed syntax check could not complete.' },
  syntax_check_unavailable: { status: 503, meaning: 'This API instance has no sandbox to run the syntax check in.' },
  too_many_streams: { status: 503, meaning: 'The server holds its maximum of open event streams.' },
  server_busy: { status: 503, meaning: 'The server holds its maximum of unread response data.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}
