/**
 * Capture of one output stream (stdout or stderr) of a sandboxed program, within
 * `limitBytes`:
 * - live: the first `limitBytes` bytes are decoded and handed to `onText` as they arrive, as
 *   UTF-8 that never splits a multi-byte character across chunks (invalid bytes become U+FFFD);
 * - stored: a stream that fits is kept whole; one that does not keeps its head and its tail —
 *   the end of a long output is usually what matters (the traceback) — with a marker line at
 *   the gap saying how many bytes were left out (see `omissionMarker`), all within the limit;
 * - it keeps counting what the program writes, so a flood can be stopped.
 */
import { isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

/** The line put where bytes were left out; documented in docs/sandbox.md ("Output"). */
export function omissionMarker(omittedBytes: number): string {
  return `\n…[crucible: ${omittedBytes} bytes omitted]…\n`;
}

/** Bytes set aside from the tail for the marker (it is ~40 bytes even for a 16 EiB gap). */
const MARKER_RESERVE = 64;

export class OutputCapture {
  private readonly decoder = new StringDecoder('utf8');
  /** Raw bytes of the first `limitBytes` (the head is cut from them once the stream overflows). */
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** The last bytes written once the stream overflowed, at most `tailLimit`. */
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  /** Every byte the program wrote to the stream, kept or not. */
  totalBytes = 0;
  truncated = false;

  constructor(
    private readonly limitBytes: number,
    private readonly onText?: (text: string) => void,
  ) {
    this.headLimit = Math.ceil(limitBytes / 2);
    this.tailLimit = Math.max(0, limitBytes - this.headLimit - MARKER_RESERVE);
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.truncated) return this.keepTail(chunk);
    const room = this.limitBytes - this.headBytes;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.head.push(kept);
    this.headBytes += kept.length;
    // At the cut, a partial character stays inside the decoder and is dropped: what was streamed
    // is a clean prefix instead of ending in a replacement character we made up.
    this.emit(this.decoder.write(kept));
    if (kept.length < chunk.length) {
      this.truncated = true;
      // Past the head, what was streamed live beyond it may still end up in the tail.
      const all = Buffer.concat(this.head);
      this.head.splice(0, this.head.length, all.subarray(0, this.headLimit));
      this.keepTail(all.subarray(this.headLimit));
      this.keepTail(chunk.subarray(room));
    }
  }

  /** The stream ended: flush a character left incomplete by the program itself. */
  end(): void {
    if (!this.truncated) this.emit(this.decoder.end());
  }

  /**
   * The kept bytes exactly as the program wrote them (head + marker + tail when truncated), or
   * null when `text()` already says the same thing in UTF-8: only output that is not valid UTF-8
   * (or that holds NUL, which the stored text replaces) needs its bytes kept as well.
   */
  rawBytes(): Buffer | null {
    if (!this.truncated) {
      // Valid UTF-8 without NUL decodes to text that encodes back to the same bytes.
      return plainUtf8(this.head) ? null : Buffer.concat(this.head);
    }
    // Bytes are cut where they are, not at character boundaries: binary output has none.
    const head = this.head[0] ?? Buffer.alloc(0);
    const tail = this.tailBuffer();
    // Valid head and tail have no character cut at the gap, so text() keeps them as they are.
    if (plainUtf8([head]) && plainUtf8([tail])) return null;
    return Buffer.concat([head, Buffer.from(omissionMarker(this.totalBytes - head.length - tail.length), 'utf8'), tail]);
  }

  /**
   * The stored text: everything, or head + marker + tail. Decoded from the kept bytes at the end
   * rather than kept as the live text too, so a large output is held once while it runs.
   */
  text(): string {
    if (!this.truncated) {
      // Chunk by chunk: joining the chunks first would allocate the stream's size once more, off
      // the JavaScript heap, where freed memory is slow to go back to the system.
      const decoder = new StringDecoder('utf8');
      let text = '';
      for (const chunk of this.head) text += decoder.write(chunk);
      return text + decoder.end();
    }
    const head = completeCharsPrefix(this.head[0] ?? Buffer.alloc(0));
    const tail = completeCharsSuffix(this.tailBuffer());
    return head.toString('utf8') + omissionMarker(this.totalBytes - head.length - tail.length) + tail.toString('utf8');
  }

  /**
   * Drops the kept bytes once the result holds what it needs of them (text() and rawBytes()): the
   * capture may outlive the run a while (the sockets that fed it close in their own time), and a
   * 16 MiB stream must not stay resident with it.
   */
  release(): void {
    this.head.length = 0;
    this.tail.length = 0;
    this.headBytes = this.tailBytes = 0;
  }

  private tailBuffer(): Buffer {
    if (this.tail.length !== 1) this.tail.splice(0, this.tail.length, Buffer.concat(this.tail));
    return this.tail[0] ?? Buffer.alloc(0);
  }

  private keepTail(chunk: Buffer): void {
    if (this.tailLimit === 0 || chunk.length === 0) return;
    const piece = chunk.length > this.tailLimit ? chunk.subarray(chunk.length - this.tailLimit) : chunk;
    this.tail.push(piece);
    this.tailBytes += piece.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
      }
    }
  }

  private emit(text: string): void {
    if (text !== '') this.onText?.(text);
  }
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/**
 * Whether the chunks, one after the other, are valid UTF-8 without NUL: checked chunk by chunk,
 * with a character cut at a chunk's end carried over to the next, so they are never joined.
 */
function plainUtf8(chunks: readonly Buffer[]): boolean {
  let carried: Buffer = Buffer.alloc(0);
  for (const chunk of chunks) {
    const bytes = carried.length ? Buffer.concat([carried, chunk]) : chunk;
    const whole = completeCharsPrefix(bytes);
    if (!isUtf8(whole) || whole.includes(0)) return false;
    carried = bytes.subarray(whole.length);
  }
  return carried.length === 0;
}

/** Drops a multi-byte character cut off at the end (so the cut adds no replacement character). */
function completeCharsPrefix(bytes: Buffer): Buffer {
  let start = bytes.length;
  // Find the lead byte of the last character (at most 3 continuation bytes back).
  while (start > 0 && bytes.length - start < 4 && isContinuation(bytes[start - 1]!)) start--;
  if (start === 0) return bytes;
  const lead = bytes[start - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - (start - 1) < need ? bytes.subarray(0, start - 1) : bytes;
}

/** Drops the continuation bytes of a character cut off at the start. */
function completeCharsSuffix(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && start < 3 && isContinuation(bytes[start]!)) start++;
  return bytes.subarray(start);
}
