/**
 * The storage cost of one evaluation on the worker's hot path, on SQLite and PostgreSQL: the same
 * port calls, in the same order, that submit → claim → read the program → running → live output →
 * verdict make (EvaluationLifecycle over the real stores, an in-memory bus). Counts the SQL
 * statements and transactions each evaluation issues (from the stores' query hook) and the CPU
 * this process spends per evaluation (kysely, the drivers, row mapping), one evaluation at a time.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EvaluationLifecycle } from '../src/app/evaluation-lifecycle.js';
import { newEvaluationId } from '../src/app/evaluation-ids.js';
import { NO_ARTIFACTS } from '../src/domain/artifacts.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import type { RunResult } from '../src/domain/run-result.js';
import { createMemoryBus } from '../src/events/memory-bus.js';
import type { Logger } from '../src/ports/logger.js';
import type { Storage } from '../src/ports/storage.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import type { QueryListener } from '../src/storage/query-log.js';
import { createSqliteStorage } from '../src/storage/sqlite.js';
import { tempDir } from '../test/helpers/server.js';
import { round } from './lib/stats.js';
import type { Row, Section } from './lib/section.js';

const PG_URL = process.env.CRUCIBLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WORKER = 'bench-worker';
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Counts {
  statements: number;
  transactions: number;
}

/** Statements are what reach the database besides transaction control; a transaction is a `begin`. */
function counter(): { listener: QueryListener; counts: Counts } {
  const counts: Counts = { statements: 0, transactions: 0 };
  const listener: QueryListener = (sqlText) => {
    const word = /^\s*(\w+)/.exec(sqlText)?.[1]?.toLowerCase();
    if (word === 'begin') counts.transactions++;
    else if (word !== 'commit' && word !== 'rollback') counts.statements++;
  };
  return { listener, counts };
}

const RESULT: RunResult = {
  exit_code: 0,
  signal: null,
  reason: 'exit_zero',
  message: 'Exited normally with code 0.',
  stdout: 'hello world\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  metrics: { wall_ms: 13, cpu_ms: 9, peak_memory_bytes: 8e6 },
  // What the sandboxes return for a program that wrote no files to /sandbox/out.
  artifacts: NO_ARTIFACTS,
};

/** One evaluation, as EvaluationService.submit and EvaluationRunner.run drive the storage ports. */
async function oneEvaluation(store: Storage, lifecycle: EvaluationLifecycle): Promise<void> {
  const now = () => new Date().toISOString();
  const [created] = await store.evaluations.create([
    {
      id: newEvaluationId(),
      environment: 'python',
      sandbox: 'bubblewrap',
      code: 'print("hello world")',
      code_sha256: 'x'.repeat(64),
      stdin: null,
      tags: ['bench'],
      metadata: {},
      limits: DEFAULT_LIMITS,
      created_at: now(),
    },
  ]);
  const id = created!.evaluation.id;
  const claimed = await lifecycle.transition(id, 'provisioning', { worker: WORKER, increment_attempts: true, started_at: null }, { expectFrom: ['queued'] });
  if (!claimed) throw new Error('claim failed');
  await store.evaluations.get(id);
  // A short program (HumanEval's are ~20 ms): it ends within the output flush interval, so its
  // start and last output are stored with the verdict, as EvaluationRunner does.
  const startedAt = now();
  const output = [
    { type: 'stdout' as const, at: now(), data: { text: 'hello world\n' } },
    { type: 'metrics' as const, at: now(), data: { elapsed_ms: 5, cpu_ms: 3, memory_bytes: 1e6 } },
  ];
  const moved = await lifecycle.finish(
    id,
    RESULT,
    { expectFrom: ['provisioning', 'running'], expectWorker: WORKER, precedingEvents: output },
    { startedAt, claimed: claimed.evaluation },
  );
  if (!moved) throw new Error('finish failed');
}

interface Measured extends Counts {
  cpuMs: number;
}

async function measure(store: Storage, counts: Counts, evaluations: number): Promise<Measured> {
  const bus = createMemoryBus();
  const lifecycle = new EvaluationLifecycle({ storage: store, bus, log: silent });
  for (let i = 0; i < 50; i++) await oneEvaluation(store, lifecycle); // warm-up (statement caches, JIT)
  const before = { ...counts };
  const cpu = process.cpuUsage();
  for (let i = 0; i < evaluations; i++) await oneEvaluation(store, lifecycle);
  const used = process.cpuUsage(cpu);
  await bus.close();
  return {
    statements: (counts.statements - before.statements) / evaluations,
    transactions: (counts.transactions - before.transactions) / evaluations,
    cpuMs: (used.user + used.system) / 1000 / evaluations,
  };
}

async function sqlite(evaluations: number): Promise<Measured> {
  const dir = tempDir('crucible-bench-hot-path-');
  const { listener, counts } = counter();
  const store = createSqliteStorage({ dataDir: dir, onQuery: listener });
  try {
    await store.init();
    return await measure(store, counts, evaluations);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(evaluations: number): Promise<Measured | null> {
  const schema = `crucible_bench_${randomBytes(5).toString('hex')}`;
  const { listener, counts } = counter();
  const store = createPostgresStorage({ connectionString: PG_URL, schema, onQuery: listener });
  try {
    await store.init();
  } catch {
    await store.close();
    return null; // no PostgreSQL here: the section says so
  }
  try {
    return await measure(store, counts, evaluations);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
}

export async function hotPathBench(opts: { evaluations: number; postgres: boolean }): Promise<Section> {
  const results: Record<string, Measured | null> = { SQLite: await sqlite(opts.evaluations) };
  if (opts.postgres) results.PostgreSQL = await postgres(opts.evaluations);
  const rows: Row[] = [];
  for (const [name, m] of Object.entries(results)) {
    if (!m) {
      rows.push({ metric: `${name}: storage per evaluation`, crucible: 'n/a', note: `${name} not reachable` });
      continue;
    }
    rows.push({
      metric: `${name}: statements / transactions per evaluation`,
      crucible: `${round(m.statements, 1)} / ${round(m.transactions, 1)}`,
      note: 'submit, claim, read program, verdict with start and output (a short program)',
    });
    rows.push({ metric: `${name}: storage CPU per evaluation (ms)`, crucible: round(m.cpuMs, 2), note: 'this process: kysely, driver, row mapping' });
  }
  return {
    name: 'hot-path',
    title: `Storage hot path: ${opts.evaluations} evaluations one at a time, through EvaluationLifecycle`,
    rows,
    notes: [],
    data: results,
  };
}
