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

export function writeFrame(out: Writable, header: Record<string, unknown>, payload: Buffer = Buffer.alloc(0)): void {
  out.write(JSON.stringify({ ...header, len: payload.length }) + '\n');
  if (payload.length) out.write(payload);
}

/** Parses frames from `input` as they arrive and hands each to `onFrame`. */
export function readFrames(input: Readable, onFrame: (frame: Frame) => void, onBadFrame: (message: string) => void): void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let pending: Frame['header'] | null = null;
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length ? [rest] : [];
    buffered = rest.length;
    return head;
  };
  input.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (!pending) {
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
        chunks = all.length ? [all] : [];
        const nl = all.indexOf(10);
        if (nl < 0) return;
        const line = take(nl + 1)
          .subarray(0, nl)
          .toString('utf8');
        try {
          pending = JSON.parse(line) as Frame['header'];
        } catch {
          onBadFrame(`unreadable frame from the session agent: ${line.slice(0, 200)}`);
          return;
        }
      }
      const len = pending.len ?? 0;
      if (buffered < len) return;
      const payload = Buffer.from(take(len));
      const header = pending;
      pending = null;
      onFrame({ header, payload });
    }
  });
}
