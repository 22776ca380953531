/**
 * How the Sessions view shows what a session did: commands as a shell would read them, program
 * output that may hold any bytes (shown safely: control bytes as visible escapes, non-UTF-8 as a
 * hex preview), and the ordered event log assembled from a stream that may replay.
 */
import type { ExecInput, ExecResult } from '../../../src/client/index';
import type { ExecReason, SessionEvent, SessionStatus } from '../../../src/domain/session';

/** argv as one shell line: arguments with spaces or shell characters single-quoted. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A piece of output text: plain text, or one byte/character shown as an escape (`\x1b`, `\r`). */
export type OutputPiece = { text: string } | { escape: string };

const NAMED_ESCAPES: Record<string, string> = { '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\u0000': '\\0' };

/**
 * Output text split into what is shown as it is and control characters shown as escapes, so a
 * terminal sequence or a NUL can neither disturb the page nor hide. Newlines and tabs stay.
 */
export function printablePieces(text: string): OutputPiece[] {
  const pieces: OutputPiece[] = [];
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // C0 controls except tab and newline, DEL, and the C1 controls.
    const control = (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
    if (!control) continue;
    if (i > last) pieces.push({ text: text.slice(last, i) });
    const c = text[i]!;
    pieces.push({ escape: NAMED_ESCAPES[c] ?? `\\x${code.toString(16).padStart(2, '0')}` });
    last = i + 1;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

/** Output bytes as the console shows them: UTF-8 text, or (anything else) a size and a hex preview. */
export type DecodedOutput = { kind: 'text'; text: string } | { kind: 'binary'; size: number; hex: string; more: boolean };

export const HEX_PREVIEW_BYTES = 256;

export function decodeOutput(base64: string | undefined): DecodedOutput {
  const bytes = base64ToBytes(base64 ?? '');
  try {
    return { kind: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const shown = bytes.subarray(0, HEX_PREVIEW_BYTES);
    const hex = [...shown].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return { kind: 'binary', size: bytes.length, hex, more: bytes.length > shown.length };
  }
}

function base64ToBytes(b64: string): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Whether text decoded by the server stood in U+FFFD for bytes that were not UTF-8. */
export const hasReplacementChars = (text: string) => text.includes('\ufffd');

/** The console's two ways of running a line: through `sh -c`, or as Python code. */
export type ConsoleMode = 'shell' | 'python';

export function consoleExec(mode: ConsoleMode, line: string, timeoutS: number): ExecInput {
  // base64: the console shows the bytes exactly (binary as hex), not the server's lossy text.
  const common = { timeout_s: timeoutS, output_encoding: 'base64' as const };
  return mode === 'shell' ? { cmd: ['sh', '-c', line], ...common } : { code: line, ...common };
}

/** The events known so far plus newly arrived ones, once each, in sequence order (a reconnect may replay). */
export function mergeEvents(current: readonly SessionEvent[], arrived: readonly SessionEvent[]): SessionEvent[] {
  const bySeq = new Map(current.map((e) => [e.seq, e]));
  for (const e of arrived) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Badge styles shared with evaluations: a colour for each state, never the only signal (the word is there). */
export const SESSION_STATUS_BADGE: Record<SessionStatus, string> = { starting: 'provisioning', ready: 'running', ended: 'cancelled' };

export const EXEC_REASON_BADGE: Record<ExecReason, string> = {
  completed: 'completed',
  nonzero_exit: 'failed',
  signaled: 'failed',
  timeout: 'timeout',
  output_limit: 'failed',
  not_started: 'failed',
};

export const EXEC_REASON_LABEL: Record<ExecReason, string> = {
  completed: 'Completed',
  nonzero_exit: 'Non-zero exit',
  signaled: 'Killed by a signal',
  timeout: 'Timed out',
  output_limit: 'Output limit',
  not_started: 'Not started',
};

/** "exit 0", "exit 2", "SIGKILL": how the command ended, in brief. */
export function exitSummary(r: Pick<ExecResult, 'exit_code' | 'signal'>): string {
  if (r.signal) return r.signal;
  return r.exit_code === null ? 'no exit code' : `exit ${r.exit_code}`;
}
