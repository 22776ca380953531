/**
 * How runsc's own failures are told from the program's endings: runsc could not run the
 * container at all, or it died while the program ran.
 */
import type { ProgramEnding } from '../run/status-channel.js';

/** Exit code of a Go program whose runtime hit a fatal error (e.g. it could not create a thread). */
const GO_RUNTIME_FATAL_EXIT = 2;

/** runsc reports its own failures (bad bundle, cannot start the sandbox) on stderr with exit 128. */
export function runscFailure(ending: ProgramEnding, stderr: string): string | null {
  if (ending.exitCode !== 128) return null;
  const line = stderr.split('\n').find((l) => /(creating|starting|running) container|runsc:|cannot|failed to/i.test(l));
  return line ? `runsc could not run the container: ${line.trim().slice(0, 400)}` : null;
}

/**
 * The program's ending was not reported, or (Debian 12's runsc, no report at all) runsc's exit is
 * known not to be the program's: runsc itself died. Its own threads count against the host
 * cgroup's pids.max and the program's processes multiply them (Debian 12's ptrace platform: one
 * host thread per program thread); refused one, the Go runtime aborts with exit 2, which used to
 * be reported as the program's "exit 2" with reason pids_limit.
 */
export function runscDied(ending: ProgramEnding, facts: { pidsLimitHit: boolean; reportsStatus: boolean }): string | null {
  const starved = facts.pidsLimitHit ? ": the host task limit refused runsc threads of its own (the program's processes multiply them)" : '';
  const runsc = ending.signal ? `runsc killed by ${ending.signal}` : `runsc exit ${ending.exitCode}`;
  if (facts.reportsStatus) return `the gVisor runtime ended without reporting how the program ended (${runsc})${starved}`;
  // Without a report, only the Go runtime's own crash code after a refused thread is certain.
  if (facts.pidsLimitHit && ending.exitCode === GO_RUNTIME_FATAL_EXIT) return `the gVisor runtime died (${runsc})${starved}`;
  return null;
}
