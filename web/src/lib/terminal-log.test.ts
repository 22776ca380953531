import { describe, expect, it } from 'vitest';
import { ansiClassNames } from './ansi';
import { clipLine, lineSegments, TerminalLog, type OutputLine } from './terminal-log';

/** A line as text, with each styled segment as `[classes:text]`, for readable expectations. */
function show(line: OutputLine): string {
  return lineSegments(line)
    .map((s) => {
      const cls = ansiClassNames(s.style);
      return cls ? `[${cls}:${s.text}]` : s.text;
    })
    .join('');
}

/** Every line the log shows, the unfinished one last. */
function screen(log: TerminalLog): string[] {
  const open = log.openLine();
  return [...log.lines, ...(open === null ? [] : [open])].map(show);
}

function feed(...chunks: string[]): string[] {
  const log = new TerminalLog();
  for (const c of chunks) log.write(c);
  return screen(log);
}

const RED = '\u001b[31m';
const BOLD_GREEN = '\u001b[1;32m';
const RESET = '\u001b[0m';

describe('TerminalLog: styles', () => {
  it('carries SGR state across lines until a reset', () => {
    expect(feed(`${RED}red\nstill red${RESET}\nplain\n`)).toEqual(['[ansi-fg-1:red]', '[ansi-fg-1:still red]', 'plain']);
  });

  it('carries SGR state across chunks', () => {
    expect(feed(`${BOLD_GREEN}PASS`, ' ok\n', `more${RESET} done\n`)).toEqual(['[ansi-fg-2 ansi-bold:PASS ok]', '[ansi-fg-2 ansi-bold:more] done']);
  });

  it('keeps plain lines as plain strings and styled ones as segments', () => {
    const log = new TerminalLog();
    log.write(`plain\n${RED}red${RESET} and not\n`);
    expect(log.lines[0]).toBe('plain');
    expect(log.lines[1]).toEqual([
      { text: 'red', style: { fg: 1 } },
      { text: ' and not', style: {} },
    ]);
  });

  it('keeps empty lines', () => {
    expect(feed('a\n\n\nb\n')).toEqual(['a', '', '', 'b']);
    expect(feed(`${RED}\n${RESET}\n`)).toEqual(['', '']);
  });
});

describe('TerminalLog: escapes split across chunks', () => {
  const text = `${BOLD_GREEN}PASS${RESET} a\u001b]0;my title\u0007b\u001b[2Kc\u001b(Bd${RED}e\r\nf\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\g${RESET}\n`;
  const whole = feed(text);

  it('renders the reference text as expected', () => {
    // ESC[2K erased "PASS ab" but left the cursor where it was, hence the blanks before "c".
    expect(whole).toEqual(['       cd[ansi-fg-1:e]', '[ansi-fg-1:flinkg]']);
  });

  it('gives the same lines wherever the text is split, once or at every character', () => {
    for (let cut = 1; cut < text.length; cut++) {
      expect(feed(text.slice(0, cut), text.slice(cut)), `split at ${cut}`).toEqual(whole);
    }
    expect(feed(...text)).toEqual(whole);
  });

  it('shows nothing of an unfinished escape sequence while it waits', () => {
    expect(feed('abc\u001b[3')).toEqual(['abc']);
    expect(feed('abc\u001b]0;tit')).toEqual(['abc']);
    expect(feed('abc\u001b]0;tit', 'le\u0007def')).toEqual(['abcdef']);
  });

  it('does not let an unterminated title swallow the following lines', () => {
    expect(feed('a\u001b]0;title\nnext line\n')).toEqual(['a', 'next line']);
  });
});

describe('TerminalLog: carriage return and friends', () => {
  it('overwrites the line from its start, like a terminal', () => {
    expect(feed('10%\r50%\r100%\n')).toEqual(['100%']);
    expect(feed('Hello\rJe\n')).toEqual(['Jello']);
    expect(feed('done\r')).toEqual(['done']);
  });

  it('treats \\r\\n as a plain newline, also when a chunk ends between them', () => {
    expect(feed('a\r\nb\r\n')).toEqual(['a', 'b']);
    expect(feed('a\r', '\nb\r', '\n')).toEqual(['a', 'b']);
  });

  it('shows the final state of a progress bar redrawn across chunks', () => {
    const chunks = Array.from({ length: 101 }, (_, i) => `\r${String(i).padStart(3)}%|${'#'.repeat(Math.floor(i / 10)).padEnd(10)}|`);
    expect(feed('start\n', ...chunks, '\nend\n')).toEqual(['start', '100%|##########|', 'end']);
    // Mid-way, the pane shows the latest state only.
    expect(feed('start\n', ...chunks.slice(0, 43))).toEqual(['start', ' 42%|####      |']);
  });

  it('keeps the style of each overwritten cell', () => {
    expect(feed(`${RED}abcdef${RESET}\r${BOLD_GREEN}XY${RESET}\n`)).toEqual(['[ansi-fg-2 ansi-bold:XY][ansi-fg-1:cdef]']);
    expect(feed(`ab${RED}cd${RESET}ef\rxyz\n`)).toEqual(['xyz[ansi-fg-1:d]ef']);
  });

  it('erases the line with ESC[K in its three modes', () => {
    expect(feed('long old text\rnew\u001b[K\n')).toEqual(['new']);
    expect(feed('abcdef\r\u001b[2Kxy\n')).toEqual(['xy']);
    expect(feed('abcdef\u001b[2Kxy\n')).toEqual(['      xy']);
    expect(feed('abcdef\rab\u001b[1Kz\n')).toEqual(['  zdef']); // up to and including the cursor
  });

  it('moves back one column on backspace', () => {
    expect(feed('ab\bc\n')).toEqual(['ac']);
    expect(feed('\b\bx\n')).toEqual(['x']);
  });
});

describe('TerminalLog: safety', () => {
  it('drops cursor movement, modes, titles and control characters', () => {
    expect(feed('\u001b[2J\u001b[H\u001b[?25la\u0007b\u0000c\u0085d\u007fe\u001b7f\u001b[1Ag\t|\n')).toEqual(['abcdefg\t|']);
  });

  it('leaves HTML as plain text', () => {
    expect(feed('\u001b[2K<img src=x onerror=alert(1)>\n')).toEqual(['<img src=x onerror=alert(1)>']);
  });
});

describe('clipLine', () => {
  it('keeps the first characters across segments and counts the rest', () => {
    const line: OutputLine = [
      { text: 'abc', style: { fg: 1 } },
      { text: 'defgh', style: {} },
    ];
    expect(clipLine(line, 5)).toEqual({
      segments: [
        { text: 'abc', style: { fg: 1 } },
        { text: 'de', style: {} },
      ],
      hidden: 3,
    });
    expect(clipLine(line, 8)).toEqual({ segments: line, hidden: 0 });
    expect(clipLine('x'.repeat(10), 4)).toEqual({ segments: [{ text: 'xxxx', style: {} }], hidden: 6 });
  });
});
