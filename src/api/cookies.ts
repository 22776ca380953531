/** The web session's cookies and reading one from a Cookie header (no cookie library: names and values here are plain tokens). */
export const SESSION_COOKIE = 'crucible_session';
export const CSRF_COOKIE = 'crucible_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The value of cookie `name` in a Cookie request header (the first one, as browsers send the most specific path first). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
