/**
 * Table shapes as kysely sees them, shared by both dialects. Times are stored as integer
 * milliseconds since the epoch in both databases, so ordering, cursor comparison and time
 * bucketing are the same arithmetic everywhere (no text-vs-timestamp differences between SQLite
 * and PostgreSQL). Columns typed `unknown` are dialect-encoded (see dialect.ts): JSON as text or
 * jsonb, booleans as 0/1 or boolean, tags as a JSON array text or text[].
 */
import type { Generated } from 'kysely';
import type { EvaluationStatus } from '../domain/evaluation.js';

export interface EvaluationsTable {
  id: string;
  status: EvaluationStatus;
  environment: string;
  sandbox: string;
  tags: unknown;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  message: string | null;
  stdout_truncated: unknown;
  stderr_truncated: unknown;
  wall_ms: number | null;
  cpu_ms: number | null;
  peak_memory_bytes: number | null;
  worker: string | null;
  attempts: number;
  /** Sequence number of the newest event; bumped in the same statement that claims the numbers. */
  last_seq: number;
  limits: unknown;
  metadata: unknown;
  code_sha256: string;
  owner: string;
  name: string | null;
  code_title: string | null;
  project: string;
}

/** Large payloads, kept out of the hot row so listing and status updates stay small. */
export interface EvaluationPayloadsTable {
  evaluation_id: string;
  code: string;
  stdin: string | null;
  stdout: string;
  stderr: string;
  /** Binary stdin (then `stdin` is null), and output bytes when the text cannot say them (see RunResult). */
  stdin_raw: Uint8Array | null;
  stdout_raw: Uint8Array | null;
  stderr_raw: Uint8Array | null;
  /** The program as given (migration 7; null on older rows): JSON files, the entrypoint, a JSON argv. */
  files: unknown;
  entrypoint: string | null;
  command: unknown;
  /** JSON {dropped, dropped_more} of the artifact collection; null when nothing was collected. */
  artifacts_dropped: unknown;
  /** Bits of the output columns kept as rows of evaluation_output_pieces instead (migration 12; see output-pieces.ts). */
  output_in_pieces: Generated<number>;
}

/** A piece of an output over 1 MiB, a row per piece (see output-pieces.ts). */
export interface EvaluationOutputPiecesTable {
  evaluation_id: string;
  /** The payload column the piece belongs to: stdout, stderr, stdout_raw or stderr_raw. */
  stream: string;
  seq: number;
  /** The piece of a text column (stdout, stderr), else null. */
  text: string | null;
  /** The piece of a bytes column (stdout_raw, stderr_raw), else null. */
  bytes: Uint8Array | null;
}

/** Files collected from /sandbox/out, one row each (content as bytes). */
export interface EvaluationArtifactsTable {
  evaluation_id: string;
  path: string;
  size_bytes: number;
  sha256: string;
  content_type: string;
  content: Uint8Array;
}

export interface EvaluationEventsTable {
  evaluation_id: string;
  seq: number;
  type: string;
  at: number;
  data: unknown;
}

/** SQLite only: one row per tag, so an AND of tags is answered from an index. */
export interface EvaluationTagsTable {
  evaluation_id: string;
  tag: string;
  created_at: number;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  capacity: number;
  running: number;
  environments: unknown;
  sandboxes: unknown;
  started_at: number;
  last_seen: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  project: string;
  secret_sha256: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  actor: string;
  role: string | null;
  project: string | null;
  action: string;
  target: string | null;
  outcome: string;
  source: string | null;
  request_id: string | null;
  /** JSON text (kept as written, so the hash stays verifiable in both databases). */
  detail: string;
  prev_hash: string;
  hash: string;
}

/** One row per project whose quota an admin set. */
export interface ProjectQuotasTable {
  project: string;
  /** JSON text of the QuotaSettings. */
  settings: string;
  updated_at: number;
  updated_by: string;
}

export interface SessionsTable {
  id: string;
  status: string;
  ended_reason: string | null;
  message: string | null;
  environment: string;
  sandbox: string;
  limits: string;
  tags: string;
  metadata: string;
  owner: string;
  project: string;
  worker: string | null;
  created_at: number;
  ready_at: number | null;
  ended_at: number | null;
  last_activity_at: number;
  last_seq: number;
}

export interface SessionEventsTable {
  session_id: string;
  seq: number;
  type: string;
  at: number;
  data: string;
}

export interface WebSessionsTable {
  id_sha256: string;
  actor: string;
  name: string;
  role: string;
  project: string;
  method: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Database {
  evaluations: EvaluationsTable;
  evaluation_payloads: EvaluationPayloadsTable;
  evaluation_artifacts: EvaluationArtifactsTable;
  evaluation_output_pieces: EvaluationOutputPiecesTable;
  evaluation_events: EvaluationEventsTable;
  evaluation_tags: EvaluationTagsTable;
  workers: WorkersTable;
  crucible_migrations: MigrationsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  project_quotas: ProjectQuotasTable;
  sessions: SessionsTable;
  session_events: SessionEventsTable;
  web_sessions: WebSessionsTable;
}
