/**
 * Recent queue depth and running count, so the dashboard's live chart starts from history instead
 * of empty on every page load. Each API instance samples every few seconds and keeps the last
 * minutes in memory.
 *
 * Why memory and not storage: the evaluations table records when an evaluation started and
 * finished, not when a worker claimed it (provisioning), and the admin's queue depth is the job
 * queue's own count. Deriving past depths from storage would not draw the same numbers as the live
 * tiles next to the chart, and would cost a scan of every evaluation in the window on each poll.
 * A sample here costs two small queries whatever the table's size (the job queue's depth and
 * the unfinished evaluations per project). Scale-out stays right: every API instance samples the
 * same shared storage and queue, so whichever instance answers draws the same curve; only an
 * instance that started recently has less history (documented in docs/operations.md).
 *
 * Samples keep each project's numbers too, so a caller who sees only their project's queue view
 * gets only their project's history, never other teams' load.
 */
import type { LoadSample } from '../domain/system-views.js';
import type { Logger } from '../ports/logger.js';
import type { JobQueue } from '../ports/queue.js';
import type { EvaluationStats } from '../ports/storage.js';

export interface LoadHistoryOptions {
  intervalMs: number;
  /** Samples older than this are dropped. */
  keepMs: number;
}

interface Counts {
  queued: number;
  running: number;
}

interface Sample extends Counts {
  at: number;
  /** Only projects with something queued or in flight; any other project had zero. */
  projects: ReadonlyMap<string, Counts>;
}

const NOTHING: Counts = { queued: 0, running: 0 };

export class LoadHistorySampler {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> | null = null;
  /** Bounds memory by count as well as by age (a clock stepping back must not let it grow). */
  private readonly maxSamples: number;

  constructor(
    private readonly deps: { queue: Pick<JobQueue, 'depth'>; stats: Pick<EvaluationStats, 'activeByProject'>; log?: Logger },
    readonly options: LoadHistoryOptions,
  ) {
    this.maxSamples = Math.ceil(options.keepMs / options.intervalMs) + 1;
  }

  /** Samples now and then every interval until stop(). */
  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sampling;
  }

  /** Takes one sample; one at a time (a slow database skips ticks rather than piling queries up). */
  sample(now = Date.now()): Promise<void> {
    this.sampling ??= this.take(now).finally(() => (this.sampling = null));
    return this.sampling;
  }

  /** Samples at or after `sinceMs`, oldest first: every project's sums, or one project's numbers. */
  since(sinceMs: number, project?: string): LoadSample[] {
    return this.samples
      .filter((s) => s.at >= sinceMs)
      .map((s) => {
        const counts = project === undefined ? s : (s.projects.get(project) ?? NOTHING);
        return { at: new Date(s.at).toISOString(), queued: counts.queued, running: counts.running };
      });
  }

  private async take(now: number): Promise<void> {
    try {
      const [depth, active] = await Promise.all([this.deps.queue.depth(), this.deps.stats.activeByProject()]);
      const projects = new Map(active.map((p) => [p.project, { queued: p.queued, running: p.running }]));
      const running = active.reduce((sum, p) => sum + p.running, 0);
      // The job queue's depth, like GET /api/queue's platform-wide depth, so the chart meets the tile.
      this.samples.push({ at: now, queued: depth, running, projects });
      const oldest = now - this.options.keepMs;
      while (this.samples.length > 0 && (this.samples.length > this.maxSamples || this.samples[0]!.at < oldest)) this.samples.shift();
    } catch (err) {
      // A gap in the chart, not a failure: the next tick tries again.
      this.deps.log?.debug({ err: String(err) }, 'load sample skipped');
    }
  }
}
