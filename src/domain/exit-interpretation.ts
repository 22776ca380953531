/**
 * Turns the raw facts of a finished sandbox run into an honest verdict: a status, a reason and a
 * sentence a human can act on. Pure and total: every combination of facts maps to exactly one
 * reason, with a fixed precedence (our own decisions first, then the kernel's, then the program's).
 */
import type { EvaluationStatus, Reason } from './evaluation.js';
import { OUTPUT_FLOOD_FACTOR, type Limits } from './limits.js';
import { formatBytes, formatMebibytes } from './format-bytes.js';

export interface ExitFacts {
  /** Exit code of the program, or null when it was ended by a signal. */
  exitCode: number | null;
  /** Name of the signal that ended the program (e.g. "SIGKILL"), or null. */
  signal: string | null;
  /** The memory cgroup's OOM-kill counter went up during the run. */
  oomKilled: boolean;
  /** The pids cgroup refused at least one fork/clone during the run. */
  pidsLimitHit: boolean;
  /** Our wall-clock timer fired and killed the sandbox. */
  timedOut: boolean;
  /** A user cancelled the run and we killed the sandbox. */
  cancelled: boolean;
  /** We killed the sandbox because it kept flooding output past the limit. */
  outputLimitKilled: boolean;
  /** The sandbox itself failed (could not start, crashed); the text says why. */
  platformError: string | null;
  limits: Limits;
}

/** Facts of a run where nothing happened yet: the base every ending adds its own facts to. */
export const NO_EXIT_FACTS: Omit<ExitFacts, 'limits'> = {
  exitCode: null,
  signal: null,
  oomKilled: false,
  pidsLimitHit: false,
  timedOut: false,
  cancelled: false,
  outputLimitKilled: false,
  platformError: null,
};

export interface Verdict {
  status: EvaluationStatus;
  reason: Reason;
  message: string;
}

const SIGNAL_MEANINGS: Record<string, string> = {
  SIGKILL: 'killed outright',
  SIGSEGV: 'segmentation fault (invalid memory access)',
  SIGABRT: 'aborted (often a failed assertion in native code)',
  SIGFPE: 'arithmetic error',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGTERM: 'asked to terminate',
  SIGINT: 'interrupted',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
  SIGPIPE: 'wrote to a closed pipe',
  SIGHUP: 'hang-up',
  SIGQUIT: 'quit',
  SIGSYS: 'forbidden system call (blocked by the sandbox filter)',
};

/** Shell-style code of a run: the exit code, or 128 + signal number for a signal. */
export function shellExitCode(exitCode: number | null, signal: string | null): number | null {
  if (exitCode !== null) return exitCode;
  const num = signal ? SIGNAL_NUMBERS[signal] : undefined;
  return num === undefined ? null : 128 + num;
}

export const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

export function signalName(num: number): string | null {
  for (const [name, n] of Object.entries(SIGNAL_NUMBERS)) if (n === num) return name;
  return null;
}

function codeSuffix(facts: ExitFacts): string {
  const code = shellExitCode(facts.exitCode, facts.signal);
  return code === null ? '' : ` (exit ${code})`;
}

export function statusForReason(reason: Reason): EvaluationStatus {
  switch (reason) {
    case 'exit_zero':
      return 'completed';
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'failed';
  }
}

function verdict(reason: Reason, message: string): Verdict {
  return { status: statusForReason(reason), reason, message };
}

export function interpretExit(facts: ExitFacts): Verdict {
  const { limits } = facts;
  if (facts.platformError !== null) {
    return verdict('platform_error', `Platform error: ${facts.platformError}. The program's own result is unknown; this is not its fault.`);
  }
  if (facts.cancelled) return verdict('cancelled', 'Cancelled by a user; the sandbox was killed.');
  if (facts.timedOut) {
    // A fork bomb usually ends here: the time limit is what stopped it, but the refused forks are
    // what the program was doing, and the user should not have to guess.
    const forks = facts.pidsLimitHit ? ` Before that, forks were refused at the process limit (max_processes ${limits.max_processes}).` : '';
    return verdict(
      'timeout',
      `Time limit exceeded (${limits.timeout_s} s): the whole sandbox was killed (SIGKILL).${forks} Output printed before that is kept.`,
    );
  }
  const endedBadly = facts.exitCode !== 0;
  if (facts.oomKilled && endedBadly) {
    return verdict('oom', `Memory limit exceeded (${formatMebibytes(limits.memory_mb)}): the kernel killed the process${codeSuffix(facts)}.`);
  }
  if (facts.outputLimitKilled) {
    return verdict(
      'output_limit',
      `Output limit exceeded: the program kept writing past ${OUTPUT_FLOOD_FACTOR} × ${formatBytes(limits.max_output_bytes)} and was killed; the first ${formatBytes(limits.max_output_bytes)} of each stream are kept.`,
    );
  }
  if (facts.pidsLimitHit && endedBadly) {
    return verdict(
      'pids_limit',
      `Process limit reached (${limits.max_processes} processes/threads): the program could not start more and ended${codeSuffix(facts)}.`,
    );
  }
  if (facts.signal !== null) {
    const meaning = SIGNAL_MEANINGS[facts.signal];
    return verdict('signal', `Killed by ${facts.signal}${meaning ? ` — ${meaning}` : ''}${codeSuffix(facts)}; not a limit of the sandbox.`);
  }
  if (facts.exitCode !== 0) {
    const hint = facts.exitCode === 1 ? ': usually an uncaught exception (see stderr) or sys.exit(1)' : '';
    return verdict('exit_nonzero', `The program exited with code ${facts.exitCode}${hint}.`);
  }
  const notes: string[] = [];
  if (facts.oomKilled) notes.push('a process inside was killed by the memory limit, but the program recovered');
  if (facts.pidsLimitHit) notes.push('the process limit refused at least one fork');
  return verdict('exit_zero', `Exited normally (exit 0)${notes.length ? `; note: ${notes.join('; ')}` : ''}.`);
}

/** Explanations shown next to exit codes (UI click-through, CLI). */
export const EXIT_CODE_GUIDE: ReadonlyArray<{ code: string; meaning: string }> = [
  { code: '0', meaning: 'Success: the program finished normally.' },
  { code: '1', meaning: 'Python default failure: an uncaught exception (traceback in stderr) or sys.exit(1).' },
  { code: '2', meaning: 'Usage error, e.g. a command-line argument error.' },
  { code: '3–125', meaning: 'A code chosen by the program itself via sys.exit(n).' },
  {
    code: '137',
    meaning:
      '128 + 9 (SIGKILL): killed outright — by the memory limit (reason oom), the time limit (reason timeout), a user (cancelled), or the program itself (reason signal).',
  },
  { code: '139', meaning: '128 + 11 (SIGSEGV): segmentation fault in native code.' },
  { code: '134', meaning: '128 + 6 (SIGABRT): abort, often a failed assertion in a C extension.' },
  { code: '159', meaning: '128 + 31 (SIGSYS): a forbidden system call was blocked by the sandbox filter.' },
  { code: '128 + n', meaning: 'Killed by signal n.' },
];
