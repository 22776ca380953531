/**
 * Routing evaluations to workers by environment, as pure rules: which environments a worker
 * serves (its `--environments` flag against what is built on its host), and what a user is told
 * while an evaluation waits for an environment no live worker serves.
 *
 * The queue itself routes (a worker only ever takes jobs of the environments it serves); these
 * rules only decide the served set at start-up and explain the wait.
 */
import { ENVIRONMENTS, type Environment } from './evaluation.js';

const isEnvironment = (name: string): name is Environment => (ENVIRONMENTS as readonly string[]).includes(name);

/**
 * Parses a comma-separated list of environment names (`--environments python,python-data`).
 * Unknown or missing names are an error naming the known ones; repeats are dropped.
 */
export function parseEnvironmentList(text: string, source = '--environments'): Environment[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`${source} needs at least one environment; known: ${ENVIRONMENTS.join(', ')}`);
  const unknown = names.filter((n) => !isEnvironment(n));
  if (unknown.length > 0) {
    const list = unknown.map((n) => `"${n}"`).join(', ');
    throw new Error(`${source}: unknown environment${unknown.length > 1 ? 's' : ''} ${list}; known: ${ENVIRONMENTS.join(', ')}`);
  }
  return [...new Set(names as Environment[])];
}

/**
 * The environments a worker serves: the requested ones if every one is available on its host,
 * else all that are available. A requested environment that is not available, or a host with
 * none, is an error: such a worker would take jobs it can only fail, or none at all.
 */
export function servedEnvironments(requested: readonly Environment[] | undefined, availableOnHost: readonly Environment[]): Environment[] {
  if (availableOnHost.length === 0) {
    throw new Error(`no environment is available on this host (known: ${ENVIRONMENTS.join(', ')}); build one with \`crucible env build <name>\``);
  }
  if (!requested) return [...availableOnHost];
  const missing = requested.filter((e) => !availableOnHost.includes(e));
  if (missing.length > 0) {
    throw new Error(
      `--environments names ${missing.join(', ')}, not available on this host (available here: ${availableOnHost.join(', ')}); ` +
        `build ${missing.length > 1 ? 'them' : 'it'} with \`crucible env build ${missing[0]}\` or leave ${missing.length > 1 ? 'them' : 'it'} out`,
    );
  }
  return [...requested];
}

/** Workers whose last heartbeat is within the liveness window: the ones that take jobs. */
export function liveWorkers<T extends { last_seen: string }>(workers: readonly T[], livenessWindowMs: number, now = Date.now()): T[] {
  return workers.filter((w) => now - Date.parse(w.last_seen) <= livenessWindowMs);
}

/** Known environments no live worker serves, in catalogue order. */
export function unservedEnvironments(liveWorkers: ReadonlyArray<{ environments: readonly Environment[] }>): Environment[] {
  const served = new Set(liveWorkers.flatMap((w) => w.environments));
  return ENVIRONMENTS.filter((e) => !served.has(e));
}

/**
 * Why a queued evaluation of `environment` is not picked up, or null when a live worker serves it
 * (then it simply waits its turn).
 */
export function waitingReason(environment: Environment, liveWorkers: ReadonlyArray<{ environments: readonly Environment[] }>): string | null {
  if (liveWorkers.some((w) => w.environments.includes(environment))) return null;
  const start = `start one with \`crucible worker --environments ${environment}\` (or \`crucible serve --environments ${environment}\`) on a host where it is built (build it there with \`crucible env build ${environment}\`)`;
  if (liveWorkers.length === 0)
    return `No live worker is running, so nothing serves environment "${environment}"; it stays queued until a worker serving it starts: ${start}.`;
  const served = new Set(liveWorkers.flatMap((w) => w.environments));
  const others = ENVIRONMENTS.filter((e) => served.has(e)).join(', ');
  return `No live worker serves environment "${environment}" (live workers serve: ${others}); it stays queued until one does: ${start}.`;
}
