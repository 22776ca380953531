/**
 * The embedded queue's table, in the same SQLite database as the evaluations (so a queued job
 * survives a restart together with its evaluation), and its atomic operations. Each operation is
 * one statement: SQLite runs a statement atomically and kysely serialises statements on the
 * connection, so a claim can never hand one job to two consumers.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Environment, SandboxBackendName } from '../domain/evaluation.js';
import type { QueueJob } from '../ports/queue.js';

export type QueueJobsTable = {
  /** FIFO order (rowid alias). */
  seq: number | null;
  evaluation_id: string;
  environment: string;
  sandbox: string;
  project: string | null;
  /** Fair-share rank (see QueueJob.rank): claimed in (rank, seq) order. */
  rank: number;
  state: 'waiting' | 'active';
  /** Deliveries so far, including the current one while active. */
  attempts: number;
  /** Epoch ms before which a waiting job is not delivered (retry backoff). */
  available_at: number;
  /** Process that holds an active job (see PROCESS_TOKEN). */
  owner: string | null;
  last_error: string | null;
  /** W3C trace context of the submission (null when tracing was off). */
  traceparent: string | null;
  tracestate: string | null;
};

/** A type alias, not an interface, so kysely's withTables<JobsDatabase>() accepts it. */
export type JobsDatabase = {
  queue_jobs: QueueJobsTable;
};

export interface ClaimedJob extends QueueJob {
  attempts: number;
}

/** Identifies this process as the owner of the jobs it claimed. */
export const PROCESS_TOKEN = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

export class SqliteJobs {
  constructor(private readonly db: Kysely<JobsDatabase>) {}

  async ensureSchema(): Promise<void> {
    await this.db.schema
      .createTable('queue_jobs')
      .ifNotExists()
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('evaluation_id', 'text', (c) => c.notNull().unique())
      .addColumn('environment', 'text', (c) => c.notNull())
      .addColumn('sandbox', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('available_at', 'integer', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('last_error', 'text')
      .addColumn('traceparent', 'text')
      .addColumn('tracestate', 'text')
      .execute();
    await this.addTraceColumns();
    await this.db.schema.createIndex('queue_jobs_claim').ifNotExists().on('queue_jobs').columns(['state', 'environment', 'seq']).execute();
    // Added with fair-share claiming: a queue created before it gets the columns (existing jobs rank 1).
    // Another instance on the same file may add them at the same moment: a duplicate column is fine.
    const addColumn = async (name: 'project' | 'rank', add: () => Promise<void>) => {
      const columns = await sql<{ name: string }>`select name from pragma_table_info('queue_jobs')`.execute(this.db);
      if (columns.rows.some((c) => c.name === name)) return;
      await add().catch((err: unknown) => {
        if (!String(err).includes('duplicate column name')) throw err;
      });
    };
    await addColumn('project', () => this.db.schema.alterTable('queue_jobs').addColumn('project', 'text').execute());
    await addColumn('rank', () =>
      this.db.schema
        .alterTable('queue_jobs')
        .addColumn('rank', 'integer', (c) => c.notNull().defaultTo(1))
        .execute(),
    );
    await this.db.schema.createIndex('queue_jobs_fair_claim').ifNotExists().on('queue_jobs').columns(['state', 'environment', 'rank', 'seq']).execute();
  }

  /** A queue created before jobs carried trace context gains its columns (a queued job keeps none). */
  private async addTraceColumns(): Promise<void> {
    const columns = await sql<{ name: string }>`select name from pragma_table_info('queue_jobs')`.execute(this.db);
    const have = new Set(columns.rows.map((c) => c.name));
    for (const column of ['traceparent', 'tracestate'] as const) {
      if (!have.has(column)) await this.db.schema.alterTable('queue_jobs').addColumn(column, 'text').execute();
    }
  }

  /**
   * Jobs held by another process are orphans: the data directory belongs to one process at a time
   * (the platform locks it), so that process is gone. They become deliverable again right away;
   * their delivery count is kept, so a job that keeps killing its process is eventually exhausted.
   */
  async releaseOrphans(): Promise<number> {
    const result = await this.db
      .updateTable('queue_jobs')
      .set({ state: 'waiting', owner: null, available_at: Date.now(), last_error: 'the process handling it exited' })
      .where('state', '=', 'active')
      .where((eb) => eb.or([eb('owner', 'is', null), eb('owner', '!=', PROCESS_TOKEN)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Inserts jobs; a job whose evaluation already has one (waiting or active) is left alone. */
  async insert(jobs: QueueJob[]): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < jobs.length; i += 100) {
      await this.db
        .insertInto('queue_jobs')
        .values(
          jobs.slice(i, i + 100).map((j) => ({
            evaluation_id: j.evaluationId,
            environment: j.environment,
            sandbox: j.sandbox,
            project: j.project ?? null,
            rank: j.rank ?? 1,
            state: 'waiting' as const,
            attempts: 0,
            available_at: now,
            owner: null,
            last_error: null,
            traceparent: j.trace?.traceparent ?? null,
            tracestate: j.trace?.tracestate ?? null,
          })),
        )
        .onConflict((oc) => oc.column('evaluation_id').doNothing())
        .execute();
    }
  }

  /** Atomically takes the deliverable job of lowest fair-share rank (oldest first among equals), or returns null. */
  async claim(environments: Environment[]): Promise<ClaimedJob | null> {
    if (environments.length === 0) return null;
    const row = await this.db
      .updateTable('queue_jobs')
      .set((eb) => ({ state: 'active', owner: PROCESS_TOKEN, attempts: eb('attempts', '+', 1) }))
      .where('seq', '=', (eb) =>
        eb
          .selectFrom('queue_jobs')
          .select('seq')
          .where('state', '=', 'waiting')
          .where('environment', 'in', environments)
          .where('available_at', '<=', Date.now())
          .orderBy('rank')
          .orderBy('seq')
          .limit(1),
      )
      .returning(['evaluation_id', 'environment', 'sandbox', 'project', 'rank', 'attempts', 'traceparent', 'tracestate'])
      .executeTakeFirst();
    if (!row) return null;
    return {
      evaluationId: row.evaluation_id,
      environment: row.environment as Environment,
      sandbox: row.sandbox as SandboxBackendName,
      ...(row.project === null ? {} : { project: row.project }),
      rank: Number(row.rank),
      attempts: Number(row.attempts),
      trace: row.traceparent ? { traceparent: row.traceparent, ...(row.tracestate ? { tracestate: row.tracestate } : {}) } : null,
    };
  }

  /** Deletes the finished jobs this process holds, in one statement per 500. */
  async complete(evaluationIds: string[]): Promise<void> {
    for (let i = 0; i < evaluationIds.length; i += 500) {
      await this.db
        .deleteFrom('queue_jobs')
        .where('evaluation_id', 'in', evaluationIds.slice(i, i + 500))
        .where('owner', '=', PROCESS_TOKEN)
        .execute();
    }
  }

  /** Hands a held job back, deliverable after delayMs; a deferral (error null) does not count as a delivery. */
  async retryLater(evaluationId: string, delayMs: number, error: string | null): Promise<void> {
    await this.db
      .updateTable('queue_jobs')
      .set((eb) => ({
        state: 'waiting',
        owner: null,
        available_at: Date.now() + delayMs,
        ...(error === null ? { attempts: eb('attempts', '-', 1) } : { last_error: error.slice(0, 2000) }),
      }))
      .where('evaluation_id', '=', evaluationId)
      .where('owner', '=', PROCESS_TOKEN)
      .execute();
  }

  async removeWaiting(evaluationId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('queue_jobs').where('evaluation_id', '=', evaluationId).where('state', '=', 'waiting').executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async depth(): Promise<number> {
    const row = await this.db
      .selectFrom('queue_jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'waiting')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }
}
