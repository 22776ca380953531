/**
 * Shapes of the API responses that are not evaluations themselves (those live in the domain).
 * Pure zod, no Node imports: the web UI imports these too.
 */
import { z } from 'zod';
import {
  ENVIRONMENTS,
  EVALUATION_ID_CHARS,
  EVALUATION_ID_MAX_LENGTH,
  EvaluationStatus,
  ProgramSource,
  queryNumber,
  SANDBOX_BACKENDS,
} from '../domain/evaluation.js';

export const EvaluationIdParams = z.object({
  id: z
    .string()
    .max(EVALUATION_ID_MAX_LENGTH)
    .regex(EVALUATION_ID_CHARS, { message: 'an evaluation id has only letters, digits, _ and - (e.g. ev_01JD8XW2Q3...)' }),
});

/** For routes that take no query parameters: an unknown one is refused rather than ignored. */
export const NoQuery = z.object({}).strict();

export const CreateQuery = z
  .object({
    wait: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'))
      .describe('Hold the request until the evaluation is terminal (at most wait_s, default 60 s)'),
    wait_s: queryNumber('wait_s', { min: 0, max: 600, integer: false }).optional().describe('How long ?wait holds the request; implies wait'),
  })
  .strict()
  .refine((q) => !(q.wait === false && q.wait_s !== undefined && q.wait_s > 0), {
    message: 'wait=false contradicts wait_s (which implies waiting); give one of them',
    path: ['wait'],
  });

export const BatchCreateResponse = z.object({ ids: z.array(z.string()) });

export const EventsQuery = z
  .object({
    after: queryNumber('after', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true })
      .optional()
      .describe('Same as the Last-Event-ID header: resume after this sequence number'),
  })
  .strict();

export const QueueStats = z.object({
  counts: z.record(EvaluationStatus, z.number()),
  depth: z.number().describe('Evaluations waiting for a worker'),
  max_depth: z.number().describe('Beyond this, new submissions get 503 with Retry-After'),
  oldest_queued_at: z.string().nullable(),
  oldest_queued_age_ms: z.number().nullable(),
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

/** Most buckets one stats request may ask for (storage refuses more than 10 000 outright). */
export const MAX_STATS_BUCKETS = 9000;

export const StatsQuery = z
  .object({
    minutes: queryNumber('minutes', { min: 1, max: 24 * 60, integer: true }).default(15),
    bucket_s: queryNumber('bucket_s', { min: 5, max: 3600, integer: true }).default(60),
  })
  .strict()
  .superRefine((q, ctx) => {
    const buckets = Math.ceil((q.minutes * 60) / q.bucket_s);
    if (buckets > MAX_STATS_BUCKETS) {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket_s'],
        message: `minutes=${q.minutes} with bucket_s=${q.bucket_s} asks for ${buckets} buckets; at most ${MAX_STATS_BUCKETS} (use a larger bucket_s)`,
      });
    }
  });
export const StatsResponse = z.object({
  buckets: z.array(
    z.object({ start: z.string(), completed: z.number(), failed: z.number(), timeout: z.number(), cancelled: z.number() }),
  ),
  bucket_s: z.number(),
});
export type StatsResponse = z.infer<typeof StatsResponse>;

export const SyntaxCheckRequest = z
  .object({
    code: ProgramSource.describe('Python source to compile'),
  })
  .strict();
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
export const ConfigResponse = z.object({
  limits: z.record(z.string(), LimitBoundView),
  environments: z.array(z.string()),
  sandboxes: z.array(z.object({ name: z.string(), available: z.boolean(), detail: z.string() })),
  exit_code_guide: z.array(z.object({ code: z.string(), meaning: z.string() })),
});
export type ConfigResponse = z.infer<typeof ConfigResponse>;

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});
