/**
 * The line protocol on the sandbox's status fd, written by the native launcher (set-up errors)
 * and by the in-sandbox init (start and the program's raw wait status):
 *   "error <text>"  the sandbox could not be set up
 *   "ready"         the sandbox is set up and waits for the program's code
 *   "started"       the program is isolated and about to run
 *   "exit <n>"      raw wait(2) status of the program
 */
import { signalName } from '../../domain/exit-interpretation.js';

export interface ProgramEnding {
  exitCode: number | null;
  signal: string | null;
}

export class StatusChannel {
  private buffered = '';
  ready = false;
  started = false;
  setupError: string | null = null;
  ending: ProgramEnding | null = null;
  /** performance.now() when the program's ending was reported (null until then). */
  endedAt: number | null = null;
  onReady: () => void = () => undefined;
  onStarted: () => void = () => undefined;

  push(chunk: Buffer): void {
    this.buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      this.line(this.buffered.slice(0, nl));
      this.buffered = this.buffered.slice(nl + 1);
    }
  }

  private line(line: string): void {
    if (line === 'ready') {
      this.ready = true;
      this.onReady();
    } else if (line === 'started') {
      if (!this.started) {
        this.started = true;
        this.onStarted();
      }
    } else if (line.startsWith('exit ')) {
      this.ending = decodeWaitStatus(Number(line.slice(5)));
      this.endedAt = performance.now();
    } else if (line.startsWith('error ')) {
      this.setupError ??= line.slice(6);
    }
  }
}

/** Decodes a raw wait(2) status (WIFEXITED / WTERMSIG). */
export function decodeWaitStatus(status: number): ProgramEnding {
  const termSig = status & 0x7f;
  if (termSig === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  return { exitCode: null, signal: signalName(termSig) ?? `SIG${termSig}` };
}

/**
 * Best guess from a shell-style exit code when no raw status is available (128+n is taken as
 * signal n: a program exiting with such a code on purpose is indistinguishable here).
 */
export function decodeShellCode(code: number | null, signal: NodeJS.Signals | null): ProgramEnding {
  if (signal) return { exitCode: null, signal };
  if (code !== null && code > 128 && code <= 128 + 64) {
    const name = signalName(code - 128);
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: code, signal: null };
}
