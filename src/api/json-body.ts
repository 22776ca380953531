/**
 * Strict JSON request bodies: exactly what the client sent, or a specific 400/415 saying why not.
 *
 * - bytes must be UTF-8 (invalid sequences are refused, not silently turned into U+FFFD);
 * - `charset`, if given, must be utf-8 (nothing else would be decoded correctly);
 * - nesting is bounded before parsing (no request needs more than ~40 levels; a hostile 5-million
 *   level body would otherwise cost seconds of CPU);
 * - the text must parse (the parser's own message, with its position, is passed on);
 * - a key may appear only once per object (JSON.parse silently keeps the last one, so a proxy
 *   or logger that keeps the first would see a different request than the one we run);
 * - `__proto__` keys and `constructor.prototype` are refused (prototype poisoning downstream);
 * - numbers must fit a double (1e400 would become Infinity, then `null` when stored).
 *
 * Every scan is iterative, so no nesting depth can overflow the stack.
 */
import { CrucibleError } from '../domain/errors.js';
import { REQUEST_BOUNDS } from '../domain/limits.js';

/** Deepest nesting accepted in a body: a batch item's metadata at its limit fits well within. */
export const MAX_BODY_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const invalidJson = (message: string, details?: unknown) => new CrucibleError('invalid_json', message, details);

/** 415 for a body that is not JSON (or has no Content-Type at all). */
export function unsupportedMediaType(contentType: string | undefined): CrucibleError {
  return new CrucibleError(
    'unsupported_media_type',
    contentType
      ? `Content-Type ${contentType.slice(0, 100)} is not accepted; send the body as application/json.`
      : 'The request has a body but no Content-Type; send it as application/json.',
  );
}

/** 415 unless the media type's charset (if any) is UTF-8. */
export function assertUtf8Charset(contentType: string | undefined): void {
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '');
  if (!match) return;
  const charset = (match[1] ?? '').toLowerCase();
  if (charset !== 'utf-8' && charset !== 'utf8') {
    throw new CrucibleError('unsupported_media_type', `Only UTF-8 JSON is accepted; the body was declared as charset=${charset.slice(0, 40) || '(empty)'}.`);
  }
}

/** 415 for a compressed body: it would otherwise be read as (invalid) JSON text. */
export function assertIdentityEncoding(contentEncoding: string | undefined): void {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return;
  throw new CrucibleError('unsupported_media_type', `Content-Encoding ${encoding.slice(0, 40)} is not supported; send the body uncompressed.`);
}

/** Parses a request body; `undefined` for an empty (or all-whitespace) body. */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw invalidJson('The body is not valid UTF-8; send JSON encoded as UTF-8.');
  }
  if (text.trim() === '') return undefined;
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
    throw new CrucibleError(
      'nesting_too_deep',
      `The body nests more than ${MAX_BODY_DEPTH} levels deep; no request needs that (metadata must nest at most ${REQUEST_BOUNDS.metadata_depth} levels).`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidJson(`The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if ((typeof value === 'object' && value !== null) || typeof value === 'number') checkKeysAndNumbers(text);
  return value;
}

/** Index of the quote closing the string that opens at `start`, or -1 if it is unterminated. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1) {
    let slashes = 0;
    for (let k = end - 1; text.charCodeAt(k) === 0x5c; k--) slashes++;
    if (slashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

/** Bracket depth outside strings; tolerant of invalid JSON (the parser reports that later). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end === -1) return false;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

interface Frame {
  object: boolean;
  /** Keys seen so far: a short list, switched to a set for large objects. */
  keys: string[] | Set<string> | null;
  /** Current key (objects) or index (arrays), for error paths. */
  at: string | number;
  expectKey: boolean;
  /** This object is the value of a `constructor` key. */
  underConstructor: boolean;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x65 || c === 0x45;
}

/** Adds `key` to the frame's keys; false if it was already there. */
function addKey(frame: Frame, key: string): boolean {
  const keys = frame.keys!;
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return false;
    keys.push(key);
    if (keys.length > 16) frame.keys = new Set(keys);
    return true;
  }
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

/** Walks already-valid JSON text once, without recursion. */
function checkKeysAndNumbers(text: string): void {
  const stack: Frame[] = [];
  // Built only for an error: building it per key would be quadratic in the depth.
  const path = () => stack.map((f) => String(f.at)).filter((p) => p !== '');
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (top?.object && top.expectKey) {
        const token = text.slice(i, end + 1);
        const key = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
        top.expectKey = false;
        top.at = key;
        if (key === '__proto__' || (key === 'prototype' && top.underConstructor)) {
          const where = path();
          throw new CrucibleError(
            'forbidden_key',
            `The body has a "${key === '__proto__' ? '__proto__' : 'constructor.prototype'}" key (at ${where.join('.')}); such keys are refused.`,
            {
              path: where,
            },
          );
        }
        if (!addKey(top, key)) {
          const where = path();
          throw new CrucibleError(
            'duplicate_key',
            `The body has the key "${key.slice(0, 100)}" more than once (at ${where.join('.')}); each key may appear only once per object.`,
            {
              path: where,
            },
          );
        }
      }
      i = end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      const object = c === 0x7b;
      stack.push({
        object,
        keys: object ? [] : null,
        at: object ? '' : 0,
        expectKey: object,
        underConstructor: object && top?.object === true && top.at === 'constructor',
      });
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else if (c === 0x2c) {
      if (top?.object) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      let exponent = false;
      for (let d = text.charCodeAt(end); end < n && isNumberChar(d); d = text.charCodeAt(++end)) exponent ||= d === 0x65 || d === 0x45;
      // Only a number with an exponent or very many digits can overflow a double.
      if (exponent || end - i > 300) {
        const token = text.slice(i, end);
        if (!Number.isFinite(Number(token))) {
          const where = path();
          throw invalidJson(`The number ${token.slice(0, 40)}${where.length ? ` (at ${where.join('.')})` : ''} is too large to represent.`, { path: where });
        }
      }
      i = end;
    } else {
      i++;
    }
  }
}
