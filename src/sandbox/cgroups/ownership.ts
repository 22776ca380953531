/**
 * Every server process keeps its sandboxes' cgroups under crucible/<instance>/, where the
 * instance name encodes the owner's pid and kernel start time. Several servers and test runs
 * share a machine, so stale clean-up must remove only instances whose owner is really gone; the
 * start time makes a recycled pid not pass for the original owner.
 */
import { readFileSync } from 'node:fs';

export const CGROUP_ROOT_NAME = 'crucible';

function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may itself contain spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 of the whole line: starttime
  } catch {
    return null;
  }
}

let ownInstance: string | null = null;

/** This process's instance name, e.g. p1234-567890. */
export function ownInstanceName(): string {
  ownInstance ??= `p${process.pid}-${processStartTime(process.pid) ?? Date.now()}`;
  return ownInstance;
}

/** True when the process that created `instance` is still running (unknown names count as alive: never touch what we do not understand). */
export function isInstanceOwnerAlive(instance: string): boolean {
  const m = /^p(\d+)-(\d+)$/.exec(instance);
  if (!m) return true;
  return processStartTime(Number(m[1])) === m[2];
}
