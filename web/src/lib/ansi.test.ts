import { describe, expect, it } from 'vitest';
import { ansiClassNames, parseAnsiLine, resolveCarriageReturns, stripAnsi } from './ansi';

describe('stripAnsi', () => {
  it('removes colour, cursor and OSC sequences but keeps text, newlines and tabs', () => {
    const s = '\u001b[31mred\u001b[0m\tplain\n\u001b[2K\u001b[1Gline\u001b]0;title\u0007 end';
    expect(stripAnsi(s)).toBe('red\tplain\nline end');
  });
  it('drops other control characters (bell, backspace, NUL, C1)', () => {
    expect(stripAnsi('a\u0007b\u0008c\u0000d\u0085e')).toBe('abcde');
    expect(stripAnsi('x\u009b2Ky')).toBe('xy'); // C1 CSI is a whole sequence
  });
  it('normalises CRLF', () => {
    expect(stripAnsi('a\r\nb')).toBe('a\nb');
  });
});

describe('resolveCarriageReturns', () => {
  it('keeps the last redraw of a progress line', () => {
    expect(resolveCarriageReturns('10%\r50%\r100%')).toBe('100%');
    expect(resolveCarriageReturns('done\r')).toBe('done');
    expect(resolveCarriageReturns('no cr')).toBe('no cr');
  });
});

describe('parseAnsiLine', () => {
  it('splits styled segments and resets on 0', () => {
    const segs = parseAnsiLine('\u001b[1;32mPASS\u001b[0m test_x');
    expect(segs).toEqual([
      { text: 'PASS', style: { bold: true, fg: 2 } },
      { text: ' test_x', style: {} },
    ]);
  });
  it('maps bright colours and 256-colour indices below 16, ignores truecolour', () => {
    expect(parseAnsiLine('\u001b[91ma')[0]?.style.fg).toBe(9);
    expect(parseAnsiLine('\u001b[38;5;4mb')[0]?.style.fg).toBe(4);
    const tc = parseAnsiLine('\u001b[38;2;10;20;30mc\u001b[1md');
    expect(tc[0]).toEqual({ text: 'c', style: {} });
    expect(tc[1]).toEqual({ text: 'd', style: { bold: true } });
  });
  it('drops non-SGR escapes and leaves HTML as plain text', () => {
    const segs = parseAnsiLine('\u001b[2K<img src=x onerror=alert(1)>');
    expect(segs).toEqual([{ text: '<img src=x onerror=alert(1)>', style: {} }]);
  });
  it('turns styles into a fixed set of class names', () => {
    expect(ansiClassNames({ fg: 1, bg: 4, bold: true, underline: true })).toBe('ansi-fg-1 ansi-bg-4 ansi-bold ansi-underline');
    expect(ansiClassNames({})).toBe('');
  });
});
