/**
 * A throwaway scale-out deployment for tests: its own PostgreSQL schema and Redis key prefix (the
 * namespace), `crucible serve` and `crucible worker` processes from the built CLI, fast heartbeats
 * so that death is noticed in seconds, and a clean-up that kills what it started (by PID), drops
 * the schema and deletes the keys.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { isTerminal } from '../../src/domain/evaluation.js';
import { dropSchema, PG_URL } from '../storage/pg-helpers.js';
import { REDIS_URL } from '../queue/redis-helpers.js';
import { startProcess, Teardown, type Proc } from './processes.js';
import { api, cliPath, spawnServer, waitFor, type ServerProcess } from './server.js';

export { PG_URL, REDIS_URL };

/** Timing used by these tests: a dead worker is presumed dead 3 s after its last heartbeat. */
export const FAST_LIVENESS = {
  CRUCIBLE_HEARTBEAT_MS: '500',
  CRUCIBLE_LIVENESS_WINDOW_MS: '3000',
  CRUCIBLE_REAPER_INTERVAL_MS: '500',
};

export interface WorkerProcess extends Proc {
  /** The id it registered under (shown in GET /api/workers and in evaluations' `worker`). */
  id: string;
}

export interface WorkerOptions {
  concurrency?: number;
  /** --environments (comma-separated); default: the worker's own default (all available on the host). */
  environments?: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Wraps the argv, e.g. to run it inside a network namespace. */
  wrap?: (argv: string[]) => string[];
  env?: NodeJS.ProcessEnv;
}

export class ScaleOutDeployment {
  readonly namespace = `crucible_test_${randomBytes(6).toString('hex')}`;
  readonly teardown = new Teardown();
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly databaseUrl = PG_URL,
    readonly redisUrl = REDIS_URL,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.env = { CRUCIBLE_LOG_LEVEL: 'warn', ...FAST_LIVENESS, ...env, CRUCIBLE_NAMESPACE: this.namespace };
    // Registered first, so it runs last: after every process of the deployment is gone.
    this.teardown.add('drop schema and keys', () => this.dropData());
  }

  /** `crucible serve --workers 0` on 127.0.0.1 (an API-only instance with the reaper). */
  async startApi(env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
    const server = await spawnServer(['--workers', '0', '--database-url', this.databaseUrl, '--redis-url', this.redisUrl], { ...this.env, ...env });
    this.teardown.add(`api ${server.child.pid}`, () => server.kill('SIGKILL'));
    return server;
  }

  /** `crucible worker`, ready once it printed its id (it has registered and is taking jobs). */
  async startWorker(options: WorkerOptions = {}): Promise<WorkerProcess> {
    const argv = [
      process.execPath,
      cliPath,
      'worker',
      '--concurrency',
      String(options.concurrency ?? 2),
      '--database-url',
      options.databaseUrl ?? this.databaseUrl,
      '--redis-url',
      options.redisUrl ?? this.redisUrl,
      ...(options.environments === undefined ? [] : ['--environments', options.environments]),
    ];
    const proc = await startProcess(options.wrap ? options.wrap(argv) : argv, {
      env: { ...process.env, ...this.env, ...options.env },
      ready: /Crucible worker (\S+) is running/,
      timeoutMs: 30_000,
    });
    this.teardown.add(`worker ${proc.pid}`, () => proc.kill('SIGKILL'));
    return Object.assign(proc, { id: proc.ready![1]! });
  }

  async cleanup(): Promise<void> {
    await this.teardown.run();
  }

  private async dropData(): Promise<void> {
    // A private server (outage tests) goes away whole, with its schema.
    if (this.databaseUrl === PG_URL) await dropSchema(this.namespace);
    await deleteNamespaceKeys(this.redisUrl, this.namespace).catch((err: unknown) => {
      // A private Redis that is already gone has nothing left to delete.
      if (!/ECONNREFUSED|Connection is closed/.test(String(err))) throw err;
    });
  }
}

/** Deletes the keys of one test namespace (and refuses anything that is not a test namespace). */
export async function deleteNamespaceKeys(redisUrl: string, namespace: string): Promise<void> {
  if (!/^crucible_test_[0-9a-f]+$/.test(namespace)) throw new Error(`refusing to delete keys of ${namespace}`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0' && ++rounds < 10_000);
  } finally {
    redis.disconnect();
  }
}

/**
 * A Python program that prints `tick i` every `everyS` seconds, `ticks` times, then `done`. It
 * re-executes itself with `marker` on its command line so the host can see whether it still runs.
 */
export function tickingProgram(marker: string, ticks: number, everyS: number): string {
  const inner = `import time\\nfor i in range(${ticks}):\\n    print('tick', i, flush=True)\\n    time.sleep(${everyS})\\nprint('done', flush=True)`;
  return ['import os', `os.execv("/usr/bin/python3", ["python3", "-c", "${inner}", "${marker}"])`].join('\n');
}

export async function submit(url: string, body: Record<string, unknown>): Promise<Evaluation> {
  const res = await api<Evaluation>(url, 'POST', '/api/evaluations', body);
  if (res.status !== 202) throw new Error(`submit: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getEvaluation(url: string, id: string): Promise<Evaluation> {
  const res = await api<Evaluation>(url, 'GET', `/api/evaluations/${id}`);
  if (res.status !== 200) throw new Error(`get ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Waits until every evaluation is terminal; returns them in the order of `ids`. */
export async function waitAllTerminal(url: string, ids: string[], timeoutMs: number): Promise<Evaluation[]> {
  let last: Array<Evaluation | null> = [];
  try {
    return await waitFor(
      `${ids.length} evaluations terminal`,
      async () => {
        last = await Promise.all(ids.map((id) => getEvaluation(url, id).catch(() => null)));
        return last.every((e) => e && isTerminal(e.status)) && (last as Evaluation[]);
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    const states = last.map((e, i) => (e ? `${e.id} ${e.status} worker=${e.worker} attempts=${e.attempts}` : `${ids[i]} unreadable`));
    throw new Error(`${(err as Error).message}: ${states.join('; ')}`);
  }
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  running: number;
  environments: string[];
  sandboxes: string[];
  alive: boolean;
}

export async function listWorkers(url: string): Promise<WorkerRow[]> {
  const res = await api<{ workers: WorkerRow[] }>(url, 'GET', '/api/workers');
  if (res.status !== 200) throw new Error(`workers: HTTP ${res.status}`);
  return res.body.workers;
}
