/**
 * Program output turned into the lines a terminal would end up showing, fed chunk by chunk as it
 * streams in. What makes this more than splitting on "\n":
 *
 * - SGR state (colour, bold…) carries over from line to line and from chunk to chunk, as in a
 *   terminal: `ESC[31m` on one line colours the next ones until a reset.
 * - An escape sequence may be split across two chunks; the unfinished part waits for the next one
 *   instead of leaking out as text.
 * - "\r" returns the cursor to the start of the line, and what follows overwrites what is there
 *   (progress bars redraw themselves that way); "\b" moves it back one column and `ESC[K` erases
 *   (part of) the line. "\r\n" therefore ends a line with its text intact.
 * - Every other escape sequence and control character is dropped (see lib/ansi).
 *
 * Only the current, unfinished line is ever rewritten; finished lines are immutable and only
 * appended, so a view can keep rendering them while output keeps coming. Columns are UTF-16 code
 * units: a terminal would give wide (CJK, emoji) characters two cells, which only matters when a
 * redraw overwrites part of a line containing them.
 */
import { applySgr, isPlain, PLAIN, readControlString, readEscape, sameStyle, startsEscape, type AnsiSegment, type AnsiStyle, type ControlString } from './ansi';

/**
 * A finished line: its text when it has no style at all (most output, and MBs of it, so no
 * per-line objects), otherwise its styled segments.
 */
export type OutputLine = string | readonly AnsiSegment[];

export function lineSegments(line: OutputLine): readonly AnsiSegment[] {
  if (typeof line !== 'string') return line;
  return line === '' ? [] : [{ text: line, style: PLAIN }];
}

/** The first `max` characters of a line, and how many were left out. */
export function clipLine(line: OutputLine, max: number): { segments: readonly AnsiSegment[]; hidden: number } {
  const segments = lineSegments(line);
  const out: AnsiSegment[] = [];
  let room = max;
  let hidden = 0;
  for (const seg of segments) {
    if (room >= seg.text.length) {
      out.push(seg);
      room -= seg.text.length;
    } else {
      if (room > 0) out.push({ text: seg.text.slice(0, room), style: seg.style });
      hidden += seg.text.length - room;
      room = 0;
    }
  }
  return { segments: hidden === 0 ? segments : out, hidden };
}

const LF = 0x0a;
const CR = 0x0d;
const BS = 0x08;
// Everything but tab and printable text: line breaks, cursor controls, escape introducers, and
// the controls that are dropped (NUL, BEL, DEL, C1…). Runs of text between them are sliced out whole.
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** Appends a segment, merging it into the last one when the style is the same. */
function pushMerged(segs: AnsiSegment[], seg: AnsiSegment): void {
  if (seg.text === '') return;
  const last = segs[segs.length - 1];
  if (last && sameStyle(last.style, seg.style)) segs[segs.length - 1] = { text: last.text + seg.text, style: last.style };
  else segs.push(seg);
}

/** Replaces the columns [from, to) of a line with `insert` (or with nothing). */
function splice(segs: readonly AnsiSegment[], from: number, to: number, insert: AnsiSegment | null): AnsiSegment[] {
  const out: AnsiSegment[] = [];
  let pos = 0;
  let placed = insert === null;
  for (const seg of segs) {
    const start = pos;
    const end = pos + seg.text.length;
    pos = end;
    if (end <= from) {
      out.push(seg);
      continue;
    }
    if (start < from) out.push({ text: seg.text.slice(0, from - start), style: seg.style });
    if (!placed) {
      pushMerged(out, insert as AnsiSegment);
      placed = true;
    }
    if (end > to) pushMerged(out, start >= to ? seg : { text: seg.text.slice(to - start), style: seg.style });
  }
  if (!placed) pushMerged(out, insert as AnsiSegment);
  return out;
}

/** The line being written: segments, their total length and a cursor that may move back. */
class LineBuffer {
  private segs: AnsiSegment[] = [];
  private length = 0;
  private cursor = 0;

  write(text: string, style: AnsiStyle): void {
    if (this.cursor > this.length) {
      // The cursor was left past the end (after erasing): a terminal shows blanks up to it.
      pushMerged(this.segs, { text: ' '.repeat(this.cursor - this.length), style: PLAIN });
      this.length = this.cursor;
    }
    const seg = { text, style };
    if (this.cursor === this.length) {
      pushMerged(this.segs, seg); // the common case: plain appending
    } else {
      this.segs = splice(this.segs, this.cursor, this.cursor + text.length, seg);
    }
    this.cursor += text.length;
    this.length = Math.max(this.length, this.cursor);
  }

  carriageReturn(): void {
    this.cursor = 0;
  }

  backspace(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  erase(mode: number): void {
    if (mode === 0) {
      if (this.cursor < this.length) this.segs = splice(this.segs, this.cursor, this.length, null);
      this.length = Math.min(this.length, this.cursor);
    } else if (mode === 1) {
      // Erasing up to and including the cursor leaves blanks, so later text keeps its column.
      const to = Math.min(this.cursor + 1, this.length);
      this.segs = splice(this.segs, 0, to, { text: ' '.repeat(to), style: PLAIN });
    } else if (mode === 2) {
      this.segs = [];
      this.length = 0;
    }
  }

  isEmpty(): boolean {
    return this.length === 0;
  }

  /** The line as it stands. `copy` keeps the buffer's array private when it will still change. */
  toLine(copy: boolean): OutputLine {
    const only = this.segs[0];
    if (this.segs.length === 0) return '';
    if (this.segs.length === 1 && only && isPlain(only.style)) return only.text;
    return copy ? this.segs.slice() : this.segs;
  }
}

export class TerminalLog {
  /** Finished lines, oldest first. Only ever appended to. */
  readonly lines: OutputLine[] = [];
  private current = new LineBuffer();
  private style: AnsiStyle = PLAIN;
  /** The start of an escape sequence that the last chunk ended in the middle of. */
  private pending = '';
  /** True while inside a control string (an OSC title…) that a chunk ended without closing. */
  private inString = false;
  private openSnapshot: OutputLine | null = null;

  write(chunk: string): void {
    const text = this.pending + chunk;
    this.pending = '';
    this.openSnapshot = null;
    let i = 0;
    if (this.inString) i = this.skipControlString(readControlString(text, 0), text);
    while (i < text.length) {
      SPECIAL.lastIndex = i;
      const m = SPECIAL.exec(text);
      const stop = m ? m.index : text.length;
      if (stop > i) this.current.write(text.slice(i, stop), this.style);
      if (!m) break;
      const c = text.charCodeAt(stop);
      i = stop + 1;
      if (c === LF) {
        this.lines.push(this.current.toLine(false));
        this.current = new LineBuffer();
      } else if (c === CR) this.current.carriageReturn();
      else if (c === BS) this.current.backspace();
      else if (startsEscape(c)) {
        const esc = readEscape(text, stop);
        if (esc.kind === 'incomplete') {
          this.pending = text.slice(stop);
          break;
        }
        if (esc.kind === 'string') i = this.skipControlString(esc, text);
        else {
          if (esc.kind === 'sgr') this.style = applySgr(esc.params, this.style);
          else if (esc.kind === 'erase-line') this.current.erase(esc.mode);
          i = esc.end;
        }
      }
      // Any other control character is dropped: `i` is already past it.
    }
  }

  /** The unfinished last line, or null when there is none to show. Stable until the next write. */
  openLine(): OutputLine | null {
    if (this.current.isEmpty()) return null;
    this.openSnapshot ??= this.current.toLine(true);
    return this.openSnapshot;
  }

  private skipControlString(esc: ControlString, text: string): number {
    this.inString = !esc.closed;
    if (!esc.closed) this.pending = text.slice(esc.end); // at most a lone ESC, maybe half of ST
    return esc.closed ? esc.end : text.length;
  }
}
