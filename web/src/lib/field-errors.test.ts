import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError } from './api-client';
import { formErrorsFrom, hasErrors } from './field-errors';

const FIELDS = ['code', 'timeout_s', 'memory_mb', 'tags'] as const;

describe('formErrorsFrom', () => {
  it('maps zod issues to the field named by path[0]', () => {
    const err = new ApiError(400, 'validation_error', 'Invalid request', [
      { path: ['timeout_s'], message: 'timeout_s must be at most 600 s' },
      { path: ['memory_mb'], message: 'memory_mb must be at least 16 MiB' },
    ]);
    const e = formErrorsFrom(err, FIELDS);
    expect(e.fields).toEqual({ timeout_s: 'timeout_s must be at most 600 s', memory_mb: 'memory_mb must be at least 16 MiB' });
    expect(e.general).toEqual([]);
    expect(hasErrors(e)).toBe(true);
  });

  it('says which tag is wrong and joins several messages for one field', () => {
    const err = new ApiError(400, 'validation_error', 'Invalid', [
      { path: ['tags', 2], message: 'bad tag' },
      { path: ['tags', 4], message: 'too long' },
    ]);
    expect(formErrorsFrom(err, FIELDS).fields.tags).toBe('#3: bad tag; #5: too long');
    // What the server actually sends: the index as a string, plus a location.
    const real = new ApiError(400, 'invalid_request', 'Invalid body', [{ location: 'body', path: ['tags', '0'], message: 'bad tag' }]);
    expect(formErrorsFrom(real, FIELDS).fields.tags).toBe('#1: bad tag');
  });

  it('keeps issues about unknown fields or the whole request in the general list', () => {
    const err = new ApiError(400, 'validation_error', 'Invalid', [
      { path: [], message: 'Unrecognized key: "bogus"' },
      { path: ['cpus'], message: 'cpus must be at most 8' },
    ]);
    const e = formErrorsFrom(err, FIELDS);
    expect(e.fields).toEqual({});
    expect(e.general).toEqual(['Unrecognized key: "bogus"', 'cpus: cpus must be at most 8']);
  });

  it('uses the message when there are no issues, and handles non-API errors', () => {
    expect(formErrorsFrom(new ApiError(503, 'queue_full', 'The queue is full'), FIELDS).general).toEqual(['The queue is full']);
    expect(formErrorsFrom(new Error('boom'), FIELDS).general).toEqual(['boom']);
    expect(hasErrors(formErrorsFrom(new ApiError(400, 'x', 'y', 'not a list'), FIELDS))).toBe(true);
  });
});

describe('api client errors', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('turns an error body into an ApiError with code, message and issues', async () => {
    const body = { error: { code: 'validation_error', message: 'Invalid request', details: [{ path: ['timeout_s'], message: 'too big' }] } };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } })),
    );
    const err = await api.create({ code: 'x', timeout_s: 1e6 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect([e.status, e.code, e.message]).toEqual([400, 'validation_error', 'Invalid request']);
    expect(e.issues).toEqual([{ path: ['timeout_s'], message: 'too big' }]);
  });

  it('reports a non-JSON failure and a network failure readably', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })),
    );
    await expect(api.queue()).rejects.toMatchObject({ status: 502, code: 'http_error', message: 'The server answered 502 Bad Gateway' });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    );
    await expect(api.queue()).rejects.toMatchObject({ status: 0, code: 'unreachable' });
  });
});
