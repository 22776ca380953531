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

  it('keeps the first limit bytes, marks truncation, counts everything, cuts on a character boundary', () => {
    const c = new OutputCapture(5);
    c.push(Buffer.from('abcd€')); // € is 3 bytes: only "abcd" + 1 byte fit
    c.push(Buffer.from('more'));
    c.end();
    expect(c.text()).toBe('abcd');
    expect(c.truncated).toBe(true);
    expect(c.totalBytes).toBe(11);
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
    s.push(Buffer.from('error bwrap failed\n'));
    expect(s.setupError).toBe('bwrap failed');
  });
});
