/**
 * Keeps a TerminalLog in step with an OutputText that grows while a run streams: each new value
 * costs only the chunks added since the last one. Anything that is not a continuation (another
 * run, a reset, a snapshot replaced by the live stream) is read again from scratch.
 */
import { useMemo, useRef } from 'react';
import { newChunksSince, NO_OUTPUT, type OutputText } from './output-text';
import { TerminalLog, type OutputLine } from './terminal-log';

export interface TerminalView {
  /** Lines to show, the unfinished last one included. */
  count: number;
  /** Line `i` (0 ≤ i < count). */
  line(i: number): OutputLine;
  /** The last line is finished (the output ended with a newline). */
  endsWithNewline: boolean;
}

/** The lines as shown, as plain text (no escape sequences, each redrawn line in its final state). */
export function viewText(view: TerminalView): string {
  const lines: string[] = new Array<string>(view.count);
  for (let i = 0; i < view.count; i++) {
    const line = view.line(i);
    lines[i] = typeof line === 'string' ? line : line.map((segment) => segment.text).join('');
  }
  return lines.join('\n') + (view.endsWithNewline ? '\n' : '');
}

export function useTerminalLog(output: OutputText): TerminalView {
  const state = useRef<{ log: TerminalLog; seen: OutputText } | null>(null);
  // The log is a cache that only moves forward and is keyed by what it has read, so running
  // this twice for the same value (StrictMode) or for an older value (a render React threw
  // away) is harmless: the second is a no-op, the first starts over.
  return useMemo(() => {
    let s = state.current;
    let chunks = s ? newChunksSince(output, s.seen) : null;
    if (!s || !chunks) {
      s = { log: new TerminalLog(), seen: NO_OUTPUT };
      chunks = newChunksSince(output, NO_OUTPUT) ?? [];
      state.current = s;
    }
    for (const chunk of chunks) s.log.write(chunk);
    s.seen = output;
    const { lines } = s.log;
    // Finished lines never change, so this view stays right even after the log has moved on.
    const finished = lines.length;
    const open = s.log.openLine();
    return {
      count: finished + (open === null ? 0 : 1),
      endsWithNewline: open === null && finished > 0,
      line: (i: number) => (i < finished ? (lines[i] as OutputLine) : (open ?? '')),
    };
  }, [output]);
}
