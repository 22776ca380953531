/**
 * Program output may contain terminal escape sequences (colours from pytest, rich, tqdm…).
 * We never hand output to the DOM as HTML: it is parsed here into plain-text segments with a
 * small, fixed set of styles (SGR colours/bold/dim/italic/underline) that React renders as text
 * nodes inside <span>s. Every other escape or control character is dropped.
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

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ST), and two-byte ESC sequences.
const CSI = '\\u001b\\[[0-?]*[ -/]*[@-~]';
const OSC = '\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)?';
const ESC2 = '\\u001b[@-Z\\\\-_]';
// C1 CSI (0x9b) used by a few programs instead of ESC [.
const C1_CSI = '\\u009b[0-?]*[ -/]*[@-~]';
const ESCAPES = new RegExp(`${OSC}|${CSI}|${C1_CSI}|${ESC2}`, 'g');
// Control characters other than tab and newline (carriage returns are resolved per line first).
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Removes every escape sequence and control character except \n and \t. */
export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '').replace(/\r\n/g, '\n').replace(CONTROLS, '');
}

/**
 * A carriage return without a newline means "redraw this line" (progress bars). A log view shows
 * what a terminal would end up showing, which (approximately) is the last non-empty redraw.
 */
export function resolveCarriageReturns(line: string): string {
  if (!line.includes('\r')) return line;
  const parts = line.split('\r');
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i] !== '') return parts[i] as string;
  }
  return '';
}

function applySgr(params: number[], style: AnsiStyle): AnsiStyle {
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
      // 256-colour / truecolour: consume the arguments, map the 16 basic ones, ignore the rest.
      const mode = params[i + 1];
      if (mode === 5) {
        const n = params[i + 2];
        if (n !== undefined && n < 16) {
          if (p === 38) s.fg = n;
          else s.bg = n;
        }
        i += 2;
      } else if (mode === 2) i += 4;
    }
  }
  return s;
}

// ESC [ params m — captured so the parameters can be applied; any other sequence is dropped.
const TOKEN = new RegExp(`\\u001b\\[([0-9;:]*)m|${OSC}|${CSI}|${C1_CSI}|${ESC2}`, 'g');

/** Parses one line of output into styled plain-text segments. */
export function parseAnsiLine(rawLine: string): AnsiSegment[] {
  const line = resolveCarriageReturns(rawLine);
  const segments: AnsiSegment[] = [];
  let style: AnsiStyle = {};
  let last = 0;
  const push = (text: string) => {
    const clean = text.replace(CONTROLS, '');
    if (clean) segments.push({ text: clean, style });
  };
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(line); m !== null; m = TOKEN.exec(line)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] !== undefined) {
      const params = m[1] === '' ? [] : m[1].split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
      style = applySgr(params, style);
    }
  }
  push(line.slice(last));
  return segments;
}

/** CSS classes for a style; the palette lives in the stylesheet, never in the output. */
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
