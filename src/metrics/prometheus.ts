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

  private readonly submitted = this.counter('crucible_evaluations_submitted_total', 'Evaluations accepted by this API process.', ['environment', 'sandbox']);
  private readonly finished = this.counter(
    'crucible_evaluations_finished_total',
    'Evaluations that reached a terminal status in this process, by status and reason.',
    ['environment', 'sandbox', 'status', 'reason'],
  );
  private readonly queueWaitSeconds = this.histogram(
    'crucible_queue_wait_seconds',
    'From submission to the program starting (waiting in the queue, then the sandbox start).',
    ['environment', 'sandbox'],
    WAIT_BUCKETS,
  );
  private readonly sandboxStartSeconds = this.histogram(
    'crucible_sandbox_start_seconds',
    'From claiming an evaluation to its program starting in the sandbox, by outcome (ok, failed).',
    ['sandbox', 'outcome'],
    WAIT_BUCKETS,
  );
  private readonly runSeconds = this.histogram(
    'crucible_run_seconds',
    'From the program starting to its end.',
    ['environment', 'sandbox', 'status'],
    RUN_BUCKETS,
  );
  private readonly endToEndSeconds = this.histogram(
    'crucible_end_to_end_seconds',
    'From submission to the verdict.',
    ['environment', 'sandbox', 'status'],
    RUN_BUCKETS,
  );
  private readonly httpSeconds = this.histogram(
    'crucible_http_request_duration_seconds',
    'HTTP requests by method, route pattern and status code (event streams count their whole life).',
    ['method', 'route', 'status_code'],
    HTTP_BUCKETS,
  );
  private readonly querySeconds = this.histogram(
    'crucible_storage_query_duration_seconds',
    'Storage queries by operation (select, insert, update, delete, begin = a transaction, other).',
    ['operation'],
    QUERY_BUCKETS,
  );
  private readonly queryErrors = this.counter('crucible_storage_errors_total', 'Storage queries that failed, by operation.', ['operation']);
  private readonly scrapeErrors = this.counter(
    'crucible_metrics_scrape_errors_total',
    'Scrape-time gauge sources that failed (their gauges keep the previous values).',
    ['source'],
  );
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

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
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
