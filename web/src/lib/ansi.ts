/**
 * The terminal escape grammar of program output (colours from pytest, rich, tqdm…), reduced to
 * what a log view can show safely. Output is never handed to the DOM as HTML: it becomes plain
 * text in <span>s whose only styling is a fixed set of class names (SGR colours, bold, dim,
 * italic, underline). This module recognises escape sequences and says what each one means;
 * lib/terminal-log applies them to lines. Every sequence other than SGR and "erase in line" is
 * recognised only so that it can be dropped whole, instead of leaving bytes like `(B` or `]0;`
 * behind as garbage.
 */

export interface AnsiStyle {
  /** Foreground colour index 0–15 (8–15 are the bright variants). */
  fg?: number;
  /** Background colour index 0–15. */
  bg?: number;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

/** The style of text no SGR has touched; shared so plain lines cost no style objects. */
export const PLAIN: AnsiStyle = Object.freeze({});

export function isPlain(s: AnsiStyle): boolean {
  return s.fg === undefined && s.bg === undefined && !s.bold && !s.dim && !s.italic && !s.underline;
}

export function sameStyle(a: AnsiStyle, b: AnsiStyle): boolean {
  return a === b || (a.fg === b.fg && a.bg === b.bg && !a.bold === !b.bold && !a.dim === !b.dim && !a.italic === !b.italic && !a.underline === !b.underline);
}

/** Applies the parameters of one SGR sequence (ESC [ … m) to a style, returning a new style. */
export function applySgr(params: readonly number[], style: AnsiStyle): AnsiStyle {
  const s: AnsiStyle = { ...style };
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as number;
    if (p === 0) {
      for (const k of Object.keys(s) as Array<keyof AnsiStyle>) delete s[k];
    } else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 22) {
      delete s.bold;
      delete s.dim;
    } else if (p === 23) delete s.italic;
    else if (p === 24) delete s.underline;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p === 39) delete s.fg;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p === 49) delete s.bg;
    else if (p === 38 || p === 48) {
      // 256-colour (5;n) and truecolour (2;r;g;b): the 16 basic indices map onto our palette.
      // Any other colour has no themed, contrast-checked equivalent, so it falls back to the
      // default colour rather than leaving the previous one standing for it.
      const key = p === 38 ? 'fg' : 'bg';
      const mode = params[i + 1];
      const n = params[i + 2];
      if (mode === 5 && n !== undefined && n < 16) s[key] = n;
      else delete s[key];
      if (mode === 5) i += 2;
      else if (mode === 2) i += 4;
    }
  }
  return s;
}

/** CSS classes for a style; the palette lives in the stylesheet (one per theme), never in the output. */
export function ansiClassNames(style: AnsiStyle): string {
  const c: string[] = [];
  if (style.fg !== undefined) c.push(`ansi-fg-${style.fg}`);
  if (style.bg !== undefined) c.push(`ansi-bg-${style.bg}`);
  if (style.bold) c.push('ansi-bold');
  if (style.dim) c.push('ansi-dim');
  if (style.italic) c.push('ansi-italic');
  if (style.underline) c.push('ansi-underline');
  return c.join(' ');
}

/** A control string (OSC title or hyperlink, DCS…): its body is dropped. Unclosed when the text ends inside it. */
export interface ControlString {
  kind: 'string';
  end: number;
  closed: boolean;
}

/** What one escape sequence means to a log view. `end` is the index just after it. */
export type Escape =
  | { kind: 'sgr'; params: number[]; end: number }
  /** ESC [ n K: 0 erases from the cursor to the end of the line, 1 from its start to the cursor, 2 all of it. */
  | { kind: 'erase-line'; mode: number; end: number }
  | ControlString
  /** Any other sequence (cursor movement, modes, charsets…), or a malformed one: dropped. */
  | { kind: 'ignored'; end: number }
  /** The text ends before the sequence does; it must wait for the next chunk. */
  | { kind: 'incomplete' };

const ESC = 0x1b;
const BEL = 0x07;
const LF = 0x0a;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
/** C1 introducers of control strings: DCS, SOS, OSC, PM, APC. */
const C1_STRINGS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** The same introducers as ESC + letter: P (DCS), X (SOS), ] (OSC), ^ (PM), _ (APC). */
const ESC_STRINGS = new Set([0x50, 0x58, 0x5d, 0x5e, 0x5f]);
/** A CSI or ESC sequence longer than this is not a real one; it is dropped rather than waited for. */
const MAX_SEQUENCE = 256;
const INCOMPLETE: Escape = { kind: 'incomplete' };

const between = (c: number, lo: number, hi: number) => c >= lo && c <= hi;

/** True for the characters that start an escape sequence (ESC and the C1 introducers we honour). */
export function startsEscape(c: number): boolean {
  return c === ESC || c === C1_CSI || C1_STRINGS.has(c);
}

/** Reads the escape sequence starting at `at` (which must satisfy startsEscape). */
export function readEscape(s: string, at: number): Escape {
  const c = s.charCodeAt(at);
  if (c === C1_CSI) return readCsi(s, at + 1, at);
  if (c !== ESC) return readControlString(s, at + 1);
  if (at + 1 >= s.length) return INCOMPLETE;
  const next = s.charCodeAt(at + 1);
  if (next === 0x5b) return readCsi(s, at + 2, at);
  if (ESC_STRINGS.has(next)) return readControlString(s, at + 2);
  // ESC, intermediates 0x20–0x2F, one final 0x30–0x7E: charset selection `ESC ( B` (tput sgr0
  // sends it), save/restore cursor `ESC 7`, keypad modes `ESC =`…
  let i = at + 1;
  while (i < s.length && between(s.charCodeAt(i), 0x20, 0x2f)) i++;
  if (i >= s.length) return i - at > MAX_SEQUENCE ? { kind: 'ignored', end: i } : INCOMPLETE;
  // A stray ESC before anything else (a control, DEL, non-ASCII) is dropped on its own.
  return { kind: 'ignored', end: between(s.charCodeAt(i), 0x30, 0x7e) ? i + 1 : i };
}

/** CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E. */
function readCsi(s: string, i: number, at: number): Escape {
  const paramsStart = i;
  while (i < s.length && between(s.charCodeAt(i), 0x30, 0x3f)) i++;
  const paramsEnd = i;
  while (i < s.length && between(s.charCodeAt(i), 0x20, 0x2f)) i++;
  if (i >= s.length) return i - at > MAX_SEQUENCE ? { kind: 'ignored', end: i } : INCOMPLETE;
  const final = s.charCodeAt(i);
  // Malformed (a control or text where the final byte belongs): drop what was read and let the
  // offending character be handled on its own.
  if (!between(final, 0x40, 0x7e)) return { kind: 'ignored', end: i };
  const raw = s.slice(paramsStart, paramsEnd);
  // Private sequences (`ESC [ ? 25 l`, `ESC [ > 4 ; 2 m`) share final bytes with SGR and EL but
  // mean something else; only plain numeric parameters with no intermediates qualify.
  const plain = paramsEnd === i && /^[0-9;:]*$/.test(raw);
  if (plain && final === 0x6d) return { kind: 'sgr', params: parseParams(raw), end: i + 1 };
  if (plain && final === 0x4b) return { kind: 'erase-line', mode: parseParams(raw)[0] ?? 0, end: i + 1 };
  return { kind: 'ignored', end: i + 1 };
}

function parseParams(raw: string): number[] {
  return raw === '' ? [] : raw.split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
}

/**
 * Skips the body of a control string (OSC, DCS…) starting at `i`, up to and including its
 * terminator: BEL or ST (ESC \ or 0x9C). Another ESC also ends it (and starts a new sequence).
 * A newline ends it too, which a terminal would not do: an unterminated title must not swallow
 * the rest of the program's output. If the text ends inside the body, the result is unclosed and
 * the caller keeps skipping in the next chunk; a final ESC is left unconsumed because it may be
 * the first half of ST.
 */
export function readControlString(s: string, i: number): ControlString {
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === BEL || c === C1_ST) return { kind: 'string', end: i + 1, closed: true };
    if (c === LF) return { kind: 'string', end: i, closed: true };
    if (c === ESC) {
      if (i + 1 >= s.length) return { kind: 'string', end: i, closed: false };
      return { kind: 'string', end: s.charCodeAt(i + 1) === 0x5c ? i + 2 : i, closed: true };
    }
  }
  return { kind: 'string', end: i, closed: false };
}
