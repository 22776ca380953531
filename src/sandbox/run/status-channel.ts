/**
 * The line protocol on the sandbox's status fd, written by the native launcher (set-up errors)
 * and by the in-sandbox init (start and the program's raw wait status):
 *   "error <text>"  the sandbox could not be set up
 *   "ready"         the sandbox is set up and waits for the program's code
 *   "started <t>"   the program is isolated and about to run
 *   "exit <n> <t>"  raw wait(2) status of the program
 * where <t> is init's CLOCK_MONOTONIC time in ns when it wrote the line (absent from older
 * inits; meaningful on the host only where the sandbox shares the host's clock).
 * and after "exit", the artifact collection's records (raw bytes after their header line, see
 * collect() in native/sandbox-init.c), handed to the run's ArtifactReceiver:
 *   "artifact <p> <n>" + p bytes of path + n bytes of content
 *   "drop <reason> <p> <size>" + p bytes of path
 *   "collected <more>"
 */
import { signalName } from '../../domain/exit-interpretation.js';
import type { ArtifactReceiver } from './artifact-receiver.js';

/** A header line longer than this is not ours: the channel stops reading. */
const MAX_LINE = 4096;
/** A collected path longer than this is refused (the collector sends at most 1024 bytes). */
const MAX_PATH_BYTES = 4096;

interface PendingBody {
  remaining: number;
  /** null: the bytes are skipped, not kept. */
  parts: Buffer[] | null;
  done: (body: Buffer) => void;
}

/** A status line's clock field: ns as a bigint, or null when absent or not a plain number. */
function clockField(text: string): bigint | null {
  return /^[0-9]{1,19}$/.test(text) ? BigInt(text) : null;
}

export interface ProgramEnding {
  exitCode: number | null;
  signal: string | null;
}

export class StatusChannel {
  private line = Buffer.alloc(0);
  private body: PendingBody | null = null;
  private broken = false;
  /** Where collected artifacts go; without one they are skipped. */
  receiver: ArtifactReceiver | null = null;
  ready = false;
  started = false;
  setupError: string | null = null;
  ending: ProgramEnding | null = null;
  /** performance.now() when the program's ending was reported (null until then). */
  endedAt: number | null = null;
  /** Init's own clock (CLOCK_MONOTONIC, ns) when it wrote "started" / "exit" (null: not said). */
  startedClockNs: bigint | null = null;
  endedClockNs: bigint | null = null;
  onReady: () => void = () => undefined;
  onStarted: () => void = () => undefined;
  /** The program's ending was reported (artifact records may follow). */
  onEnded: () => void = () => undefined;

  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && !this.broken) {
      if (this.body) {
        const take = Math.min(this.body.remaining, data.length);
        this.body.parts?.push(data.subarray(0, take));
        this.body.remaining -= take;
        data = data.subarray(take);
        if (this.body.remaining === 0) {
          const { parts, done } = this.body;
          this.body = null;
          if (parts) done(Buffer.concat(parts));
        }
        continue;
      }
      const nl = data.indexOf(10);
      if (nl < 0) {
        this.line = Buffer.concat([this.line, data]);
        if (this.line.length > MAX_LINE) this.broken = true;
        return;
      }
      const text = Buffer.concat([this.line, data.subarray(0, nl)]).toString('utf8');
      this.line = Buffer.alloc(0);
      data = data.subarray(nl + 1);
      this.handle(text);
    }
  }

  /** Reads `bytes` raw bytes next; `keep` false skips them. */
  private expect(bytes: number, keep: boolean, done: (body: Buffer) => void): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      this.broken = true;
      return;
    }
    if (bytes === 0) return keep ? done(Buffer.alloc(0)) : undefined;
    this.body = { remaining: bytes, parts: keep ? [] : null, done };
  }

  private handle(line: string): void {
    if (this.ending) return this.collectionRecord(line);
    if (line === 'ready') {
      this.ready = true;
      this.onReady();
    } else if (line === 'started' || line.startsWith('started ')) {
      if (!this.started) {
        this.started = true;
        this.startedClockNs = clockField(line.slice(8));
        this.onStarted();
      }
    } else if (line.startsWith('exit ')) {
      const [status = '', clock = ''] = line.slice(5).split(' ');
      this.ending = decodeWaitStatus(Number(status));
      this.endedAt = performance.now();
      this.endedClockNs = clockField(clock);
      this.onEnded();
    } else if (line.startsWith('error ')) {
      this.setupError ??= line.slice(6);
    }
  }

  /**
   * A record of the artifact collection (after the program's ending). A collector that fails
   * says "error ...": the run stands, its collection is merely incomplete (no "collected").
   */
  private collectionRecord(line: string): void {
    const receiver = this.receiver;
    const [kind, ...fields] = line.split(' ');
    if (kind === 'artifact' && fields.length === 2) {
      const pathBytes = Number(fields[0]);
      const size = Number(fields[1]);
      const keep = receiver !== null && pathBytes <= MAX_PATH_BYTES && receiver.accepts(size);
      this.expect(pathBytes + size, keep, (body) => receiver?.artifact(body.subarray(0, pathBytes), body.subarray(pathBytes)));
    } else if (kind === 'drop' && fields.length === 3) {
      const pathBytes = Number(fields[1]);
      const keep = receiver !== null && pathBytes <= MAX_PATH_BYTES;
      this.expect(pathBytes, keep, (body) => receiver?.drop(fields[0]!, body.toString('utf8'), Number(fields[2])));
    } else if (kind === 'collected' && fields.length === 1) {
      receiver?.collected(Number(fields[0]));
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
