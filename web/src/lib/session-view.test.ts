import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../src/domain/session';
import { consoleExec, decodeOutput, formatArgv, mergeEvents, printablePieces } from './session-view';

describe('formatArgv', () => {
  it('quotes only what a shell would split or expand', () => {
    expect(formatArgv(['ls', '-la', '/sandbox'])).toBe('ls -la /sandbox');
    expect(formatArgv(['sh', '-c', "echo 'hi' > out.txt"])).toBe(`sh -c 'echo '\\''hi'\\'' > out.txt'`);
    expect(formatArgv(['printf', ''])).toBe("printf ''");
  });
});

describe('printablePieces', () => {
  it('keeps text, newlines and tabs, and shows control characters as escapes', () => {
    expect(printablePieces('a\tb\nc')).toEqual([{ text: 'a\tb\nc' }]);
    expect(printablePieces('red\u001b[31m!\r\u0000\u007f')).toEqual([
      { text: 'red' },
      { escape: '\\x1b' },
      { text: '[31m!' },
      { escape: '\\r' },
      { escape: '\\0' },
      { escape: '\\x7f' },
    ]);
  });
});

describe('decodeOutput', () => {
  it('gives UTF-8 bytes as text, and anything else as a size and hex', () => {
    expect(decodeOutput(btoa('héllo'.replace('é', '\u00c3\u00a9')))).toEqual({ kind: 'text', text: 'héllo' });
    expect(decodeOutput(btoa('\u0001\u00ff'))).toEqual({ kind: 'binary', size: 2, hex: '01 ff', more: false });
    const big = decodeOutput(btoa('\u00ff'.repeat(300)));
    expect(big).toMatchObject({ kind: 'binary', size: 300, more: true });
    expect(big.kind === 'binary' && big.hex.split(' ').length).toBe(256);
    expect(decodeOutput(undefined)).toEqual({ kind: 'text', text: '' });
  });
});

describe('consoleExec', () => {
  it('runs a shell line with sh -c, Python as code, asking for the bytes exactly', () => {
    expect(consoleExec('shell', 'ls | wc -l', 5)).toEqual({ cmd: ['sh', '-c', 'ls | wc -l'], timeout_s: 5, output_encoding: 'base64' });
    expect(consoleExec('python', 'print(1)', 60)).toEqual({ code: 'print(1)', timeout_s: 60, output_encoding: 'base64' });
  });
});

describe('mergeEvents', () => {
  const ev = (seq: number): SessionEvent => ({ seq, type: 'status', at: '2026-01-01T00:00:00Z', data: { status: 'ready' } });
  it('keeps each event once, in sequence order, when a reconnect replays some', () => {
    expect(mergeEvents([ev(1), ev(2)], [ev(2), ev(4), ev(3)]).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});
