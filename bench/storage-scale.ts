/**
 * Storage benchmark: the hot path of one evaluation, and listing/filtering at scale with the
 * query plans the databases chose.
 *
 *   npx tsx bench/storage-scale.ts                      # SQLite 100k rows + PostgreSQL 1M rows
 *   npx tsx bench/storage-scale.ts --sqlite-rows 20000 --pg-rows 0 --hot-path 0 --no-plans
 *
 * PostgreSQL: CRUCIBLE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); the
 * benchmark works in its own schema `crucible_bench_<random>` and drops it at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { encodeCursor } from '../src/storage/cursor.js';
import { newEvaluationId } from '../src/app/evaluation-ids.js';
import { createPostgresStorage } from '../src/storage/postgres.js';
import { createSqliteStorage, sqliteFilename } from '../src/storage/sqlite.js';
import type { EvaluationListQuery, Storage } from '../src/ports/storage.js';

const PG_URL = process.env.CRUCIBLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Seeded rows are created 100 ms apart, starting here. */
const BASE_MS = Date.parse('2029-01-01T00:00:00Z');

interface Captured {
  sql: string;
  parameters: readonly unknown[];
}

// --- hot path -------------------------------------------------------------------------------

async function hotPath(store: Storage, count: number, concurrency: number): Promise<void> {
  const now = () => new Date().toISOString();
  const metrics = { wall_ms: 13, cpu_ms: 9, peak_memory_bytes: 8e6 };
  async function one(): Promise<void> {
    const id = newEvaluationId();
    await store.evaluations.create([
      {
        id,
        environment: 'python',
        sandbox: 'bubblewrap',
        code: 'print("hello world")',
        code_sha256: 'x',
        stdin: null,
        tags: ['bench'],
        metadata: {},
        limits: DEFAULT_LIMITS,
        created_at: now(),
      },
    ]);
    await store.evaluations.transition(id, 'provisioning', { worker: 'w', increment_attempts: true, started_at: null }, { expectFrom: ['queued'] });
    await store.evaluations.transition(id, 'running', { started_at: now() }, { expectFrom: ['provisioning'], expectWorker: 'w' });
    await store.events.append(id, [{ type: 'stdout', at: now(), data: { text: 'hello world\n' } }]);
    await store.events.append(id, [{ type: 'metrics', at: now(), data: { elapsed_ms: 5, cpu_ms: 3, memory_bytes: 1e6 } }]);
    await store.evaluations.transition(
      id,
      'completed',
      {
        finished_at: now(),
        exit_code: 0,
        reason: 'exit_zero',
        message: 'ok',
        stdout: 'hello world\n',
        stderr: '',
        stdout_truncated: false,
        stderr_truncated: false,
        metrics,
      },
      {
        expectFrom: ['provisioning', 'running'],
        expectWorker: 'w',
        extraEvents: [
          {
            type: 'done',
            at: now(),
            data: {
              status: 'completed',
              exit_code: 0,
              signal: null,
              reason: 'exit_zero',
              message: 'ok',
              stdout_truncated: false,
              stderr_truncated: false,
              metrics,
            },
          },
        ],
      },
    );
  }
  for (let i = 0; i < 100; i++) await one(); // warm-up
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) await one();
    }),
  );
  const ms = performance.now() - started;
  console.log(
    `  hot path, concurrency ${concurrency}: ${count} evaluations × 6 transactions in ${ms.toFixed(0)} ms → ${((count / ms) * 1000).toFixed(0)} evaluations/s (${((ms / count / 6) * 1000).toFixed(0)} µs per transaction)`,
  );
}

// --- seeding ----------------------------------------------------------------------------------

/** Status mix of a busy history: mostly completed, a few of everything else. */
const STATUS_CASE = (i: string) => `case when ${i} % 200 = 0 then 'queued' when ${i} % 200 = 1 then 'running' when ${i} % 20 = 2 then 'failed'
  when ${i} % 50 = 3 then 'timeout' when ${i} % 100 = 4 then 'cancelled' else 'completed' end`;

/** Bulk-inserts `rows` evaluations (ids ev_00…0001 upwards) into an initialised SQLite store file. */
export function seedSqlite(filename: string, rows: number): void {
  const db = new BetterSqlite3(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const limits = JSON.stringify(DEFAULT_LIMITS).replaceAll("'", "''");
  db.exec('begin');
  db.exec(`
    create temp table seq as with recursive s(i) as (select 1 union all select i + 1 from s where i < ${rows}) select i from s;
    insert into evaluations (id, status, environment, sandbox, tags, created_at, started_at, finished_at, exit_code, stdout_truncated,
      stderr_truncated, wall_ms, cpu_ms, peak_memory_bytes, worker, attempts, last_seq, limits, metadata, code_sha256)
    select printf('ev_%026d', i), ${STATUS_CASE('i')}, 'python', 'bubblewrap',
      json_array('bench', 'team-' || (i % 10), 'exp-' || (i % 1000)),
      ${BASE_MS} + i * 100, ${BASE_MS} + i * 100 + 5, ${BASE_MS} + i * 100 + 40, 0, 0, 0, 30, 20, 8000000, 'w', 1, 5, '${limits}', '{}', 'x'
    from seq;
    insert into evaluation_payloads (evaluation_id, code, stdin, stdout, stderr)
      select printf('ev_%026d', i), 'print(' || i || ')', null, i || char(10), '' from seq;
    insert into evaluation_tags (evaluation_id, tag, created_at)
      select printf('ev_%026d', i), 'bench', ${BASE_MS} + i * 100 from seq
      union all select printf('ev_%026d', i), 'team-' || (i % 10), ${BASE_MS} + i * 100 from seq
      union all select printf('ev_%026d', i), 'exp-' || (i % 1000), ${BASE_MS} + i * 100 from seq;
    update evaluations set finished_at = null where status in ('queued', 'running');
    drop table seq;
  `);
  db.exec('commit');
  db.exec('analyze');
  db.close();
}

async function seedPostgres(pool: pg.Pool, rows: number): Promise<void> {
  const limits = JSON.stringify(DEFAULT_LIMITS);
  const client = await pool.connect();
  try {
    await client.query('set synchronous_commit = off');
    await client.query(
      `insert into evaluations (id, status, environment, sandbox, tags, created_at, started_at, finished_at, exit_code, stdout_truncated,
         stderr_truncated, wall_ms, cpu_ms, peak_memory_bytes, worker, attempts, last_seq, limits, metadata, code_sha256)
       select 'ev_' || lpad(i::text, 26, '0'), ${STATUS_CASE('i')}, 'python', 'bubblewrap',
         array['bench', 'team-' || (i % 10), 'exp-' || (i % 1000)],
         $1::bigint + i * 100, $1::bigint + i * 100 + 5, $1::bigint + i * 100 + 40, 0, false, false, 30, 20, 8000000, 'w', 1, 5, $2::jsonb, '{}', 'x'
       from generate_series(1, $3::int) i`,
      [BASE_MS, limits, rows],
    );
    await client.query(
      `insert into evaluation_payloads (evaluation_id, code, stdin, stdout, stderr)
       select 'ev_' || lpad(i::text, 26, '0'), 'print(' || i || ')', null, i || E'\\n', '' from generate_series(1, $1::int) i`,
      [rows],
    );
    await client.query(`update evaluations set finished_at = null where status in ('queued', 'running')`);
    await client.query('vacuum analyze evaluations');
    await client.query('vacuum analyze evaluation_payloads');
  } finally {
    client.release();
  }
}

// --- measuring --------------------------------------------------------------------------------

export function benchQueries(rows: number): Array<[string, EvaluationListQuery]> {
  const middle = Math.floor(rows / 2);
  const deepCursor = encodeCursor({ createdAt: BASE_MS + middle * 100, id: `ev_${String(middle).padStart(26, '0')}` });
  return [
    ['newest page', { limit: 50 }],
    ['page from the middle (cursor)', { limit: 50, cursor: deepCursor }],
    ['status=failed (5%)', { limit: 50, status: ['failed'] }],
    ['status=queued,running (1%)', { limit: 50, status: ['queued', 'running'] }],
    ['tags=bench (100%)', { limit: 50, tags: ['bench'] }],
    ['tags=team-3 (10%)', { limit: 50, tags: ['team-3'] }],
    ['tags=exp-42 (0.1%)', { limit: 50, tags: ['exp-42'] }],
    ['tags=team-3,exp-43 (AND, 0.1%)', { limit: 50, tags: ['team-3', 'exp-43'] }],
    ['tags=team-3,exp-42 (AND, empty)', { limit: 50, tags: ['team-3', 'exp-42'] }],
    ['status=failed + tags=team-2', { limit: 50, status: ['failed'], tags: ['team-2'] }],
    ['q=print(<recent id>) (code)', { limit: 50, q: `print(${rows - 123})` }],
    ['q=no-such-text (full scan)', { limit: 50, q: 'no-such-text' }],
  ];
}

async function timeIt(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function measure(store: Storage, rows: number, captured: Captured[], explain: (q: Captured) => Promise<string>, plans: boolean): Promise<void> {
  for (const [name, query] of benchQueries(rows)) {
    captured.length = 0;
    let count = 0;
    const ms = await timeIt(async () => {
      count = (await store.evaluations.list(query)).items.length;
    });
    const listSql = captured.filter((c) => c.sql.includes('order by')).at(-1)!;
    console.log(`  ${name.padEnd(36)} ${ms.toFixed(2).padStart(8)} ms  (${count} items)`);
    if (plans) console.log(indent(await explain(listSql)));
  }
  const others: Array<[string, () => Promise<unknown>]> = [
    ['countByStatus', () => store.stats.countByStatus()],
    ['oldestQueuedAt', () => store.stats.oldestQueuedAt()],
    ['findByStatus(running, limit 1000)', () => store.evaluations.findByStatus(['running'], { limit: 1000 })],
    ['outcomeBuckets(last hour of seeded data, 60 s)', () => store.stats.outcomeBuckets(new Date(BASE_MS + rows * 100 - 3_600_000).toISOString(), 60)],
  ];
  for (const [name, fn] of others) {
    console.log(`  ${name.padEnd(36)} ${(await timeIt(fn, 3)).toFixed(2).padStart(8)} ms`);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `      │ ${l}`)
    .join('\n');
}

// --- main -------------------------------------------------------------------------------------

async function sqliteBench(args: BenchArgs): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crucible-bench-'));
  try {
    console.log(`SQLite (${join(dir, 'crucible.db')})`);
    const hot = createSqliteStorage({ dataDir: join(dir, 'hot') });
    await hot.init();
    if (args.hotPath > 0) {
      await hotPath(hot, args.hotPath, 1);
      await hotPath(hot, args.hotPath, 8);
    }
    await hot.close();

    if (args.sqliteRows <= 0) return;
    const captured: Captured[] = [];
    const store = createSqliteStorage({ dataDir: dir, onQuery: (sql, parameters) => captured.push({ sql, parameters }) });
    await store.init();
    const seedStart = performance.now();
    seedSqlite(sqliteFilename({ dataDir: dir }), args.sqliteRows);
    console.log(`  seeded ${args.sqliteRows} evaluations in ${(performance.now() - seedStart).toFixed(0)} ms`);
    const raw = new BetterSqlite3(sqliteFilename({ dataDir: dir }), { readonly: true });
    await measure(
      store,
      args.sqliteRows,
      captured,
      async (q) =>
        (raw.prepare(`explain query plan ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail).join('\n'),
      args.plans,
    );
    raw.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresBench(args: BenchArgs): Promise<void> {
  if (args.pgRows <= 0) return;
  const schema = `crucible_bench_${randomBytes(5).toString('hex')}`;
  console.log(`\nPostgreSQL (schema ${schema})`);
  const captured: Captured[] = [];
  const store = createPostgresStorage({
    connectionString: PG_URL,
    schema,
    statementTimeoutMs: 600_000,
    onQuery: (sql, parameters) => captured.push({ sql, parameters }),
  });
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 2 });
  try {
    await store.init();
    if (args.hotPath > 0) {
      await hotPath(store, Math.min(args.hotPath, 1000), 1);
      await hotPath(store, Math.min(args.hotPath, 1000), 8);
    }
    // Every table that references evaluations goes with it (events, payloads, artifacts, output pieces…).
    await pool.query('truncate evaluations cascade');
    const seedStart = performance.now();
    await seedPostgres(pool, args.pgRows);
    console.log(`  seeded ${args.pgRows} evaluations in ${(performance.now() - seedStart).toFixed(0)} ms`);
    const explain = async (q: Captured) => {
      const result = await pool.query(`explain (analyze, buffers, costs off, summary off) ${q.sql}`, q.parameters as unknown[]);
      return result.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    };
    await measure(store, args.pgRows, captured, explain, args.plans);
  } finally {
    await store.close();
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  }
}

interface BenchArgs {
  sqliteRows: number;
  pgRows: number;
  hotPath: number;
  plans: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'sqlite-rows': { type: 'string', default: '100000' },
      'pg-rows': { type: 'string', default: '1000000' },
      'hot-path': { type: 'string', default: '3000' },
      'no-plans': { type: 'boolean', default: false },
    },
  });
  const args: BenchArgs = {
    sqliteRows: Number(values['sqlite-rows']),
    pgRows: Number(values['pg-rows']),
    hotPath: Number(values['hot-path']),
    plans: !values['no-plans'],
  };
  await sqliteBench(args);
  await postgresBench(args);
}

// Run only as a script: the scale test imports the seeding and the queries.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
