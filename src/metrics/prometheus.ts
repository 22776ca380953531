/**
 * The metrics port over prom-client. One registry per instance (not prom-client's global one), so
 * several platforms in one process (tests, the demo) each export only their own numbers.
 *
 * Naming follows Prometheus conventions: a `crucible_` prefix, base units in the name
 * (`_seconds`), `_total` on counters, and only bounded labels.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EvaluationKind, FinishedEvaluation, HttpRequestRecord, Metrics, ScrapeSnapshot, ScrapeSource } from '../ports/metrics.js';

/** Waits and start-ups: from a few ms (warm sandbox) to minutes (a backlog). */
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Program run times: the wall-clock limit goes up to several minutes. */
const RUN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface PrometheusMetricsOptions {
  /** prom-client's process metrics (default on; tests that build many instances may turn them off). */
  defaultMetrics?: boolean;
}

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly sources = new Map<string, ScrapeSource>();

  private readonly submitted = new Counter({
    name: 'crucible_evaluations_submitted_total',
    help: 'Evaluations accepted by this API process.',
    labelNames: ['environment', 'sandbox'] as const,
    registers: [this.registry],
  });
  private readonly finished = new Counter({
    name: 'crucible_evaluations_finished_total',
    help: 'Evaluations that reached a terminal status in this process, by status and reason.',
    labelNames: ['environment', 'sandbox', 'status', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly queueWaitSeconds = new Histogram({
    name: 'crucible_queue_wait_seconds',
    help: 'From submission to the program starting (waiting in the queue, then the sandbox start).',
    labelNames: ['environment', 'sandbox'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly sandboxStartSeconds = new Histogram({
    name: 'crucible_sandbox_start_seconds',
    help: 'From claiming an evaluation to its program starting in the sandbox, by outcome (ok, failed).',
    labelNames: ['sandbox', 'outcome'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly runSeconds = new Histogram({
    name: 'crucible_run_seconds',
    help: 'From the program starting to its end.',
    labelNames: ['environment', 'sandbox', 'status'] as const,
    buckets: RUN_BUCKETS,
    registers: [this.registry],
  });
  private readonly endToEndSeconds = new Histogram({
    name: 'crucible_end_to_end_seconds',
    help: 'From submission to the verdict.',
    labelNames: ['environment', 'sandbox', 'status'] as const,
    buckets: RUN_BUCKETS,
    registers: [this.registry],
  });
  private readonly httpSeconds = new Histogram({
    name: 'crucible_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code (event streams count their whole life).',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly querySeconds = new Histogram({
    name: 'crucible_storage_query_duration_seconds',
    help: 'Storage queries by operation (select, insert, update, delete, other).',
    labelNames: ['operation'] as const,
    buckets: QUERY_BUCKETS,
    registers: [this.registry],
  });
  private readonly queryErrors = new Counter({
    name: 'crucible_storage_errors_total',
    help: 'Storage queries that failed, by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly scrapeErrors = new Counter({
    name: 'crucible_metrics_scrape_errors_total',
    help: 'Scrape-time gauge sources that failed (their gauges keep the previous values).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly queueWaiting = this.gauge('crucible_queue_waiting', 'Evaluations waiting to be picked up, per environment.', ['environment']);
  private readonly queueOldestAge = this.gauge(
    'crucible_queue_oldest_age_seconds',
    'Age of the oldest evaluation waiting, per environment (0 when none waits).',
    ['environment'],
  );
  private readonly workers = this.gauge('crucible_workers', 'Registered workers per environment, by whether their heartbeat is recent (alive).', [
    'environment',
    'alive',
  ]);
  private readonly openStreams = this.gauge('crucible_event_streams_open', 'Event streams (SSE) this API process holds open.', []);
  private readonly sandboxesBusy = this.gauge('crucible_sandboxes_busy', 'Evaluations this worker process is running now.', []);
  private readonly sandboxesWarm = this.gauge('crucible_sandboxes_warm', 'Sandboxes set up ahead of time and ready for a program, per backend.', ['sandbox']);

  constructor(options: PrometheusMetricsOptions = {}) {
    // Event-loop lag, RSS, heap, GC, open file descriptors: prom-client's process metrics.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  evaluationSubmitted(kind: EvaluationKind): void {
    this.submitted.inc({ environment: kind.environment, sandbox: kind.sandbox });
  }

  evaluationFinished(e: FinishedEvaluation): void {
    const kind = { environment: e.environment, sandbox: e.sandbox };
    this.finished.inc({ ...kind, status: e.status, reason: e.reason ?? 'none' });
    if (e.runSeconds !== null) this.runSeconds.observe({ ...kind, status: e.status }, e.runSeconds);
    this.endToEndSeconds.observe({ ...kind, status: e.status }, e.endToEndSeconds);
  }

  queueWait(kind: EvaluationKind, seconds: number): void {
    this.queueWaitSeconds.observe({ environment: kind.environment, sandbox: kind.sandbox }, seconds);
  }

  sandboxStart(sandbox: string, ok: boolean, seconds: number): void {
    this.sandboxStartSeconds.observe({ sandbox, outcome: ok ? 'ok' : 'failed' }, seconds);
  }

  httpRequest(r: HttpRequestRecord): void {
    this.httpSeconds.observe({ method: r.method, route: r.route, status_code: String(r.statusCode) }, r.seconds);
  }

  storageQuery(operation: string, seconds: number, failed: boolean): void {
    this.querySeconds.observe({ operation }, seconds);
    if (failed) this.queryErrors.inc({ operation });
  }

  addScrapeSource(name: string, source: ScrapeSource): void {
    this.sources.set(name, source);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(
      [...this.sources].map(async ([name, source]) => {
        try {
          this.apply(await source());
        } catch {
          this.scrapeErrors.inc({ source: name });
        }
      }),
    );
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Replaces (not adds to) the gauges a snapshot covers: an environment that emptied must read 0. */
  private apply(s: ScrapeSnapshot): void {
    if (s.queue) {
      this.queueWaiting.reset();
      this.queueOldestAge.reset();
      for (const q of s.queue) {
        this.queueWaiting.set({ environment: q.environment }, q.waiting);
        this.queueOldestAge.set({ environment: q.environment }, q.oldestAgeSeconds ?? 0);
      }
    }
    if (s.workers) {
      this.workers.reset();
      for (const w of s.workers) this.workers.set({ environment: w.environment, alive: String(w.alive) }, w.count);
    }
    if (s.openStreams !== undefined) this.openStreams.set(s.openStreams);
    if (s.sandboxes) {
      this.sandboxesBusy.set(s.sandboxes.busy);
      this.sandboxesWarm.reset();
      for (const w of s.sandboxes.warm) this.sandboxesWarm.set({ sandbox: w.sandbox }, w.count);
    }
  }
}
