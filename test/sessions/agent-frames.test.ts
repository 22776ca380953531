/**
 * The session agent's framing as the host reads it: frames whose header lines and payloads arrive
 * cut at any byte (as a socket delivers them) come out whole, in order, bytes exactly.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readFrames, writeFrame, type Frame } from '../../src/sandbox/session/agent-frames.js';

function framesOf(bytes: Buffer, cutEvery: number): { frames: Frame[]; bad: string[] } {
  const input = new PassThrough();
  const frames: Frame[] = [];
  const bad: string[] = [];
  readFrames(
    input,
    (f) => frames.push(f),
    (m) => bad.push(m),
  );
  for (let at = 0; at < bytes.length; at += cutEvery) input.write(bytes.subarray(at, at + cutEvery));
  return { frames, bad };
}

describe('agent frames', () => {
  const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  const wire = new PassThrough();
  const sent: Buffer[] = [];
  wire.on('data', (c: Buffer) => sent.push(c));
  writeFrame(wire, { type: 'hello' });
  writeFrame(wire, { type: 'read_done', id: 1, note: 'ünïcode' }, big);
  writeFrame(wire, { type: 'exec_done', id: 2 }, Buffer.from([0, 10, 255]));
  writeFrame(wire, { type: 'write_done', id: 3 });

  for (const cut of [1, 7, 4096, 65536, 10_000_000]) {
    it(`reads every frame whole when the stream is cut every ${cut} bytes`, () => {
      const { frames, bad } = framesOf(Buffer.concat(sent), cut);
      expect(bad).toEqual([]);
      expect(frames.map((f) => [f.header.type, f.header.id, f.header.len])).toEqual([
        ['hello', undefined, 0],
        ['read_done', 1, big.length],
        ['exec_done', 2, 3],
        ['write_done', 3, 0],
      ]);
      expect(frames[1]!.header.note).toBe('ünïcode');
      expect(frames[1]!.payload.equals(big)).toBe(true);
      expect([...frames[2]!.payload]).toEqual([0, 10, 255]);
    });
  }

  it('reports a header line that is not JSON', () => {
    const { frames, bad } = framesOf(Buffer.from('not json\n'), 3);
    expect(frames).toEqual([]);
    expect(bad[0]).toContain('unreadable frame');
  });
});
