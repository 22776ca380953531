/**
 * The metrics port: what the platform measures, named by what happened rather than by metric type,
 * so use cases and edges never see a metrics library. The Prometheus adapter (src/metrics) turns
 * each call into series; a no-op adapter serves tests and tools that do not export anything.
 *
 * Labels are bounded on purpose (environment, sandbox backend, status, reason, route pattern):
 * never an evaluation id, a raw URL or anything a client chooses freely.
 */
import type { Environment, EvaluationStatus, Reason, SandboxBackendName } from '../domain/evaluation.js';

export interface EvaluationKind {
  environment: Environment;
  sandbox: SandboxBackendName;
}

export interface FinishedEvaluation extends EvaluationKind {
  status: EvaluationStatus;
  reason: Reason | null;
  /** From the start of the program to its end; null when it never started. */
  runSeconds: number | null;
  /** From submission to the verdict. */
  endToEndSeconds: number;
}

export interface HttpRequestRecord {
  method: string;
  /** The route pattern (`/api/evaluations/:id`), never the raw URL; `unmatched` for 404s. */
  route: string;
  statusCode: number;
  seconds: number;
}

/** Values read at scrape time, so a gauge is never staler than the scrape. */
export interface ScrapeSnapshot {
  /** Evaluations waiting per environment, with the age of the oldest (null when none waits). */
  queue?: Array<{ environment: Environment; waiting: number; oldestAgeSeconds: number | null }>;
  /** Registered workers per environment, by whether their heartbeat is within the liveness window. */
  workers?: Array<{ environment: Environment; alive: boolean; count: number }>;
  /** Event streams this API process holds open. */
  openStreams?: number;
  /** Sandboxes of this process: running a program, and ready (warm) per backend. */
  sandboxes?: { busy: number; warm: Array<{ sandbox: SandboxBackendName; count: number }> };
}

export type ScrapeSource = () => Promise<ScrapeSnapshot> | ScrapeSnapshot;

export interface Metrics {
  evaluationSubmitted(kind: EvaluationKind): void;
  evaluationFinished(finished: FinishedEvaluation): void;
  /** The evaluation's program started this long after it was submitted (queue wait plus sandbox start). */
  queueWait(kind: EvaluationKind, seconds: number): void;
  /** From claiming an evaluation to its program starting; `ok` false when the sandbox failed to start. */
  sandboxStart(sandbox: SandboxBackendName, ok: boolean, seconds: number): void;
  httpRequest(record: HttpRequestRecord): void;
  /** One storage query; `failed` when the database returned an error. */
  storageQuery(operation: string, seconds: number, failed: boolean): void;
  /** Adds a source of gauges read at every scrape; a failing source is skipped (and counted). */
  addScrapeSource(name: string, source: ScrapeSource): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}
