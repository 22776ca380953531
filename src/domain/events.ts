/**
 * The per-evaluation event log. Every event has a sequence number, unique and gap-free within its
 * evaluation, assigned when it is persisted; it is the SSE id, so a client resuming with
 * Last-Event-ID gets exactly the events after it.
 */
import { z } from 'zod';
import { EvaluationStatus, Metrics, Reason } from './evaluation.js';

export const StatusEventData = z.object({
  status: EvaluationStatus,
  reason: Reason.nullable().optional(),
  message: z.string().nullable().optional(),
  worker: z.string().nullable().optional(),
});

export const OutputEventData = z.object({ text: z.string() });

export const MetricsSample = z.object({
  elapsed_ms: z.number(),
  cpu_ms: z.number(),
  memory_bytes: z.number(),
  pids: z.number().optional(),
});
export type MetricsSample = z.infer<typeof MetricsSample>;

export const DoneEventData = z.object({
  status: EvaluationStatus,
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  reason: Reason.nullable(),
  message: z.string().nullable(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  metrics: Metrics,
});

export const EvaluationEvent = z.discriminatedUnion('type', [
  z.object({ seq: z.number().int(), at: z.string(), type: z.literal('status'), data: StatusEventData }),
  z.object({ seq: z.number().int(), at: z.string(), type: z.literal('stdout'), data: OutputEventData }),
  z.object({ seq: z.number().int(), at: z.string(), type: z.literal('stderr'), data: OutputEventData }),
  z.object({ seq: z.number().int(), at: z.string(), type: z.literal('metrics'), data: MetricsSample }),
  z.object({ seq: z.number().int(), at: z.string(), type: z.literal('done'), data: DoneEventData }),
]);
export type EvaluationEvent = z.infer<typeof EvaluationEvent>;
export type EvaluationEventType = EvaluationEvent['type'];
/** An event before storage gave it its sequence number. */
export type NewEvaluationEvent = EvaluationEvent extends infer E ? (E extends { seq: number } ? Omit<E, 'seq'> : never) : never;

/** Global feed (GET /api/events): one line per status change of any evaluation. */
export const StatusChange = z.object({
  id: z.string(),
  status: EvaluationStatus,
  reason: Reason.nullable(),
  tags: z.array(z.string()),
  at: z.string(),
});
export type StatusChange = z.infer<typeof StatusChange>;
