/**
 * Hostile and malformed HTTP input, route by route: every failure a caller can cause is a specific
 * 4xx with `{ "error": { "code", "message", "details"? } }` (never a 5xx, a hang or a crash),
 * nothing is created or lost by a rejected request, and the server keeps serving afterwards.
 * The basic field checks live in validation.test.ts; this file covers transport-level abuse,
 * every field's wrong types, query strings, path ids, methods, SSE ids, raw sockets and a seeded
 * random-mutation fuzz. Bounded: every network wait has a timeout; the fuzz uses a fixed seed.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { api, startTestServer } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

const J = { 'content-type': 'application/json' };

/** Asserts the one error shape: exactly `error` with a snake_case code, a real message, optional details. */
function expectError(r: Reply, status: number, code?: string | RegExp): ErrorBody['error'] {
  const where = `${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, where).toBe(status);
  expect(String(r.headers['content-type']), where).toMatch(/^application\/json/);
  const body = r.json as ErrorBody;
  expect(body, where).toBeTypeOf('object');
  expect(Object.keys(body), where).toEqual(['error']);
  const e = body.error;
  expect(
    Object.keys(e).every((k) => ['code', 'message', 'details'].includes(k)),
    where,
  ).toBe(true);
  expect(e.code, where).toMatch(/^[a-z][a-z0-9_]*$/);
  expect(e.message.length, where).toBeGreaterThan(10);
  if (typeof code === 'string') expect(e.code, where).toBe(code);
  else if (code) expect(e.code, where).toMatch(code);
  return e;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe('bad input over HTTP', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let port: number;
  /** An evaluation made at the start: it must come through every attack unchanged. */
  let done: Evaluation;
  let doneLastSeq: number;

  /** One request over its own connection, with the exact path and headers given (no URL normalisation). */
  function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      // Content-Length always given for a body: Node would send a GET/DELETE body unframed.
      const headers = { ...(options.headers ?? {}), ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parse(text) });
        });
        res.on('error', reject);
      });
      req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer in time`)));
      req.on('error', reject);
      req.end(options.body);
    });
  }

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = J) => send('POST', path, { headers, body });

  /** Writes bytes on a raw socket and collects what comes back until the server closes or `waitMs` passes. */
  function rawExchange(data: string | Buffer, options: { waitMs?: number; halfClose?: boolean } = {}): Promise<{ text: string; closedByServer: boolean }> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      let settled = false;
      const finish = (closedByServer: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closedByServer });
      };
      socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
      socket.on('error', () => finish(true));
      socket.on('close', () => finish(true));
      const timer = setTimeout(() => finish(false), options.waitMs ?? 3000);
      socket.write(data);
      if (options.halfClose) socket.end();
    });
  }

  /** Parses the first HTTP response out of raw socket text. */
  function rawReply(text: string): Reply {
    const [head = '', ...rest] = text.split('\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const body = rest.join('\r\n\r\n');
    return { status, headers, text: body, json: parse(body) };
  }

  /** Every evaluation stored, counted from the (uncached) listing. */
  async function countEvaluations(): Promise<number> {
    let total = 0;
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: unknown[]; next_cursor: string | null } } = await api(
        server.url,
        'GET',
        `/api/evaluations?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      total += page.body.items.length;
      cursor = page.body.next_cursor;
    } while (cursor);
    return total;
  }

  beforeAll(async () => {
    server = await startTestServer({ workers: 1, maxQueueDepth: 1000 });
    port = Number(new URL(server.url).port);
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'print("sj\u00f6 \u202eRTL\u202c \ud83d\ude00 e\u0301")',
      tags: ['bad-input-keep'],
      metadata: { 'r\u00e9sum\u00e9 \u202e': '\ud83d\ude00', nested: { list: [1, 2.5, -0, null, true, 'x'] } },
    });
    expect(r.status).toBe(200);
    done = r.body;
    expect(done.status).toBe('completed');
    const events = await readSse(`${server.url}/api/evaluations/${done.id}/events`, { timeoutMs: 10_000 });
    doneLastSeq = Number(events[events.length - 1]!.id);
    expect(events[events.length - 1]!.event).toBe('done');
  });
  afterAll(async () => server?.stop());

  describe('Content-Type and body framing', () => {
    const bodyRoutes = ['/api/evaluations', '/api/evaluations/batch', '/api/syntax-check'];

    it.each([
      ['text/plain', 'print(1)'],
      ['application/x-www-form-urlencoded', 'code=print%281%29'],
      ['multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="code"\r\n\r\nprint(1)\r\n--XyZ--\r\n'],
      ['application/xml', '<code>print(1)</code>'],
      ['application/json-patch+json', '{"code":"print(1)"}'],
      ['application/json; charset=latin1', '{"code":"print(1)"}'],
      ['application/json; charset=utf-16', '{"code":"print(1)"}'],
      ['not a media type', '{"code":"print(1)"}'],
    ])('415 for Content-Type %s, on every route with a body', async (type, body) => {
      for (const path of [...bodyRoutes, `/api/evaluations/${done.id}/cancel`]) {
        const e = expectError(await post(path, body, { 'content-type': type }), 415, 'unsupported_media_type');
        expect(e.message).toMatch(/application\/json|UTF-8/);
      }
    });

    it('415 for a body without any Content-Type, and for a compressed body', async () => {
      for (const path of bodyRoutes) {
        expectError(await post(path, '{"code":"print(1)"}', {}), 415, 'unsupported_media_type');
        expectError(await post(path, '{"code":"print(1)"}', { ...J, 'content-encoding': 'gzip' }), 415, 'unsupported_media_type');
      }
    });

    it('400 missing_body for an empty body, whatever its declared type', async () => {
      for (const path of bodyRoutes) {
        expectError(await post(path, '', J), 400, 'missing_body');
        expectError(await post(path, '  \n ', J), 400, 'missing_body');
        expectError(await send('POST', path), 400, 'missing_body');
        expectError(await post(path, '', { 'content-type': 'text/plain' }), 400, 'missing_body');
      }
    });

    it.each([
      ['null', 'null'],
      ['an array', '[{"code":"print(1)"}]'],
      ['a string', '"print(1)"'],
      ['a number', '42'],
      ['a boolean', 'true'],
    ])('400 invalid_request when the body is %s', async (_what, body) => {
      for (const path of bodyRoutes) {
        const e = expectError(await post(path, body), 400, 'invalid_request');
        expect(e.message).toContain('expected object');
      }
    });

    it.each([
      ['invalid JSON', '{code: print(1)}', 'invalid_json', /not valid JSON/],
      ['truncated JSON', '{"code":"print(1)","tags":["a"', 'invalid_json', /not valid JSON/],
      ['a trailing comma', '{"code":"print(1)",}', 'invalid_json', /not valid JSON/],
      ['two JSON documents', '{"code":"a"}{"code":"b"}', 'invalid_json', /not valid JSON/],
      ['NaN', '{"code":"print(1)","timeout_s":NaN}', 'invalid_json', /not valid JSON/],
      ['a number beyond a double', '{"code":"print(1)","timeout_s":1e400}', 'invalid_json', /too large/],
      ['a huge negative number', '{"code":"print(1)","metadata":{"x":-1e999}}', 'invalid_json', /too large/],
      ['a duplicate key', '{"code":"print(1)","code":"print(2)"}', 'duplicate_key', /"code" more than once/],
      ['a duplicate key spelled with an escape', '{"code":"print(1)","\\u0063ode":"print(2)"}', 'duplicate_key', /more than once/],
      ['a nested duplicate key', '{"code":"print(1)","metadata":{"a":{"b":1,"b":2}}}', 'duplicate_key', /metadata\.a\.b/],
      ['a __proto__ key', '{"code":"print(1)","__proto__":{"admin":true}}', 'forbidden_key', /__proto__/],
      ['a nested __proto__ key', '{"code":"print(1)","metadata":{"__proto__":{"x":1}}}', 'forbidden_key', /metadata\.__proto__/],
      ['constructor.prototype', '{"code":"print(1)","metadata":{"constructor":{"prototype":{"x":1}}}}', 'forbidden_key', /constructor\.prototype/],
    ])('400 for %s', async (_what, body, code, message) => {
      const e = expectError(await post('/api/evaluations', body), 400, code);
      expect(e.message).toMatch(message);
    });

    it('400 for bytes that are not UTF-8 (not silently replaced)', async () => {
      const latin1 = Buffer.concat([Buffer.from('{"code":"print(\''), Buffer.from([0xe9, 0xff]), Buffer.from('\')"}')]);
      const e = expectError(await post('/api/evaluations', latin1), 400, 'invalid_json');
      expect(e.message).toContain('UTF-8');
    });

    it('400 (fast, no crash) for very deep nesting anywhere in the body', async () => {
      const started = Date.now();
      for (const body of [
        '['.repeat(1_000_000) + ']'.repeat(1_000_000),
        `{"code":"print(1)","metadata":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
        `{"code":"print(1)","x":${'['.repeat(3_000_000)}`,
        `{"evaluations":[${'['.repeat(70)}${']'.repeat(70)}]}`,
      ]) {
        const e = expectError(await post('/api/evaluations', body), 400, 'nesting_too_deep');
        expect(e.message).toContain('nest at most 32 levels');
      }
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('413 for a body over the limit: by Content-Length, and chunked', async () => {
      expectError(await post('/api/evaluations', JSON.stringify({ code: '#'.repeat(15 * 1024 * 1024) })), 413, 'payload_too_large');
      const declared = await rawExchange(
        `POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{"code":`,
      );
      expectError(rawReply(declared.text), 413, 'payload_too_large');
      const chunk = `100000\r\n${'a'.repeat(0x100000)}\r\n`;
      const chunked = await rawExchange(
        `POST /api/evaluations/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(15)}`,
      );
      expectError(rawReply(chunked.text), 413, 'payload_too_large');
    });
  });

  describe('fields of POST /api/evaluations', () => {
    const wrongTypes: unknown[] = [null, true, 'text', '5', '', [], {}, [1], -1, 0, 1.5, 1e9, Number.MAX_SAFE_INTEGER + 2];
    const fields: Record<string, { valid: unknown; invalid: unknown[] }> = {
      code: { valid: 'print(1)', invalid: [null, 1, true, [], {}, ['print(1)'], '', 'print(1)\u0000', 'x\ud800', '\udfffx', '#'.repeat(1_048_577)] },
      stdin: { valid: 'in', invalid: [null, 1, true, [], {}, 'a\u0000b', 'a\ud83d', 'x'.repeat(4_194_305)] },
      // Strings that name no environment get their own code (see the test after this one).
      environment: { valid: 'python', invalid: [null, 1, ['python'], 'p'.repeat(65)] },
      sandbox: { valid: 'bubblewrap', invalid: [null, 1, '', 'docker', 'Bubblewrap', ['bubblewrap']] },
      tags: {
        valid: ['a'],
        invalid: [
          null,
          'a',
          1,
          {},
          [1],
          [null],
          [''],
          ['a b'],
          ['-a'],
          ['\u202ea'],
          ['a\u0000'],
          ['t'.repeat(65)],
          Array.from({ length: 33 }, (_, i) => `t${i}`),
        ],
      },
      metadata: {
        valid: {},
        invalid: [null, 'x', 1, [], [1], { x: 'a\u0000' }, { 'k\ud800': 1 }, { x: 'v'.repeat(17_000) }, JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`)],
      },
      timeout_s: { valid: 1, invalid: [...wrongTypes.filter((v) => v !== 1.5 && v !== 0.5), 0.05, 601, 1e308] },
      memory_mb: { valid: 64, invalid: [...wrongTypes, 15, 8193, 64.5] },
      cpus: { valid: 1, invalid: [...wrongTypes.filter((v) => v !== 1.5), 0.05, 8.5, 9] },
      max_processes: { valid: 8, invalid: [...wrongTypes, 1025, 2.5] },
      max_output_bytes: { valid: 2048, invalid: [...wrongTypes, 1023, 16_777_217] },
      scratch_mb: { valid: 8, invalid: [...wrongTypes, 1025, 0.5] },
    };

    it('400 unknown_environment for a string naming no environment, alone or in a batch', async () => {
      const before = await countEvaluations();
      for (const value of ['', 'ruby', 'PYTHON', 'python\u0000']) {
        const e = expectError(await post('/api/evaluations', JSON.stringify({ code: 'print(1)', environment: value })), 400, 'unknown_environment');
        expect(e.message).toContain('known environments: python, python-data');
        const batch = await post('/api/evaluations/batch', JSON.stringify({ evaluations: [{ code: 'print(1)' }, { code: 'print(1)', environment: value }] }));
        expect(expectError(batch, 400, 'unknown_environment').message).toMatch(/^evaluations\[1\]: /);
      }
      expect(await countEvaluations()).toBe(before);
    });

    it.each(Object.entries(fields))('400 naming %s for each wrong type or out-of-range value', async (field, spec) => {
      const before = await countEvaluations();
      for (const value of spec.invalid) {
        const body = JSON.stringify({ code: 'print(1)', [field]: value });
        const e = expectError(await post('/api/evaluations', body), 400, 'invalid_request');
        expect(e.message, `${field}=${JSON.stringify(value)?.slice(0, 60)}`).toContain(field);
        expect((e.details as Array<{ path: string[] }>)[0]!.path[0]).toBe(field);
        // The same value inside a batch item names the item too.
        const batch = await post('/api/evaluations/batch', JSON.stringify({ evaluations: [{ code: 'print(1)' }, { code: 'print(1)', [field]: value }] }));
        const be = expectError(batch, 400, 'invalid_request');
        expect((be.details as Array<{ path: string[] }>)[0]!.path.slice(0, 3)).toEqual(['evaluations', '1', field]);
      }
      expect(await countEvaluations()).toBe(before);
    });

    it('400 for unknown fields (top level, and in a batch and its items)', async () => {
      for (const key of ['evil', 'Code', 'code ', 'id', 'status', 'constructor', '\u202ecode', '']) {
        const e = expectError(await post('/api/evaluations', JSON.stringify({ code: 'print(1)', [key]: 1 })), 400, 'invalid_request');
        expect(e.message).toContain('Unrecognized key');
      }
      expectError(await post('/api/evaluations/batch', JSON.stringify({ evaluations: [{ code: 'x' }], wait: true })), 400, 'invalid_request');
      expectError(await post('/api/evaluations/batch', JSON.stringify({ evaluations: [{ code: 'x', evil: 1 }] })), 400, 'invalid_request');
    });

    it('keeps valid unicode exactly (RTL marks, combining characters, astral characters)', async () => {
      const again = await send('GET', `/api/evaluations/${done.id}`);
      expect(again.status).toBe(200);
      expect(again.json).toEqual(done);
      expect(done.code).toBe('print("sj\u00f6 \u202eRTL\u202c \ud83d\ude00 e\u0301")');
      expect(done.stdout).toBe('sj\u00f6 \u202eRTL\u202c \ud83d\ude00 e\u0301\n');
      expect(Object.keys(done.metadata)).toContain('r\u00e9sum\u00e9 \u202e');
    });
  });

  describe('batch', () => {
    it('is all or nothing: one bad item rejects the whole batch and creates nothing', async () => {
      const before = await countEvaluations();
      const items = Array.from({ length: 50 }, (_, i) => ({ code: `print(${i})`, tags: ['batch-mixed'] }));
      for (const bad of [{ code: '' }, { code: 'x', cpus: 99 }, { code: 'x', tags: ['a b'] }, null, 'print(1)', [], { code: 'x', evil: 1 }]) {
        const r = await post('/api/evaluations/batch', JSON.stringify({ evaluations: [...items.slice(0, 25), bad, ...items.slice(25)] }));
        const e = expectError(r, 400, 'invalid_request');
        expect((e.details as Array<{ path: string[] }>)[0]!.path.slice(0, 2)).toEqual(['evaluations', '25']);
      }
      expect(await countEvaluations()).toBe(before);
      const listed = await api<{ items: unknown[] }>(server.url, 'GET', '/api/evaluations?tags=batch-mixed');
      expect(listed.body.items).toEqual([]);
    });

    it('400 for an empty, oversized or non-array batch, with a bounded message for many bad items', async () => {
      expectError(await post('/api/evaluations/batch', '{"evaluations":[]}'), 400, 'invalid_request');
      expectError(
        await post('/api/evaluations/batch', JSON.stringify({ evaluations: Array.from({ length: 501 }, () => ({ code: 'x' })) })),
        400,
        'invalid_request',
      );
      for (const v of ['null', '{}', '"x"', '1', '{"code":"x"}'])
        expectError(await post('/api/evaluations/batch', `{"evaluations":${v}}`), 400, 'invalid_request');
      expectError(await post('/api/evaluations/batch', '{}'), 400, 'invalid_request');
      const manyBad = await post(
        '/api/evaluations/batch',
        JSON.stringify({ evaluations: Array.from({ length: 500 }, () => ({ code: '', cpus: 'x', tags: 'y', evil: 1 })) }),
      );
      const e = expectError(manyBad, 400, 'invalid_request');
      expect(e.message.length).toBeLessThan(2000);
      expect(e.message).toMatch(/and \d+ more problems/);
      expect((e.details as unknown[]).length).toBeLessThanOrEqual(50);
    });
  });

  describe('query strings', () => {
    it.each([
      'limit=abc',
      'limit=1e9',
      'limit=1e1',
      'limit=0x10',
      'limit=-1',
      'limit=1.5',
      'limit=',
      'limit=0',
      'limit=201',
      'limit=%201',
      'limit=99999999999999999999',
      'limit=1&limit=2',
      'status=queued&status=failed',
      'status[]=queued',
      'status[0]=queued',
      'status=exploded',
      'status=queued,,bogus',
      'tags=a&tags=b',
      'tags=%00',
      'q=%00',
      `q=${'q'.repeat(201)}`,
      'unknown=1',
      '__proto__=1',
      'constructor=1',
      'cursor=not-a-cursor',
      'cursor=%00',
      `cursor=${'A'.repeat(201)}`,
      `cursor=${Buffer.from('[1,2]').toString('base64url')}`,
      `cursor=${Buffer.from('{"__proto__":1}').toString('base64url')}`,
      `cursor=${Buffer.from('[1e400,"ev_x"]').toString('base64url')}`,
      `cursor=${Buffer.from('[1,"\\u0000"]').toString('base64url')}`,
      `cursor=${Buffer.from('[1,"../../x"]').toString('base64url')}`,
      `cursor=${Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64url')}`,
    ])('GET /api/evaluations?%s → 400', async (query) => {
      const e = expectError(await send('GET', `/api/evaluations?${query}`), 400, /^invalid_request$|^invalid_cursor$/);
      if (query.startsWith('cursor=') && !query.includes('%00') && !query.endsWith('A'.repeat(201))) expect(e.code).toBe('invalid_cursor');
    });

    it('explains repeated parameters and numbers that are not plain digits', async () => {
      expect(expectError(await send('GET', '/api/evaluations?limit=1&limit=2'), 400).message).toContain('"limit" given more than once');
      expect(expectError(await send('GET', '/api/evaluations?limit=1e9'), 400).message).toContain('limit must be a whole number from 1 to 200');
      const many = Array.from({ length: 600 }, (_, i) => `unknown_parameter_${i}=1`).join('&');
      expect(expectError(await send('GET', `/api/evaluations?${many}`), 400, 'invalid_request').message.length).toBeLessThan(1000);
    });

    it('accepts odd but valid filters (a search is only a search)', async () => {
      for (const query of ['q=%25%5F%5C', 'q=%E2%80%AE', 'q=%F0%9F%98%80', 'tags=a,,b,', 'status=', 'q=', 'tags=', 'limit=200', 'limit=007']) {
        const r = await send('GET', `/api/evaluations?${query}`);
        expect(r.status, `${query}: ${r.text.slice(0, 200)}`).toBe(200);
      }
    });

    it.each([
      'wait=yes',
      'wait=TRUE',
      'wait=',
      'wait_s=-1',
      'wait=true&wait_s=-1',
      'wait_s=abc',
      'wait_s=1e2',
      'wait_s=Infinity',
      'wait_s=NaN',
      'wait_s=',
      'wait_s=601',
      'wait=true&wait=false',
      'wait_s=1&wait_s=2',
      'wait=false&wait_s=5',
      'foo=1',
    ])('POST /api/evaluations?%s → 400, nothing created', async (query) => {
      const before = await countEvaluations();
      expectError(await post(`/api/evaluations?${query}`, '{"code":"print(1)"}'), 400, 'invalid_request');
      expect(await countEvaluations()).toBe(before);
    });

    it.each([
      '/api/stats?minutes=abc',
      '/api/stats?minutes=0',
      '/api/stats?minutes=1441',
      '/api/stats?bucket_s=1e9',
      '/api/stats?bucket_s=4',
      '/api/stats?minutes=-5',
      '/api/stats?minutes=1440&bucket_s=5',
      '/api/stats?foo=1',
      '/api/stats?minutes=1&minutes=2',
      '/api/queue?x=1',
      '/api/workers?x=1',
      '/api/config?x=1',
      '/api/evaluations/batch?wait=true',
      '/api/evaluations/ev_x?x=1',
      '/api/evaluations/ev_x/cancel?force=1',
      '/api/events?x=1',
    ])('GET/POST %s → 400', async (path) => {
      const method = path.includes('/cancel') || path.includes('/batch') ? 'POST' : 'GET';
      const r = await send(method, path, method === 'POST' ? { headers: J, body: '{"evaluations":[{"code":"x"}]}' } : {});
      expectError(r, 400, 'invalid_request');
    });

    it('a full day of stats in 10 s buckets is fine', async () => {
      expect((await send('GET', '/api/stats?minutes=1440&bucket_s=10')).status).toBe(200);
    });
  });

  describe('path ids', () => {
    const bad = [
      'a'.repeat(65),
      'a'.repeat(101),
      'a'.repeat(5000),
      '..%2F..%2Fetc%2Fpasswd',
      'a%2Fb',
      '%2e%2e',
      '..',
      '.',
      '%00',
      'ev_x%00',
      '%E2%80%AE',
      '%F0%9F%98%80',
      'ev%20x',
      "ev'x",
      'ev%22x',
      '%3Cscript%3E',
      'ev_x%0D%0AX-Injected:%201',
    ];
    it.each(bad)('/api/evaluations/%s → 400 on every id route', async (id) => {
      for (const [method, suffix] of [
        ['GET', ''],
        ['POST', '/cancel'],
        ['GET', '/events'],
      ] as const) {
        const r = await send(method, `/api/evaluations/${id}${suffix}`);
        expect([400, 404], `${method} ${id}${suffix}: ${r.status} ${r.text.slice(0, 200)}`).toContain(r.status);
        expectError(r, r.status, r.status === 400 ? 'invalid_request' : 'not_found');
      }
    });

    it('400 invalid_url for a path that is not percent-encoded UTF-8', async () => {
      for (const id of ['%', '%zz', '%ED%A0%80', '%C3', '%FF']) {
        for (const [method, suffix] of [
          ['GET', ''],
          ['POST', '/cancel'],
          ['GET', '/events'],
        ] as const) {
          expectError(await send(method, `/api/evaluations/${id}${suffix}`), 400, 'invalid_url');
        }
      }
    });

    it('raw bytes that are not ASCII in the request line get a JSON answer', async () => {
      const r = await rawExchange(
        Buffer.concat([
          Buffer.from('GET /api/evaluations/'),
          Buffer.from([0xff, 0xc3, 0x28]),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        ]),
      );
      const reply = rawReply(r.text);
      expect([400, 404]).toContain(reply.status);
      expectError(reply, reply.status);
    });

    it('404 for a well-formed id that does not exist; cancel of unknown and finished ids', async () => {
      expectError(await send('GET', '/api/evaluations/ev_01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 404, 'not_found');
      expectError(await send('POST', '/api/evaluations/ev_01ZZZZZZZZZZZZZZZZZZZZZZZZ/cancel'), 404, 'not_found');
      for (let i = 0; i < 2; i++) {
        const e = expectError(await send('POST', `/api/evaluations/${done.id}/cancel`), 409, 'already_terminal');
        expect(e.message).toContain('completed');
      }
      // Any JSON body on cancel is ignored; a broken one is still a 400.
      expectError(await post(`/api/evaluations/${done.id}/cancel`, '{"reason":'), 400, 'invalid_json');
    });
  });

  describe('methods', () => {
    it.each([
      ['DELETE', '/api/evaluations'],
      ['PUT', '/api/evaluations'],
      ['PATCH', '/api/evaluations/ev_x'],
      ['DELETE', '/api/evaluations/ev_x'],
      ['GET', '/api/evaluations/ev_x/cancel'],
      ['PUT', '/api/evaluations/ev_x/cancel'],
      ['POST', '/api/evaluations/ev_x/events'],
      ['POST', '/healthz'],
      ['DELETE', '/api/queue'],
      ['POST', '/api/events'],
      ['GET', '/api/syntax-check'],
      ['PUT', '/api/evaluations/batch'],
    ])('405 with Allow for %s %s (the body is not even read)', async (method, path) => {
      const r = await send(method, path, { headers: J, body: '{not json' });
      expectError(r, 405, 'method_not_allowed');
      expect(String(r.headers.allow)).toMatch(/GET|POST/);
    });

    it('404 JSON for unknown routes, whatever the method', async () => {
      for (const method of ['GET', 'POST', 'DELETE', 'PUT']) {
        expectError(await send(method, '/api/nothing-here', method === 'GET' ? {} : { headers: J, body: '{bad' }), 404, 'not_found');
      }
      expectError(await send('GET', '/api'), 404, 'not_found');
      expectError(await send('GET', `/api/${'x'.repeat(5000)}`), 404, 'not_found');
    });

    it('OPTIONS answers 204 with Allow; HEAD answers headers only, quickly, even on event streams', async () => {
      const options = await send('OPTIONS', '/api/evaluations');
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
      expectError(await send('OPTIONS', '/api/nothing-here'), 404, 'not_found');
      for (const path of ['/healthz', '/api/evaluations', `/api/evaluations/${done.id}`, `/api/evaluations/${done.id}/events`, '/api/events']) {
        const r = await send('HEAD', path, { timeoutMs: 5000 });
        expect(r.status, path).toBe(200);
        expect(r.text).toBe('');
      }
      expect((await send('HEAD', '/api/evaluations/ev_nope')).status).toBe(404);
    });

    it('answers JSON whatever the Accept header says', async () => {
      for (const accept of ['application/xml', 'text/html', 'text/event-stream', '*/*;q=0', 'garbage;;;', '']) {
        const ok = await send('GET', `/api/evaluations/${done.id}`, { headers: { accept } });
        expect(ok.status).toBe(200);
        expect((ok.json as Evaluation).id).toBe(done.id);
        expectError(await send('GET', '/api/evaluations/ev_nope', { headers: { accept } }), 404, 'not_found');
      }
    });
  });

  describe('event streams', () => {
    it.each(['abc', '-1', '1.5', '1e3', '99999999999999999999', '0x10', ' 1 2 '])('400 for Last-Event-ID %j', async (id) => {
      expectError(await send('GET', `/api/evaluations/${done.id}/events`, { headers: { 'last-event-id': id } }), 400, 'invalid_request');
    });

    it('400 for an event id the evaluation does not have, by header or ?after=', async () => {
      expectError(
        await send('GET', `/api/evaluations/${done.id}/events`, { headers: { 'last-event-id': String(doneLastSeq + 1) } }),
        400,
        'invalid_last_event_id',
      );
      expectError(await send('GET', `/api/evaluations/${done.id}/events?after=999999`), 400, 'invalid_last_event_id');
      for (const q of ['after=-1', 'after=abc', 'after=1e3', 'after=1&after=2', 'zzz=1'])
        expectError(await send('GET', `/api/evaluations/${done.id}/events?${q}`), 400, 'invalid_request');
    });

    it('204 after the last event of a finished evaluation (EventSource stops reconnecting); the rest otherwise', async () => {
      const end = await send('GET', `/api/evaluations/${done.id}/events`, { headers: { 'last-event-id': String(doneLastSeq) }, timeoutMs: 5000 });
      expect(end.status).toBe(204);
      const rest = await readSse(`${server.url}/api/evaluations/${done.id}/events`, { lastEventId: String(doneLastSeq - 1), timeoutMs: 5000 });
      expect(rest.map((m) => m.event)).toEqual(['done']);
      const blank = await readSse(`${server.url}/api/evaluations/${done.id}/events`, { lastEventId: ' ', timeoutMs: 5000 });
      expect(blank.length).toBe(doneLastSeq);
    });

    it('the global feed refuses a Last-Event-ID it never sent (400), and a blank one means live only', async () => {
      const garbage = await send('GET', '/api/events', { headers: { 'last-event-id': 'garbage' }, timeoutMs: 5000 });
      expect(garbage.status).toBe(400);
      expect(garbage.json).toMatchObject({ error: { code: 'invalid_last_event_id' } });
      const messages = await readSse(`${server.url}/api/events`, { lastEventId: ' ', until: (m) => m.event === 'ready', timeoutMs: 5000 });
      expect(messages[0]!.event).toBe('ready');
    });
  });

  describe('raw connections', () => {
    it('malformed HTTP gets a JSON 400/431 and the connection is closed', async () => {
      const cases: Array<[string, number, string]> = [
        ['HELLO\r\n\r\n', 400, 'bad_http_request'],
        ['GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'bad_http_request'],
        [
          'POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          400,
          'bad_http_request',
        ],
        ['FOO /api/evaluations HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_http_request'],
        [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
        ['POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n', 400, 'bad_http_request'],
      ];
      for (const [data, status, code] of cases) {
        const r = await rawExchange(data);
        expect(r.closedByServer, data.slice(0, 60)).toBe(true);
        expectError(rawReply(r.text), status, code);
      }
    });

    it('requests cut off mid-body create nothing and break nothing', async () => {
      const before = await countEvaluations();
      const body = JSON.stringify({ code: 'print("cut")', tags: ['cut-off'] });
      for (let i = 0; i < 5; i++) {
        // Client disappears in the middle of the body.
        const socket = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(
          `POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10 + i)}`,
        );
        await new Promise((r) => setTimeout(r, 20));
        socket.destroy();
      }
      // Client half-closes after sending less than its Content-Length.
      await rawExchange(`POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 10}\r\n\r\n${body}`, {
        halfClose: true,
        waitMs: 2000,
      });
      // Body longer than Content-Length: the declared part is the request; the rest is junk.
      const over = await rawExchange(`POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n${body}`);
      expectError(rawReply(over.text), 400, 'invalid_json');
      await new Promise((r) => setTimeout(r, 100));
      expect(await countEvaluations()).toBe(before);
      expect((await api<{ items: unknown[] }>(server.url, 'GET', '/api/evaluations?tags=cut-off')).body.items).toEqual([]);
    });

    it('slow, stalled clients (slowloris) neither block others nor stay forever', async () => {
      expect(server.app.server.requestTimeout).toBeGreaterThan(0);
      expect(server.app.server.requestTimeout).toBeLessThanOrEqual(120_000);
      expect(server.app.server.headersTimeout).toBeGreaterThan(0);
      const sockets: net.Socket[] = [];
      try {
        for (let i = 0; i < 6; i++) {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('error', () => undefined);
          sockets.push(socket);
          socket.write(
            i % 2 === 0
              ? 'POST /api/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"co'
              : 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ',
          );
        }
        for (let tick = 0; tick < 5; tick++) {
          for (const s of sockets) s.write('a');
          const health = await send('GET', '/healthz', { timeoutMs: 3000 });
          expect(health.status).toBe(200);
          await new Promise((r) => setTimeout(r, 100));
        }
        expect((await send('GET', `/api/evaluations/${done.id}`, { timeoutMs: 3000 })).status).toBe(200);
      } finally {
        for (const s of sockets) s.destroy();
      }
    });
  });

  it(
    'fuzz: a few hundred seeded random mutations never get a 5xx or a malformed error',
    { timeout: Number(process.env.CRUCIBLE_FUZZ_N ?? 0) > 400 ? 600_000 : 60_000 },
    async () => {
      // Fixed by default; CRUCIBLE_FUZZ_SEED / CRUCIBLE_FUZZ_N explore further by hand.
      let seed = Number(process.env.CRUCIBLE_FUZZ_SEED ?? 0x5eed_c0de);
      const rounds = Number(process.env.CRUCIBLE_FUZZ_N ?? 400);
      const random = () => {
        // mulberry32: small, fast, deterministic
        seed = (seed + 0x6d2b79f5) | 0;
        let t = seed;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const oddStrings = [
        '',
        ' ',
        '\u0000',
        '\ud800',
        '\udfff',
        '\u202e',
        '\ud83d\ude00',
        'e\u0301',
        '"',
        '\\',
        '\n',
        '__proto__',
        'constructor',
        'x'.repeat(70),
        '1e400',
        'NaN',
        '-0',
        '<script>',
      ];
      const oddValues: unknown[] = [null, true, false, 0, -1, 0.5, 1e9, -1e-9, 2 ** 53 + 1, [], {}, [null], { a: { b: [1] } }, ...oddStrings];
      const base = () => ({
        code: 'print(1)',
        stdin: '',
        timeout_s: 2,
        memory_mb: 64,
        cpus: 1,
        max_processes: 8,
        max_output_bytes: 2048,
        scratch_mb: 8,
        tags: ['fuzz'],
        metadata: { k: 'v' },
        environment: 'python',
        sandbox: 'bubblewrap',
      });
      const fields = Object.keys(base());

      const mutateObject = (): unknown => {
        const o: Record<string, unknown> = base();
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          const op = random();
          const f = pick(fields);
          if (op < 0.3) delete o[f];
          else if (op < 0.8) o[f] = pick(oddValues);
          else o[pick(oddStrings)] = pick(oddValues);
        }
        return o;
      };
      const mutateText = (text: string): string => {
        let t = text;
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          const at = Math.floor(random() * (t.length + 1));
          const op = random();
          if (op < 0.25) t = t.slice(0, at);
          else if (op < 0.5) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(random() * 5));
          else if (op < 0.75)
            t = t.slice(0, at) + pick(['{', '}', '[', ']', '"', ',', ':', '\\u0000', '\\ud800', '"code":"x",', '1e999', ' ', '\u00e9']) + t.slice(at);
          else t = t.slice(0, at) + t.slice(at, at + 20) + t.slice(at);
        }
        return t;
      };
      const body = (): string => {
        const r = random();
        if (r < 0.35) return JSON.stringify(mutateObject());
        if (r < 0.55)
          return JSON.stringify({ evaluations: Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.5 ? base() : mutateObject())) });
        if (r < 0.9) return mutateText(JSON.stringify(random() < 0.5 ? base() : { evaluations: [base(), base()] }));
        return pick(['', 'null', '[]', '"x"', '{}', '{"code":"print(1)","code":"x"}', '[[[[[[', '\u00ff\u00fe']);
      };
      const ids = ['ev_x', 'ev_01ZZZZZZZZZZZZZZZZZZZZZZZZ', '%2e%2e', 'a%2Fb', '%00', '%ff', 'x'.repeat(120), '%E2%80%AE', ''];
      const paths = [
        '/api/evaluations',
        '/api/evaluations/batch',
        '/api/syntax-check',
        '/api/queue',
        '/api/workers',
        '/api/stats',
        '/api/config',
        '/healthz',
        '/readyz',
        '/api/nothing',
        '/docs/json',
        ...ids.flatMap((id) => [`/api/evaluations/${id}`, `/api/evaluations/${id}/cancel`, `/api/evaluations/${id}/events`]),
      ];
      const params = ['limit', 'status', 'tags', 'q', 'cursor', 'wait', 'wait_s', 'after', 'minutes', 'bucket_s', 'x', '__proto__'];
      // A valid wait holds the request until its (tiny, 2 s-limited) program ends: bounded.
      const paramValues = ['', 'abc', '-1', '1e9', '0', '1', '5', '200', 'queued', 'a,b', '%00', '%ff', '%E2%80%AE', 'false', 'yes', 'Infinity', 'W10'];
      const types = [
        'application/json',
        'application/json',
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        undefined,
      ];

      const created: string[] = [];
      const outcomes = new Map<string, number>();
      const started = Date.now();
      let count = 0;
      const query = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => `${pick(params)}=${pick(paramValues)}`).join('&');
      const request = (): { method: string; path: string } => {
        const r = random();
        // Mostly the routes that take input, so mutations get past routing to parsing and validation.
        if (r < 0.45) return { method: 'POST', path: random() < 0.8 ? '/api/evaluations' : `/api/evaluations?${query()}` };
        if (r < 0.6) return { method: 'POST', path: '/api/evaluations/batch' };
        if (r < 0.65) return { method: 'POST', path: '/api/syntax-check' };
        if (r < 0.8) return { method: 'GET', path: `${pick(['/api/evaluations', '/api/stats', '/api/evaluations/ev_x/events'])}?${query()}` };
        // Anything else: any method on any path, with or without a query.
        const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
        const path = pick(paths);
        return { method, path: random() < 0.5 ? `${path}?${query()}` : path };
      };
      for (let i = 0; i < rounds; i++) {
        const { method, path } = request();
        const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
        const type = random() < 0.85 ? 'application/json' : pick(types);
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        if (random() < 0.1) headers['last-event-id'] = pick(['1', 'abc', '-1', '99999999999999999999']);
        const r = await send(method, path, withBody ? { headers, body: body(), timeoutMs: 15_000 } : { headers, timeoutMs: 15_000 });
        count++;
        const label = `#${i} ${method} ${path.slice(0, 100)} → ${r.status} ${r.text.slice(0, 200)}`;
        expect(r.status, label).toBeGreaterThanOrEqual(200);
        expect(r.status, label).toBeLessThan(500);
        if (r.status >= 400 && method !== 'HEAD') expectError(r, r.status);
        const kind = `${r.status} ${(r.json as ErrorBody | undefined)?.error?.code ?? ''}`.trim();
        outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
        if (r.status === 202 && method === 'POST') {
          const json = r.json as { id?: string; ids?: string[] };
          created.push(...(json.ids ?? (json.id ? [json.id] : [])));
        }
      }
      expect(count).toBe(rounds);
      if (process.env.CRUCIBLE_FUZZ_REPORT) console.log([...outcomes].sort((a, b) => b[1] - a[1]));
      // The mutations reach past the first gate: many different answers, some of them successes.
      expect(outcomes.size).toBeGreaterThanOrEqual(10);
      expect([...outcomes.keys()].some((k) => k.startsWith('2'))).toBe(true);
      if (rounds <= 400) expect(Date.now() - started).toBeLessThan(20_000);
      // Whatever the fuzz created is real and intact; cancel it so it does not hold the worker.
      for (const id of created) {
        const r = await send('POST', `/api/evaluations/${id}/cancel`);
        expect([200, 409], r.text).toContain(r.status);
      }
    },
  );

  it('is still healthy and still runs evaluations after all of that', async () => {
    expect((await send('GET', '/healthz')).status).toBe(200);
    expect((await send('GET', '/readyz')).status).toBe(200);
    const again = await send('GET', `/api/evaluations/${done.id}`);
    expect(again.json).toEqual(done);
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'import sys\nprint(sys.stdin.read()[::-1])',
      stdin: 'olleh',
      timeout_s: 10,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'completed', stdout: 'hello\n' });
  });
});
