/** Aggregates over the evaluations (queue view, dashboard) in SQLite or PostgreSQL. */
import { sql } from 'kysely';
import { EVALUATION_STATUSES, TERMINAL_STATUSES, type Environment, type EvaluationStatus } from '../domain/evaluation.js';
import type { DurationSample } from '../domain/percentiles.js';
import type { EvaluationStats, OutcomeBucket, ProjectLoad, ProjectUsage, QueuedInEnvironment } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

/** A dashboard asking for more buckets than this gets an error instead of a huge answer. */
const MAX_BUCKETS = 10_000;

export class KyselyEvaluationStats implements EvaluationStats {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  countByStatus(project?: string): Promise<Record<EvaluationStatus, number>> {
    return this.guard(async () => {
      const counts = Object.fromEntries(EVALUATION_STATUSES.map((s) => [s, 0])) as Record<EvaluationStatus, number>;
      const rows = await this.db
        .selectFrom('evaluations')
        .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
        .$if(project !== undefined, (qb) => qb.where('project', '=', project!))
        .groupBy('status')
        .execute();
      for (const r of rows) counts[r.status] = Number(r.n);
      return counts;
    });
  }

  oldestQueuedAt(project?: string): Promise<string | null> {
    return this.guard(async () => {
      const row = await this.db
        .selectFrom('evaluations')
        .select('created_at')
        .where('status', '=', 'queued')
        .$if(project !== undefined, (qb) => qb.where('project', '=', project!))
        .orderBy('created_at', 'asc')
        .limit(1)
        .executeTakeFirst();
      return row ? toIso(row.created_at) : null;
    });
  }

  queuedByEnvironment(): Promise<QueuedInEnvironment[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('evaluations')
        .select((eb) => ['environment', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
        .where('status', '=', 'queued')
        .groupBy('environment')
        .execute();
      return rows.map((r) => ({ environment: r.environment as Environment, waiting: Number(r.n), oldest_queued_at: toIso(r.oldest as number) }));
    });
  }

  durationSamples(sinceIso: string, limit: number, project?: string): Promise<DurationSample[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('evaluations')
        .select(['environment', 'sandbox', 'created_at', 'started_at', 'finished_at'])
        .where('finished_at', '>=', toMs(sinceIso))
        .$if(project !== undefined, (qb) => qb.where('project', '=', project!))
        .where('started_at', 'is not', null)
        .where('status', 'in', TERMINAL_STATUSES)
        .orderBy('finished_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        environment: r.environment,
        sandbox: r.sandbox,
        queueWaitMs: Math.max(0, Number(r.started_at) - Number(r.created_at)),
        runMs: Math.max(0, Number(r.finished_at) - Number(r.started_at)),
      }));
    });
  }

  outcomeBuckets(sinceIso: string, bucketSeconds: number, project?: string): Promise<OutcomeBucket[]> {
    return this.guard(async () => {
      const bucketMs = Math.round(bucketSeconds * 1000);
      if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError('bucketSeconds must be positive');
      const first = Math.floor(toMs(sinceIso) / bucketMs) * bucketMs;
      const now = Date.now();
      if ((now - first) / bucketMs > MAX_BUCKETS) throw new RangeError(`more than ${MAX_BUCKETS} buckets requested`);

      // Integer division floors (times are positive) identically in both databases. The bucket
      // size is inlined, not bound, so GROUP BY and SELECT are the same expression to PostgreSQL.
      const bucket = sql<number>`(${sql.ref('finished_at')} / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
      const rows = await this.db
        .selectFrom('evaluations')
        .select((eb) => [bucket.as('bucket'), 'status', eb.fn.countAll<number>().as('n')])
        .where('finished_at', '>=', first)
        .where('status', 'in', TERMINAL_STATUSES)
        .$if(project !== undefined, (qb) => qb.where('project', '=', project!))
        .groupBy([bucket, 'status'])
        .execute();

      const buckets = new Map<number, OutcomeBucket>();
      for (let start = first; start <= now; start += bucketMs) {
        buckets.set(start, { start: toIso(start), completed: 0, failed: 0, timeout: 0, cancelled: 0 });
      }
      for (const r of rows) {
        const start = Number(r.bucket);
        let b = buckets.get(start);
        if (!b) {
          // Finished "in the future" by a host whose clock runs ahead: still count it.
          b = { start: toIso(start), completed: 0, failed: 0, timeout: 0, cancelled: 0 };
          buckets.set(start, b);
        }
        if (r.status === 'completed' || r.status === 'failed' || r.status === 'timeout' || r.status === 'cancelled') {
          b[r.status] += Number(r.n);
        }
      }
      return [...buckets.values()].sort((a, b) => a.start.localeCompare(b.start));
    });
  }

  activeByProject(): Promise<ProjectLoad[]> {
    return this.guard(async () => {
      // Status leads the (status, created_at, id) index: only unfinished rows are read.
      const rows = await this.db
        .selectFrom('evaluations')
        .select((eb) => ['project', 'status', eb.fn.countAll<number>().as('n')])
        .where('status', 'in', ['queued', 'provisioning', 'running'])
        .groupBy(['project', 'status'])
        .execute();
      const byProject = new Map<string, ProjectLoad>();
      for (const r of rows) {
        const load = byProject.get(r.project) ?? { project: r.project, queued: 0, running: 0 };
        if (r.status === 'queued') load.queued += Number(r.n);
        else load.running += Number(r.n);
        byProject.set(r.project, load);
      }
      return [...byProject.values()];
    });
  }

  projectUsage(project: string, cpuSinceIso?: string): Promise<ProjectUsage> {
    return this.guard(async () => {
      const [byStatus, cpu] = await Promise.all([
        this.db
          .selectFrom('evaluations')
          .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
          .where('project', '=', project)
          .where('status', 'in', ['queued', 'provisioning', 'running'])
          .groupBy('status')
          .execute(),
        cpuSinceIso === undefined
          ? undefined
          : this.db
              .selectFrom('evaluations')
              .select((eb) => eb.fn.sum<number | string | null>('cpu_ms').as('cpu'))
              .where('project', '=', project)
              .where('finished_at', '>=', toMs(cpuSinceIso))
              .executeTakeFirst(),
      ]);
      const n = (status: EvaluationStatus) => Number(byStatus.find((r) => r.status === status)?.n ?? 0);
      return { queued: n('queued'), running: n('provisioning') + n('running'), cpu_ms: Number(cpu?.cpu ?? 0) };
    });
  }
}
