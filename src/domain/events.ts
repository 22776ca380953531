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
  /** The status event's sequence number within its evaluation. */
  seq: z.number().int(),
  status: EvaluationStatus,
  reason: Reason.nullable(),
  tags: z.array(z.string()),
  at: z.string(),
  /** The evaluation's project (the feed shows each caller only their project's changes). */
  project: z.string().optional(),
});
export type StatusChange = z.infer<typeof StatusChange>;

/**
 * A position in the global feed: status changes are ordered by (time, evaluation id, seq). Sent as
 * the SSE id `<epoch ms>.<evaluation id>.<seq>`, so a dashboard that reconnects with
 * Last-Event-ID gets every change after it.
 */
export interface FeedPosition {
  atMs: number;
  evaluationId: string;
  seq: number;
}

export function feedPositionOf(change: Pick<StatusChange, 'id' | 'seq' | 'at'>): FeedPosition {
  return { atMs: Date.parse(change.at), evaluationId: change.id, seq: change.seq };
}

export function formatFeedPosition(p: FeedPosition): string {
  return `${p.atMs}.${p.evaluationId}.${p.seq}`;
}

/** The position in a Last-Event-ID, or null when it is not one this feed sent. */
export function parseFeedPosition(text: string): FeedPosition | null {
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,100})\.(\d{1,9})$/.exec(text.trim());
  return m ? { atMs: Number(m[1]), evaluationId: m[2]!, seq: Number(m[3]) } : null;
}

/** True when `a` comes after `b` in feed order. */
export function isAfter(a: FeedPosition, b: FeedPosition): boolean {
  if (a.atMs !== b.atMs) return a.atMs > b.atMs;
  if (a.evaluationId !== b.evaluationId) return a.evaluationId > b.evaluationId;
  return a.seq > b.seq;
}
