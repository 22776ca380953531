/**
 * Queue port: hands evaluation ids to workers. The embedded queue lives in the SQLite database
 * (durable across restarts); the scale-out one is BullMQ on Redis. Both pass test/queue/contract.ts.
 *
 * The queue is deliberately dumb: the evaluation's status in storage (changed by compare-and-set)
 * is the truth. A job delivered twice is harmless because the second worker's move to
 * `provisioning` is rejected.
 */
import type { Environment, SandboxBackendName } from '../domain/evaluation.js';
import type { TraceCarrier } from './tracing.js';

export interface QueueJob {
  evaluationId: string;
  environment: Environment;
  sandbox: SandboxBackendName;
  /** The submitter's trace context (W3C), so the worker's spans join the request's trace; absent when tracing is off. */
  trace?: TraceCarrier | null;
  /** The submitter's project (jobs queued before projects existed have none). */
  project?: string;
  /**
   * Fair-share rank: the job's place in its project's backlog when it was submitted (1 = the
   * project had nothing waiting). Lower ranks are taken first, equal ranks in submission order, so
   * one project's big batch is interleaved with, not ahead of, another project's single submission.
   */
  rank?: number;
}

/** A handler's answer when the job may not run yet (e.g. its project is at its running quota). */
export interface Deferral {
  /** Deliver the job again after this long; not counted as a delivery attempt. */
  deferMs: number;
}

export interface ConsumeOptions {
  workerId: string;
  /** Jobs handled at once by this consumer. */
  concurrency: number;
  /** Only jobs for these environments are taken. */
  environments: Environment[];
  /**
   * Handles one job. Resolving = done (whatever the program did). Rejecting = an infrastructure
   * failure: the job is delivered again after a backoff, at most maxAttempts times in all, then
   * onExhausted is called.
   */
  handler: (job: QueueJob, attempt: number) => Promise<void | Deferral>;
  onExhausted: (job: QueueJob, error: Error) => Promise<void>;
}

export interface QueueConsumer {
  /** Stops taking jobs and waits for the ones in hand to finish. */
  close(): Promise<void>;
}

export interface JobQueue {
  enqueue(jobs: QueueJob[]): Promise<void>;
  consume(options: ConsumeOptions): QueueConsumer;
  /** Removes a job that no worker has taken yet. False if it was taken (or never queued). */
  remove(evaluationId: string): Promise<boolean>;
  /** Jobs waiting to be taken. */
  depth(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface QueueRetryPolicy {
  maxAttempts: number;
  /** First backoff; doubles each attempt. */
  backoffMs: number;
}

export const DEFAULT_RETRY_POLICY: QueueRetryPolicy = { maxAttempts: 3, backoffMs: 500 };
