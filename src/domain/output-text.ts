/**
 * Program output is stored and streamed as text: bytes that are not valid UTF-8 are already
 * replaced with U+FFFD when decoded, and NUL is replaced the same way, because PostgreSQL cannot
 * store it in text or JSON. One rule for both storage backends, so results do not depend on them.
 */
const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';

export function storableOutput(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, REPLACEMENT) : text;
}
