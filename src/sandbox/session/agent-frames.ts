/**
 * The framing the session agent (native/session-agent.py) speaks on its stdin/stdout: one line of
 * JSON, then exactly `len` raw bytes. Raw bytes, not base64 in JSON: files of 64 MiB pass without
 * a third more to copy and parse.
 */
import type { Readable, Writable } from 'node:stream';

export interface Frame {
  header: Record<string, unknown> & { len: number };
  payload: Buffer;
}

/** Frames up to this size go out in one write (header and payload copied together). */
const SMALL_FRAME_BYTES = 64 * 1024;

export function writeFrame(out: Writable, header: Record<string, unknown>, payload: Buffer = Buffer.alloc(0)): void {
  const line = JSON.stringify({ ...header, len: payload.length }) + '\n';
  if (payload.length === 0) return void out.write(line);
  // One write for a small frame (an exec with stdin): the agent would otherwise wake for the
  // header line alone, then again for its payload. A large one is not copied just to save that.
  if (payload.length <= SMALL_FRAME_BYTES) return void out.write(Buffer.concat([Buffer.from(line), payload]));
  out.write(line);
  out.write(payload);
}

/**
 * Parses frames from `input` as they arrive and hands each to `onFrame`. A payload is copied once,
 * straight from the arriving chunks into a buffer of its announced size (a 64 MiB file read is
 * ~1000 chunks: gathering them and then copying them again would cost two copies of it).
 */
export function readFrames(input: Readable, onFrame: (frame: Frame) => void, onBadFrame: (message: string) => void): void {
  /** Bytes of the next header line seen so far. */
  let line: Buffer[] = [];
  /** The frame whose payload is arriving, and how much of it is in. */
  let pending: Frame | null = null;
  let filled = 0;
  input.on('data', (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (pending) {
        const n = chunk.copy(pending.payload, filled, at, Math.min(chunk.length, at + pending.payload.length - filled));
        filled += n;
        at += n;
        if (filled < pending.payload.length) return;
        const frame = pending;
        pending = null;
        onFrame(frame);
        continue;
      }
      const nl = chunk.indexOf(10, at);
      if (nl < 0) return void line.push(chunk.subarray(at));
      line.push(chunk.subarray(at, nl));
      at = nl + 1;
      const text = Buffer.concat(line).toString('utf8');
      line = [];
      let header: Frame['header'];
      try {
        header = JSON.parse(text) as Frame['header'];
      } catch {
        onBadFrame(`unreadable frame from the session agent: ${text.slice(0, 200)}`);
        return;
      }
      const len = header.len ?? 0;
      if (len === 0) {
        onFrame({ header, payload: Buffer.alloc(0) });
        continue;
      }
      pending = { header, payload: Buffer.allocUnsafe(len) };
      filled = 0;
    }
  });
}
