/**
 * One stream of program output (stdout or stderr) as the chunks it arrived in: an immutable
 * chain, newest chunk first, with running totals. Appending is O(1) and keeps earlier values
 * valid, so it can live in React state; and a view that has rendered one value can take just the
 * chunks added since (newChunksSince) instead of re-reading megabytes of concatenated text.
 * (A plain string would be flattened, copied in full, by any read of its new tail.)
 */

export interface OutputText {
  readonly chunk: string;
  readonly prev: OutputText | null;
  /** UTF-8 size of all chunks up to and including this one. */
  readonly bytes: number;
}

/** The empty output, and the root of every chain. */
export const NO_OUTPUT: OutputText = Object.freeze({ chunk: '', prev: null, bytes: 0 });

export function appendOutput(output: OutputText, chunk: string): OutputText {
  return chunk === '' ? output : { chunk, prev: output, bytes: output.bytes + utf8Length(chunk) };
}

export function outputFromString(text: string): OutputText {
  return appendOutput(NO_OUTPUT, text);
}

export function outputToString(output: OutputText): string {
  return chunksOf(output).join('');
}

/** All chunks, oldest first. */
export function chunksOf(output: OutputText): string[] {
  return newChunksSince(output, NO_OUTPUT) as string[];
}

/**
 * The chunks appended to `seen` to make `output`, oldest first; null when `output` does not
 * continue `seen` (another stream, or it was reset), in which case it must be read from scratch.
 */
export function newChunksSince(output: OutputText, seen: OutputText): string[] | null {
  const chunks: string[] = [];
  for (let node: OutputText | null = output; node !== seen; node = node.prev) {
    if (node === null) return null;
    chunks.push(node.chunk);
  }
  return chunks.reverse();
}

/** Bytes `text` takes as UTF-8, without encoding it. A surrogate pair counts 4 even when split across chunks. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return n;
}
