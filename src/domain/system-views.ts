/**
 * What the system use cases answer (queue, workers, statistics, configuration, health, syntax
 * check): zod schemas that are the one source of the API's response validation, its OpenAPI
 * document and the clients' types. Pure zod: the web UI imports these too.
 */
import { z } from 'zod';
import { ENVIRONMENTS, EvaluationStatus, SANDBOX_BACKENDS } from './evaluation.js';

export const QueueStats = z.object({
  project: z.string().nullable().describe("Null: every project's numbers (admins); else only this project's (the caller's)"),
  counts: z.record(EvaluationStatus, z.number()),
  depth: z.number().describe('Evaluations waiting for a worker'),
  max_depth: z.number().describe('Beyond this, new submissions get 503 with Retry-After'),
  oldest_queued_at: z.string().nullable(),
  oldest_queued_age_ms: z.number().nullable(),
  by_environment: z
    .array(
      z.object({
        environment: z.enum(ENVIRONMENTS),
        depth: z.number().describe('Evaluations of this environment waiting for a worker (status queued)'),
        oldest_queued_at: z.string().nullable(),
        oldest_queued_age_ms: z.number().nullable(),
        live_workers: z.number().describe('Live workers that serve this environment (0: its evaluations stay queued until one starts)'),
      }),
    )
    .describe('Every known environment, in catalogue order, also when nothing waits in it'),
  unserved_environments: z
    .array(z.enum(ENVIRONMENTS))
    .describe("Known environments no live worker serves: their evaluations stay queued (see an evaluation's waiting_reason)"),
});
export type QueueStats = z.infer<typeof QueueStats>;

export const WorkerView = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  capacity: z.number(),
  running: z.number(),
  environments: z.array(z.enum(ENVIRONMENTS)),
  sandboxes: z.array(z.enum(SANDBOX_BACKENDS)),
  started_at: z.string(),
  last_seen: z.string(),
  alive: z.boolean().describe('Heartbeat seen within the liveness window'),
});
export const WorkerList = z.object({ workers: z.array(WorkerView), liveness_window_ms: z.number() });
export type WorkerView = z.infer<typeof WorkerView>;

/** p50/p95 in milliseconds; null when there is nothing to measure. */
export const Percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });
export type Percentiles = z.infer<typeof Percentiles>;

export const LatencyGroup = z.object({
  /** Evaluations the percentiles are taken over (those that started and finished in the window). */
  count: z.number(),
  queue_wait_ms: Percentiles.describe('Submission to the program starting (the same numbers as crucible_queue_wait_seconds)'),
  run_ms: Percentiles.describe('Program start to its end (the same numbers as crucible_run_seconds)'),
});
export type LatencyGroup = z.infer<typeof LatencyGroup>;

export const LatencyStats = LatencyGroup.extend({
  by_sandbox: z.record(z.string(), LatencyGroup),
  by_environment: z.record(z.string(), LatencyGroup),
  /** True when the window held more evaluations than were sampled (the newest are used). */
  sampled: z.boolean(),
});
export type LatencyStats = z.infer<typeof LatencyStats>;

/** Queue depth and running count at one instant, as the queue view (GET /api/queue) reported them then. */
export const LoadSample = z.object({
  at: z.string(),
  queued: z.number().describe('Evaluations waiting for a worker (the queue depth)'),
  running: z.number().describe('Evaluations provisioning or running'),
});
export type LoadSample = z.infer<typeof LoadSample>;

export const LoadHistory = z.object({
  interval_s: z.number().describe('Seconds between samples (0: the answering process keeps no history)'),
  samples: z
    .array(LoadSample)
    .describe(
      'Oldest first, within the requested window. Sampled in memory by the API instance that answers, so they start when it started (at most the last 15 minutes)',
    ),
});
export type LoadHistory = z.infer<typeof LoadHistory>;

export const StatsResponse = z.object({
  project: z.string().nullable().describe("Null: every project's numbers (admins); else only this project's (the caller's)"),
  buckets: z.array(z.object({ start: z.string(), completed: z.number(), failed: z.number(), timeout: z.number(), cancelled: z.number() })),
  bucket_s: z.number(),
  latency: LatencyStats.describe('Percentiles over the evaluations that finished in the window'),
  load: LoadHistory.describe('Recent queue depth and running count, so a live chart starts from history rather than empty'),
});
export type StatsResponse = z.infer<typeof StatsResponse>;

export const SyntaxCheckResponse = z.object({
  ok: z.boolean(),
  errors: z.array(z.object({ line: z.number(), column: z.number(), message: z.string() })),
});
export type SyntaxCheckResponse = z.infer<typeof SyntaxCheckResponse>;

export const LimitBoundView = z.object({
  default: z.number(),
  min: z.number(),
  max: z.number(),
  unit: z.string(),
  description: z.string(),
});
export type LimitBoundView = z.infer<typeof LimitBoundView>;
export const ConfigResponse = z.object({
  limits: z.record(z.string(), LimitBoundView),
  environments: z.array(z.string()),
  sandboxes: z.array(z.object({ name: z.string(), available: z.boolean(), detail: z.string() })),
  exit_code_guide: z.array(z.object({ code: z.string(), meaning: z.string() })),
  request_bounds: z
    .record(z.string(), z.number())
    .describe(
      'Size bounds of requests: code_bytes, stdin_bytes (UTF-8 bytes), tags, tag_length, name_length, metadata_bytes, metadata_depth, batch_size, files (count), files_bytes (decoded total), file_path_bytes, command_args, command_arg_bytes, body_bytes',
    ),
});
export type ConfigResponse = z.infer<typeof ConfigResponse>;

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
export type WorkerList = z.infer<typeof WorkerList>;
