/**
 * CSRF double submit: the server puts the session's CSRF token in the readable `crucible_csrf`
 * cookie at sign-in; every request that changes something echoes it in `X-CSRF-Token`, which a
 * page of another site cannot do (it can neither read our cookies nor set that header cross-site).
 */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token of this browser's web session, if it has one. */
export function csrfToken(cookies: string = typeof document === 'undefined' ? '' : document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'crucible_csrf' && value.length > 0) return value.join('=');
  }
  return null;
}

/** The request options with the CSRF header added when the request changes something. */
export function withCsrfToken(init: RequestInit | undefined, cookies?: string): RequestInit | undefined {
  const method = (init?.method ?? 'GET').toUpperCase();
  if (SAFE_METHODS.has(method)) return init;
  const token = csrfToken(cookies);
  if (!token) return init;
  const headers = new Headers(init?.headers);
  headers.set('X-CSRF-Token', token);
  return { ...init, headers };
}
