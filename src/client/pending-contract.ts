/**
 * Shapes of the sessions and artifacts API (issue 12) as the issue spells them, for the routes
 * whose zod schemas are not in src/domain yet. Once they are, each type here becomes a
 * `z.infer`/`z.input` of the domain schema (the rest of the SDK only imports the names below) and
 * this file disappears. Extra fields the server sends are kept (index signatures), so nothing a
 * newer server adds is lost on the way to the caller.
 */
import type { Metrics, SandboxBackendName } from '../domain/evaluation.js';

export type SessionStatus = 'starting' | 'ready' | 'ended';

/** POST /api/sessions body. */
export interface CreateSessionInput {
  environment?: string;
  sandbox?: SandboxBackendName;
  memory_mb?: number;
  cpus?: number;
  max_processes?: number;
  scratch_mb?: number;
  /** Seconds without a call before the session ends (server default 300). */
  idle_timeout_s?: number;
  /** Seconds after which the session ends whatever happens (server default 3600, bounded). */
  max_lifetime_s?: number;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface SessionInfo {
  id: string;
  status: SessionStatus;
  ended_reason: string | null;
  [field: string]: unknown;
}

export interface SessionList {
  items: SessionInfo[];
  next_cursor?: string | null;
  [field: string]: unknown;
}

/** POST /api/sessions/{id}/exec body: `cmd` (argv) or `code` (run with python3). */
export interface ExecInput {
  cmd?: string[];
  code?: string;
  stdin?: string;
  stdin_base64?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeout_s?: number;
  output_encoding?: 'utf-8' | 'base64';
}

export interface ExecResult {
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  message: string | null;
  stdout?: string;
  stderr?: string;
  stdout_base64?: string;
  stderr_base64?: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  metrics: Metrics;
  [field: string]: unknown;
}

/** One event of GET /api/sessions/{id}/events: its SSE event name, id and JSON data. */
export interface SessionEvent {
  type: string;
  id: string | undefined;
  data: unknown;
}
