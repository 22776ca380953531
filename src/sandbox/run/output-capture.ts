/**
 * Capture of one output stream (stdout or stderr) of a sandboxed program: keeps the first
 * `limitBytes` bytes, decodes them as UTF-8 without ever splitting a multi-byte character
 * across chunks (invalid bytes become U+FFFD), marks the stream truncated past the limit and
 * keeps counting what the program writes so a flood can be stopped.
 */
import { StringDecoder } from 'node:string_decoder';

export class OutputCapture {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];
  private keptBytes = 0;
  /** Every byte the program wrote to the stream, kept or not. */
  totalBytes = 0;
  truncated = false;

  constructor(
    private readonly limitBytes: number,
    private readonly onText?: (text: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.truncated) return;
    const room = this.limitBytes - this.keptBytes;
    let kept = chunk;
    if (chunk.length > room) {
      kept = chunk.subarray(0, room);
      this.truncated = true;
    }
    this.keptBytes += kept.length;
    // At the cut, a partial character stays inside the decoder and is dropped: the kept text
    // is a clean prefix instead of ending in a replacement character we made up.
    this.emit(this.decoder.write(kept));
  }

  /** The stream ended: flush a character left incomplete by the program itself. */
  end(): void {
    if (!this.truncated) this.emit(this.decoder.end());
  }

  text(): string {
    return this.parts.join('');
  }

  private emit(text: string): void {
    if (text === '') return;
    this.parts.push(text);
    this.onText?.(text);
  }
}
