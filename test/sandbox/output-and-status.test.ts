/** Unit tests of the pieces that turn raw bytes and statuses into results (no sandbox needed). */
import { describe, expect, it } from 'vitest';
import { OutputCapture } from '../../src/sandbox/run/output-capture.js';
import { decodeShellCode, decodeWaitStatus, StatusChannel } from '../../src/sandbox/run/status-channel.js';

describe('OutputCapture', () => {
  it('never splits a multi-byte character across chunks', () => {
    const bytes = Buffer.from('añ€😀'.repeat(100));
    const seen: string[] = [];
    const c = new OutputCapture(1 << 20, (t) => seen.push(t));
    for (let i = 0; i < bytes.length; i++) c.push(bytes.subarray(i, i + 1));
    c.end();
    expect(c.text()).toBe('añ€😀'.repeat(100));
    expect(seen.join('')).toBe(c.text());
    expect(c.text()).not.toContain('\uFFFD');
  });

  it('keeps the exact bytes only when the text cannot say them (not UTF-8, NUL)', () => {
    const text = new OutputCapture(1024);
    text.push(Buffer.from('héllo €\n'));
    text.end();
    expect(text.rawBytes()).toBeNull();
    const binary = new OutputCapture(1024);
    const bytes = Buffer.from([0x61, 0x00, 0xff, 0xc3]);
    binary.push(bytes);
    binary.end();
    expect(binary.text()).toBe('a\u0000\ufffd\ufffd');
    expect(Buffer.from(binary.rawBytes()!).equals(bytes)).toBe(true);
    // Past the limit: the bytes keep head and tail around the same marker, within the limit.
    const long = new OutputCapture(256);
    long.push(Buffer.concat([Buffer.alloc(200, 0xff), Buffer.alloc(200, 0xfe)]));
    long.end();
    const raw = Buffer.from(long.rawBytes()!);
    expect(raw.length).toBeLessThanOrEqual(256);
    expect(raw[0]).toBe(0xff);
    expect(raw[raw.length - 1]).toBe(0xfe);
    expect(raw.toString('latin1')).toMatch(/\[crucible: \d+ bytes omitted\]/);
  });

  it('a stream within the limit is kept whole and streamed whole', () => {
    const seen: string[] = [];
    const c = new OutputCapture(1024, (t) => seen.push(t));
    c.push(Buffer.from('x'.repeat(1000)));
    c.push(Buffer.from('y'.repeat(24)));
    c.end();
    expect(c.truncated).toBe(false);
    expect(c.text()).toBe('x'.repeat(1000) + 'y'.repeat(24));
    expect(seen.join('')).toBe(c.text());
  });

  it('past the limit keeps head and tail with a marker at the gap, within the limit; streams only the head', () => {
    const seen: string[] = [];
    const c = new OutputCapture(1024, (t) => seen.push(t));
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`);
    for (const line of lines) c.push(Buffer.from(line));
    c.push(Buffer.from('Traceback: the end\n'));
    c.end();
    const all = lines.join('') + 'Traceback: the end\n';
    const text = c.text();
    expect(c.truncated).toBe(true);
    expect(c.totalBytes).toBe(Buffer.byteLength(all));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    const m = /\n…\[crucible: (\d+) bytes omitted\]…\n/.exec(text)!;
    expect(m).not.toBeNull();
    const head = text.slice(0, m.index);
    const tail = text.slice(m.index + m[0].length);
    expect(all.startsWith(head)).toBe(true);
    expect(all.endsWith(tail)).toBe(true);
    expect(tail).toContain('Traceback: the end');
    expect(Buffer.byteLength(head) + Number(m[1]) + Buffer.byteLength(tail)).toBe(c.totalBytes);
    // Live events carried the first 1024 bytes, as they were written.
    expect(seen.join('')).toBe(all.slice(0, 1024));
  });

  it('cuts head and tail on character boundaries', () => {
    const c = new OutputCapture(1024);
    const all = '€'.repeat(2000); // 3 bytes each: no cut falls on a boundary by chance
    c.push(Buffer.from(all));
    c.end();
    const text = c.text();
    expect(text).not.toContain('\uFFFD');
    const [head, tail] = text.split(/\n…\[crucible: \d+ bytes omitted\]…\n/);
    expect(head).toMatch(/^€+$/);
    expect(tail).toMatch(/^€+$/);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
  });

  it('replaces invalid bytes instead of failing', () => {
    const c = new OutputCapture(100);
    c.push(Buffer.from([0x66, 0xff, 0xfe, 0x67]));
    c.push(Buffer.from([0xe2, 0x82])); // incomplete at the very end of the stream
    c.end();
    expect(c.text()).toBe('f\uFFFD\uFFFDg\uFFFD');
  });
});

describe('status decoding', () => {
  it('tells an exit code from a signal in a raw wait status', () => {
    expect(decodeWaitStatus(137 << 8)).toEqual({ exitCode: 137, signal: null });
    expect(decodeWaitStatus(9)).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(decodeWaitStatus(11 | 0x80)).toEqual({ exitCode: null, signal: 'SIGSEGV' }); // core dumped
  });

  it('reads 128+n shell codes as signal n when no raw status exists', () => {
    expect(decodeShellCode(137, null)).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(decodeShellCode(3, null)).toEqual({ exitCode: 3, signal: null });
    expect(decodeShellCode(null, 'SIGKILL')).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it('parses the status channel line by line across chunk boundaries', () => {
    const s = new StatusChannel();
    let started = 0;
    s.onStarted = () => started++;
    s.push(Buffer.from('rea'));
    s.push(Buffer.from('dy\nstarted\nex'));
    s.push(Buffer.from('it 768\n'));
    expect(s.ready).toBe(true);
    expect(started).toBe(1);
    expect(s.ending).toEqual({ exitCode: 3, signal: null });
    // After the program's end only the artifact collector speaks: its failure is not the set-up's.
    s.push(Buffer.from('error cannot write the artifacts\n'));
    expect(s.setupError).toBeNull();
    const failed = new StatusChannel();
    failed.push(Buffer.from('error bwrap failed\n'));
    expect(failed.setupError).toBe('bwrap failed');
  });

  it("reads init's clock on started and exit lines, and ignores one that is not a plain number", () => {
    const s = new StatusChannel();
    s.push(Buffer.from('ready\nstarted 123456789012\nexit 0 123456799012\n'));
    expect([s.startedClockNs, s.endedClockNs, s.ending]).toEqual([123456789012n, 123456799012n, { exitCode: 0, signal: null }]);
    const old = new StatusChannel();
    old.push(Buffer.from('started\nexit 256\n'));
    expect([old.started, old.startedClockNs, old.endedClockNs, old.ending]).toEqual([true, null, null, { exitCode: 1, signal: null }]);
    const odd = new StatusChannel();
    odd.push(Buffer.from('started -5\nexit 9 1e9\n'));
    expect([odd.started, odd.startedClockNs, odd.endedClockNs, odd.ending]).toEqual([true, null, null, { exitCode: null, signal: 'SIGKILL' }]);
  });
});
