import { describe, expect, it } from 'vitest';
import { ansiClassNames, applySgr, readEscape, sameStyle, type Escape } from './ansi';

const read = (s: string): Escape => readEscape(s, 0);

describe('readEscape', () => {
  it('reads SGR parameters', () => {
    expect(read('\u001b[1;32mPASS')).toEqual({ kind: 'sgr', params: [1, 32], end: 7 });
    expect(read('\u001b[m')).toEqual({ kind: 'sgr', params: [], end: 3 });
    expect(read('\u001b[38:5:4m')).toEqual({ kind: 'sgr', params: [38, 5, 4], end: 9 });
    expect(read('\u009b31m')).toEqual({ kind: 'sgr', params: [31], end: 4 }); // C1 CSI
  });

  it('reads erase-in-line with its mode', () => {
    expect(read('\u001b[K')).toEqual({ kind: 'erase-line', mode: 0, end: 3 });
    expect(read('\u001b[2K')).toEqual({ kind: 'erase-line', mode: 2, end: 4 });
  });

  it('recognises other sequences whole so they can be dropped', () => {
    expect(read('\u001b[1Gx')).toEqual({ kind: 'ignored', end: 4 }); // cursor column
    expect(read('\u001b[?25lx')).toEqual({ kind: 'ignored', end: 6 }); // hide cursor
    expect(read('\u001b[>4;2mx')).toEqual({ kind: 'ignored', end: 7 }); // private, not SGR
    expect(read('\u001b[?2Kx')).toEqual({ kind: 'ignored', end: 5 }); // private, not EL
    expect(read('\u001b(Bx')).toEqual({ kind: 'ignored', end: 3 }); // charset (tput sgr0)
    expect(read('\u001b7x')).toEqual({ kind: 'ignored', end: 2 }); // save cursor
    expect(read('\u001bcx')).toEqual({ kind: 'ignored', end: 2 }); // reset
  });

  it('drops a stray ESC on its own and a malformed CSI up to the offending character', () => {
    expect(read('\u001b\u0007')).toEqual({ kind: 'ignored', end: 1 });
    expect(read('\u001b[12\nx')).toEqual({ kind: 'ignored', end: 4 });
  });

  it('skips control strings to their terminator, or to a newline', () => {
    expect(read('\u001b]0;title\u0007x')).toEqual({ kind: 'string', end: 10, closed: true });
    expect(read('\u001b]8;;http://x\u001b\\link')).toEqual({ kind: 'string', end: 15, closed: true });
    expect(read('\u001bPq#0\u009cx')).toEqual({ kind: 'string', end: 6, closed: true }); // DCS, C1 ST
    expect(read('\u001b]0;title\nnext')).toEqual({ kind: 'string', end: 9, closed: true });
    expect(read('\u001b]0;t\u001b[31m')).toEqual({ kind: 'string', end: 5, closed: true }); // a new sequence ends it
  });

  it('says when the text ends inside a sequence', () => {
    for (const partial of ['\u001b', '\u001b[', '\u001b[38;5', '\u001b[1;', '\u001b(', '\u009b2']) {
      expect(read(partial), JSON.stringify(partial)).toEqual({ kind: 'incomplete' });
    }
    expect(read('\u001b]0;tit')).toEqual({ kind: 'string', end: 7, closed: false });
    // A final ESC might be the first half of ST, so it is left for the next chunk.
    expect(read('\u001b]0;t\u001b')).toEqual({ kind: 'string', end: 5, closed: false });
  });

  it('gives up waiting for an absurdly long sequence', () => {
    const long = `\u001b[${'1;'.repeat(300)}`;
    expect(read(long)).toEqual({ kind: 'ignored', end: long.length });
  });
});

describe('applySgr', () => {
  it('sets and resets attributes and colours', () => {
    const s = applySgr([1, 31, 44], {});
    expect(s).toEqual({ bold: true, fg: 1, bg: 4 });
    expect(applySgr([22, 39], s)).toEqual({ bg: 4 });
    expect(applySgr([0], s)).toEqual({});
    expect(applySgr([], s)).toEqual({});
    expect(applySgr([2, 3, 4], {})).toEqual({ dim: true, italic: true, underline: true });
    expect(applySgr([23, 24], { italic: true, underline: true })).toEqual({});
  });

  it('maps bright colours and the 16 basic 256-colour indices', () => {
    expect(applySgr([91], {}).fg).toBe(9);
    expect(applySgr([103], {}).bg).toBe(11);
    expect(applySgr([38, 5, 4], {}).fg).toBe(4);
    expect(applySgr([48, 5, 12], {}).bg).toBe(12);
  });

  it('shows colours outside the palette in the default colour, and consumes their arguments', () => {
    expect(applySgr([38, 5, 208], { fg: 1 })).toEqual({});
    expect(applySgr([38, 2, 10, 20, 30, 1], { fg: 1 })).toEqual({ bold: true });
    expect(applySgr([48, 2, 1, 2, 3], { bg: 2, fg: 3 })).toEqual({ fg: 3 });
  });

  it('does not change the style it is given', () => {
    const s = { fg: 1 };
    applySgr([0], s);
    expect(s).toEqual({ fg: 1 });
  });
});

describe('styles', () => {
  it('turns styles into a fixed set of class names', () => {
    expect(ansiClassNames({ fg: 1, bg: 4, bold: true, underline: true })).toBe('ansi-fg-1 ansi-bg-4 ansi-bold ansi-underline');
    expect(ansiClassNames({ dim: true, italic: true })).toBe('ansi-dim ansi-italic');
    expect(ansiClassNames({})).toBe('');
  });

  it('compares styles by value', () => {
    expect(sameStyle({ fg: 1, bold: true }, { bold: true, fg: 1 })).toBe(true);
    expect(sameStyle({ bold: false }, {})).toBe(true);
    expect(sameStyle({ fg: 1 }, { fg: 2 })).toBe(false);
  });
});
