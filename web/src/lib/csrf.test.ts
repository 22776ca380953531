import { describe, expect, it } from 'vitest';
import { csrfToken, withCsrfToken } from './csrf';

describe('CSRF double submit', () => {
  const cookies = 'theme=dark; crucible_csrf=abc-DEF_123; other=1';

  it('reads the token from the crucible_csrf cookie', () => {
    expect(csrfToken(cookies)).toBe('abc-DEF_123');
    expect(csrfToken('theme=dark')).toBeNull();
  });

  it('adds X-CSRF-Token to changes only, keeping their other headers', () => {
    const post = withCsrfToken({ method: 'POST', headers: { 'content-type': 'application/json' } }, cookies)!;
    const headers = new Headers(post.headers);
    expect(headers.get('x-csrf-token')).toBe('abc-DEF_123');
    expect(headers.get('content-type')).toBe('application/json');
    expect(new Headers(withCsrfToken({ method: 'delete' }, cookies)!.headers).get('x-csrf-token')).toBe('abc-DEF_123');
    const get = { method: 'GET' };
    expect(withCsrfToken(get, cookies)).toBe(get);
    expect(withCsrfToken(undefined, cookies)).toBeUndefined();
    // Signed out (no cookie): nothing to send.
    const unsigned = { method: 'POST' };
    expect(withCsrfToken(unsigned, 'theme=dark')).toBe(unsigned);
  });
});
