/** Conversions between database rows and the domain shapes (src/domain/evaluation.ts). */
import type { Selectable } from 'kysely';
import type { Environment, Evaluation, EvaluationSummary, Reason, SandboxBackendName } from '../domain/evaluation.js';
import type { EvaluationEvent } from '../domain/events.js';
import { DEFAULT_LIMITS, type Limits } from '../domain/limits.js';
import { MAIN_FILE, type ProgramFile } from '../domain/program-files.js';
import type { EvaluationEventsTable, EvaluationPayloadsTable, EvaluationsTable } from './schema.js';

export type EvaluationRow = Selectable<EvaluationsTable>;
export type PayloadRow = Pick<Selectable<EvaluationPayloadsTable>, 'code' | 'stdin' | 'stdin_raw' | 'stdout' | 'stderr' | 'files' | 'entrypoint' | 'command'>;

/** The payload columns an Evaluation is made of (never the output bytes: those are read on their own). */
export const PAYLOAD_COLUMNS = ['code', 'stdin', 'stdin_raw', 'stdout', 'stderr', 'files', 'entrypoint', 'command'] as const;

export function toMs(iso: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new TypeError(`not an ISO 8601 time: ${JSON.stringify(iso)}`);
  return ms;
}

export function toIso(ms: number): string;
export function toIso(ms: number | null): string | null;
export function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

/** JSON columns come back parsed from PostgreSQL (jsonb) and as text from SQLite. */
export function decodeJson<T>(raw: unknown): T {
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as T;
}

/** Tags come back as an array from PostgreSQL (text[]) and as JSON text from SQLite. */
export function decodeTags(raw: unknown): string[] {
  return Array.isArray(raw) ? (raw as string[]) : decodeJson<string[]>(raw);
}

/** Nullable numbers: pg returns bigint columns as numbers only because the pool is told to. */
function num(raw: number | null): number | null {
  return raw === null ? null : Number(raw);
}

export function toSummary(row: EvaluationRow): EvaluationSummary {
  return {
    id: row.id,
    status: row.status,
    environment: row.environment as Environment,
    sandbox: row.sandbox as SandboxBackendName,
    code_sha256: row.code_sha256,
    name: row.name,
    code_title: row.code_title,
    tags: decodeTags(row.tags),
    metadata: decodeJson<Record<string, unknown>>(row.metadata),
    // Limits added later (the artifact limits) read as their defaults on older rows.
    limits: { ...DEFAULT_LIMITS, ...decodeJson<Partial<Limits>>(row.limits) },
    created_at: toIso(row.created_at),
    started_at: toIso(row.started_at),
    finished_at: toIso(row.finished_at),
    exit_code: num(row.exit_code),
    signal: row.signal,
    reason: row.reason as Reason | null,
    message: row.message,
    stdout_truncated: Boolean(row.stdout_truncated),
    stderr_truncated: Boolean(row.stderr_truncated),
    metrics: { wall_ms: num(row.wall_ms), cpu_ms: num(row.cpu_ms), peak_memory_bytes: num(row.peak_memory_bytes) },
    worker: row.worker,
    // Storage does not know the workers: the use cases fill it in for queued evaluations.
    waiting_reason: null,
    attempts: Number(row.attempts),
    owner: row.owner,
    project: row.project,
  };
}

export function toEvaluation(row: EvaluationRow, payload: PayloadRow): Evaluation {
  return {
    ...toSummary(row),
    code: payload.code,
    ...programColumns(payload),
    stdin: payload.stdin,
    stdin_base64: payload.stdin_raw ? Buffer.from(payload.stdin_raw).toString('base64') : null,
    stdout: payload.stdout,
    stderr: payload.stderr,
  };
}

export function toEvent(row: Pick<Selectable<EvaluationEventsTable>, 'seq' | 'type' | 'at' | 'data'>): EvaluationEvent {
  return { seq: Number(row.seq), at: toIso(row.at), type: row.type, data: decodeJson(row.data) } as EvaluationEvent;
}

/** files / entrypoint / command; rows written before migration 7 ran code as main.py. */
function programColumns(payload: PayloadRow): Pick<Evaluation, 'files' | 'entrypoint' | 'command'> {
  const command = payload.command === null || payload.command === undefined ? null : decodeJson<string[]>(payload.command);
  const files = payload.files === null || payload.files === undefined ? [] : decodeJson<ProgramFile[]>(payload.files);
  return { files, command, entrypoint: command ? null : (payload.entrypoint ?? MAIN_FILE) };
}
