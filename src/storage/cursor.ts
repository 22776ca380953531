/**
 * Opaque pagination cursor: the (created_at, id) of the last item of a page, as base64url JSON.
 * The next page is everything strictly older in (created_at desc, id desc) order, so rows created
 * after the first page was read never shift later pages.
 */
import { badRequest } from '../domain/errors.js';
import { EVALUATION_ID_CHARS, EVALUATION_ID_MAX_LENGTH } from '../domain/evaluation.js';

export interface CursorPosition {
  createdAt: number;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const invalid = () => badRequest('invalid_cursor', 'cursor is not a next_cursor returned by this API');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string' ||
    // Shaped like our ids: anything else (e.g. a NUL, which PostgreSQL cannot even compare) is a
    // forged cursor, and must be the caller's 400 rather than a storage failure.
    parsed[1].length > EVALUATION_ID_MAX_LENGTH ||
    !EVALUATION_ID_CHARS.test(parsed[1])
  ) {
    throw invalid();
  }
  return { createdAt: parsed[0], id: parsed[1] };
}
