import { describe, expect, it } from 'vitest';
import { appendOutput, chunksOf, newChunksSince, NO_OUTPUT, outputFromString, outputToString, utf8Length } from './output-text';

describe('OutputText', () => {
  it('appends chunks without changing earlier values', () => {
    const a = appendOutput(NO_OUTPUT, 'hello ');
    const b = appendOutput(a, 'world\n');
    expect(outputToString(a)).toBe('hello ');
    expect(outputToString(b)).toBe('hello world\n');
    expect(chunksOf(b)).toEqual(['hello ', 'world\n']);
    expect(appendOutput(b, '')).toBe(b);
    expect(outputToString(NO_OUTPUT)).toBe('');
  });

  it('keeps a running UTF-8 size', () => {
    const o = appendOutput(outputFromString('aé'), '€😀');
    expect(o.bytes).toBe(new TextEncoder().encode('aé€😀').length);
  });

  it('gives the chunks added since a value it continues, and null for one it does not', () => {
    const a = outputFromString('a');
    const b = appendOutput(a, 'b');
    const c = appendOutput(b, 'c');
    expect(newChunksSince(c, a)).toEqual(['b', 'c']);
    expect(newChunksSince(c, c)).toEqual([]);
    expect(newChunksSince(c, NO_OUTPUT)).toEqual(['a', 'b', 'c']);
    expect(newChunksSince(a, c)).toBeNull();
    expect(newChunksSince(c, outputFromString('a'))).toBeNull(); // equal text, another stream
  });
});

describe('utf8Length', () => {
  it('counts like TextEncoder, also for a surrogate pair split across chunks', () => {
    for (const s of ['', 'ascii', 'ü', '€', '😀', 'mixed é € 😀 text']) {
      expect(utf8Length(s), s).toBe(new TextEncoder().encode(s).length);
    }
    const pair = '😀';
    expect(utf8Length(pair.slice(0, 1)) + utf8Length(pair.slice(1))).toBe(4);
  });
});
