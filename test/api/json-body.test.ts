/** The strict JSON body scanner (src/api/json-body.ts), without an HTTP server. */
import { describe, expect, it } from 'vitest';
import { assertIdentityEncoding, assertUtf8Charset, MAX_BODY_DEPTH, parseJsonBody, unsupportedMediaType } from '../../src/api/json-body.js';
import { CrucibleError } from '../../src/domain/errors.js';
import { expectThrowsCrucible } from '../helpers/expect-error.js';

const body = (text: string) => Buffer.from(text, 'utf8');
const parse = (text: string) => parseJsonBody(body(text));
/** `levels` nested arrays around `inner`. */
const nested = (levels: number, inner = '') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

describe('parseJsonBody: valid bodies are parsed exactly', () => {
  it.each([
    [
      '{"code":"print(1)","tags":["a","b"],"metadata":{"n":1.5,"ok":true,"none":null}}',
      { code: 'print(1)', tags: ['a', 'b'], metadata: { n: 1.5, ok: true, none: null } },
    ],
    ['[1,-2,0.1,1e308,-1.7976931348623157e308,5e-324,1e-400]', [1, -2, 0.1, 1e308, -1.7976931348623157e308, 5e-324, 0]],
    ['{"text":"caf\\u00e9 ☕ \\"quoted\\" \\\\ [ { not nesting"}', { text: 'café ☕ "quoted" \\ [ { not nesting' }],
    ['{"a\\\\":1,"a\\\\\\"":2,"a":3}', { 'a\\': 1, 'a\\"': 2, a: 3 }],
    ['[{"k":1},{"k":2}]', [{ k: 1 }, { k: 2 }]],
    ['{"constructor":{"name":"x"},"prototype":1,"proto":2}', { constructor: { name: 'x' }, prototype: 1, proto: 2 }],
    ['"just a string"', 'just a string'],
    ['42', 42],
    [' \n\t{}\n', {}],
  ])('%s', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it('returns undefined for an empty or all-whitespace body', () => {
    expect(parseJsonBody(Buffer.alloc(0))).toBeUndefined();
    expect(parse(' \r\n\t ')).toBeUndefined();
  });

  it('accepts exactly MAX_BODY_DEPTH levels, and brackets inside strings do not count', () => {
    expect(parse(nested(MAX_BODY_DEPTH, '1'))).toBeInstanceOf(Array);
    expect(parse(`{"s":"${'['.repeat(500)}"}`)).toEqual({ s: '['.repeat(500) });
  });
});

describe('parseJsonBody: refusals', () => {
  it.each([
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['an invalid byte', [0x22, 0xff, 0x22]],
    ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
  ])('invalid UTF-8 (%s) → 400 invalid_json', async (_what, bytes) => {
    const err = await expectThrowsCrucible(() => parseJsonBody(Buffer.from(bytes)), 'invalid_json', 400);
    expect(err.message).toContain('UTF-8');
  });

  it.each(['{"a":}', '{"a":1,}', "{'a':1}", '[1 2]', '{"a":1', 'NaN'])('unparsable %s → 400 invalid_json', async (text) => {
    const err = await expectThrowsCrucible(() => parse(text), 'invalid_json', 400);
    expect(err.message).toMatch(/^The body is not valid JSON: /);
  });

  it('nesting deeper than the limit → 400 nesting_too_deep, before parsing (any size)', async () => {
    await expectThrowsCrucible(() => parse(nested(MAX_BODY_DEPTH + 1, '1')), 'nesting_too_deep', 400);
    await expectThrowsCrucible(() => parse(`{"a":${'{"b":'.repeat(MAX_BODY_DEPTH)}1${'}'.repeat(MAX_BODY_DEPTH + 1)}`), 'nesting_too_deep', 400);
    const startedAt = Date.now();
    await expectThrowsCrucible(() => parse('['.repeat(5_000_000)), 'nesting_too_deep', 400);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"a":1,"\\u0061":2}', ['a']],
    ['{"outer":{"b":1,"c":2,"b":3}}', ['outer', 'b']],
    ['[{"x":1},{"x":1,"x":2}]', ['1', 'x']],
    [`{${Array.from({ length: 20 }, (_, i) => `"k${i}":${i}`).join(',')},"k7":0}`, ['k7']],
  ])('duplicate key %s → 400 duplicate_key at %j', async (text, path) => {
    const err = await expectThrowsCrucible(() => parse(text), 'duplicate_key', 400);
    expect(err.details).toEqual({ path });
  });

  it.each([
    ['{"__proto__":{"isAdmin":true}}', ['__proto__']],
    ['{"metadata":{"__proto__":1}}', ['metadata', '__proto__']],
    ['{"\\u005f_proto__":1}', ['__proto__']],
    ['[{"a":{"constructor":{"prototype":{"x":1}}}}]', ['0', 'a', 'constructor', 'prototype']],
  ])('forbidden key in %s → 400 forbidden_key at %j', async (text, path) => {
    const err = await expectThrowsCrucible(() => parse(text), 'forbidden_key', 400);
    expect(err.details).toEqual({ path });
  });

  it.each([
    ['{"timeout_s":1e400}', ['timeout_s']],
    ['[0,-1E400]', ['1']],
    ['1e309', []],
    [`{"big":${'9'.repeat(400)}}`, ['big']],
  ])('a number beyond a double in %s → 400 invalid_json at %j', async (text, path) => {
    const err = await expectThrowsCrucible(() => parse(text.slice(0, 500)), 'invalid_json', 400);
    expect(err.message).toContain('too large to represent');
    expect(err.details).toEqual({ path });
  });

  it('numbers with many digits that fit a double are accepted', () => {
    expect(parse(`[${'9'.repeat(300)}, 0.${'0'.repeat(400)}1]`)).toEqual([Number('9'.repeat(300)), 0]);
  });
});

describe('media type and encoding', () => {
  it.each([undefined, 'application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; charset=utf8'])(
    'charset of %s is accepted',
    (contentType) => {
      expect(assertUtf8Charset(contentType)).toBeUndefined();
    },
  );

  it.each(['application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset='])(
    '%s → 415 unsupported_media_type',
    async (contentType) => {
      await expectThrowsCrucible(() => assertUtf8Charset(contentType), 'unsupported_media_type', 415);
    },
  );

  it.each([undefined, '', 'identity', ' Identity '])('Content-Encoding %j is accepted', (encoding) => {
    expect(assertIdentityEncoding(encoding)).toBeUndefined();
  });

  it.each(['gzip', 'br', 'deflate, gzip'])('Content-Encoding %s → 415 unsupported_media_type', async (encoding) => {
    const err = await expectThrowsCrucible(() => assertIdentityEncoding(encoding), 'unsupported_media_type', 415);
    expect(err.message).toContain(encoding);
  });

  it('unsupportedMediaType names the type it refused, or the missing header', () => {
    const named = unsupportedMediaType('text/plain');
    expect(named).toBeInstanceOf(CrucibleError);
    expect({ code: named.code, httpStatus: named.httpStatus }).toEqual({ code: 'unsupported_media_type', httpStatus: 415 });
    expect(named.message).toContain('text/plain');
    expect(unsupportedMediaType(undefined).message).toContain('no Content-Type');
  });
});
