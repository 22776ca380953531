/**
 * The session model: long-lived sandboxes for agents (exec, files, events). One source of truth
 * for the API's validation, the OpenAPI document, the SDKs and the web UI.
 */
import { z } from 'zod';
import { base64Length, Environment, isBase64, LimitsSchema, Metadata, SandboxBackendName, Tag } from './evaluation.js';
import { LIMIT_BOUNDS, REQUEST_BOUNDS } from './limits.js';

/** Size and count bounds of sessions, also shown in /api/config. */
export const SESSION_BOUNDS = {
  /** Largest file written or read through the file API. */
  file_bytes: 64 * 1024 * 1024,
  /** Execs running at once in one session; more are refused with 409 `session_busy`. */
  concurrent_execs: 4,
  idle_timeout_s: { default: 300, min: 1, max: 86_400 },
  max_lifetime_s: { default: 3600, min: 1, max: 86_400 },
  exec_timeout_s: { default: 60, min: 0.1, max: 3600 },
  argv_items: 4096,
  env_vars: 256,
  path_bytes: 4096,
} as const;

export const SESSION_STATUSES = ['starting', 'ready', 'ended'] as const;
export const SessionStatus = z.enum(SESSION_STATUSES).describe('starting: the sandbox is being set up; ready: it takes execs and files; ended: gone');
export type SessionStatus = z.infer<typeof SessionStatus>;

export const SESSION_END_REASONS = ['deleted', 'idle_timeout', 'max_lifetime', 'agent_exited', 'start_failed', 'worker_lost', 'worker_shutdown'] as const;
export const SessionEndReason = z
  .enum(SESSION_END_REASONS)
  .describe(
    'Why the session ended: deleted (DELETE), idle_timeout, max_lifetime, agent_exited (the sandbox or its agent died, e.g. killed by a program or out of memory), start_failed, worker_lost (its worker stopped answering or restarted), worker_shutdown (its worker stopped cleanly)',
  );
export type SessionEndReason = z.infer<typeof SessionEndReason>;

const boundedSeconds = (name: string, b: { default: number; min: number; max: number }) =>
  z
    .number()
    .min(b.min, { message: `${name} must be at least ${b.min} s` })
    .max(b.max, { message: `${name} must be at most ${b.max} s` })
    .describe(`${name} (s; default ${b.default}, ${b.min}–${b.max})`);

export const SessionLimits = z.object({
  memory_mb: LimitsSchema.shape.memory_mb,
  cpus: LimitsSchema.shape.cpus,
  max_processes: LimitsSchema.shape.max_processes,
  scratch_mb: LimitsSchema.shape.scratch_mb,
  idle_timeout_s: boundedSeconds('idle_timeout_s', SESSION_BOUNDS.idle_timeout_s),
  max_lifetime_s: boundedSeconds('max_lifetime_s', SESSION_BOUNDS.max_lifetime_s),
});
export type SessionLimits = z.infer<typeof SessionLimits>;

export const CreateSessionRequest = z
  .object({
    environment: Environment.default('python'),
    sandbox: SandboxBackendName.default('bubblewrap'),
    memory_mb: SessionLimits.shape.memory_mb.default(LIMIT_BOUNDS.memory_mb.default),
    cpus: SessionLimits.shape.cpus.default(LIMIT_BOUNDS.cpus.default),
    max_processes: SessionLimits.shape.max_processes.default(LIMIT_BOUNDS.max_processes.default),
    scratch_mb: SessionLimits.shape.scratch_mb.default(LIMIT_BOUNDS.scratch_mb.default),
    idle_timeout_s: SessionLimits.shape.idle_timeout_s.default(SESSION_BOUNDS.idle_timeout_s.default),
    max_lifetime_s: SessionLimits.shape.max_lifetime_s.default(SESSION_BOUNDS.max_lifetime_s.default),
    tags: z.array(Tag).max(REQUEST_BOUNDS.tags).default([]).describe('Labels for filtering'),
    metadata: Metadata.default({}),
  })
  .strict();
export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;
export type CreateSessionInput = z.input<typeof CreateSessionRequest>;

export const Session = z.object({
  id: z.string(),
  status: SessionStatus,
  ended_reason: SessionEndReason.nullable(),
  message: z.string().nullable().describe('Details of the ending (or of a failed start)'),
  environment: Environment,
  sandbox: SandboxBackendName,
  limits: SessionLimits,
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  owner: z.string().describe('Who created it: an API key id, or "anonymous" (auth off)'),
  project: z.string(),
  worker: z.string().nullable().describe('The worker holding the sandbox'),
  created_at: z.string(),
  ready_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  last_activity_at: z.string(),
});
export type Session = z.infer<typeof Session>;

export const SessionList = z.object({ items: z.array(Session) });
export type SessionList = z.infer<typeof SessionList>;

export const ListSessionsQuery = z
  .object({
    status: SessionStatus.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type ListSessionsQuery = z.infer<typeof ListSessionsQuery>;

export const SessionIdParams = z.object({ id: z.string().regex(/^ses_[a-z0-9]{20}$/, { message: 'a session id (ses_…)' }) });

const noNul = (s: string) => !s.includes('\u0000');
const Arg = z
  .string()
  .max(SESSION_BOUNDS.path_bytes * 16)
  .refine(noNul, { message: 'arguments must not contain NUL' });

export const OUTPUT_ENCODINGS = ['utf-8', 'base64'] as const;

export const ExecRequest = z
  .object({
    cmd: z.array(Arg).min(1).max(SESSION_BOUNDS.argv_items).optional().describe('argv of the command (no shell); give cmd or code'),
    code: z
      .string()
      .max(REQUEST_BOUNDS.code_bytes)
      .refine(noNul, { message: 'code must not contain NUL' })
      .optional()
      .describe('Python source run with python3 -c; give cmd or code'),
    stdin: z.string().max(REQUEST_BOUNDS.stdin_bytes).optional().describe('Text fed on standard input (UTF-8)'),
    stdin_base64: z
      .string()
      .max(base64Length(REQUEST_BOUNDS.stdin_bytes))
      .refine(isBase64, { message: 'stdin_base64 must be standard base64' })
      .optional()
      .describe('Bytes fed on standard input, base64'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'an environment variable name' }), z.string().max(65_536).refine(noNul))
      .refine((e) => Object.keys(e).length <= SESSION_BOUNDS.env_vars, { message: `at most ${SESSION_BOUNDS.env_vars} variables` })
      .default({})
      .describe("Variables added to the session's environment for this command"),
    cwd: z.string().min(1).max(SESSION_BOUNDS.path_bytes).refine(noNul).optional().describe('Working directory (relative: against /sandbox, the default)'),
    timeout_s: boundedSeconds('timeout_s', SESSION_BOUNDS.exec_timeout_s)
      .default(SESSION_BOUNDS.exec_timeout_s.default)
      .describe('Kills the process group of this command (not the session) after this long'),
    output_encoding: z.enum(OUTPUT_ENCODINGS).default('utf-8').describe('utf-8: stdout/stderr as text; base64: stdout_base64/stderr_base64, bytes exactly'),
    max_output_bytes: LimitsSchema.shape.max_output_bytes.default(LIMIT_BOUNDS.max_output_bytes.default),
  })
  .strict()
  .refine((r) => (r.cmd === undefined) !== (r.code === undefined), { message: 'give cmd (argv) or code (Python), exactly one', path: ['cmd'] })
  .refine((r) => r.stdin === undefined || r.stdin_base64 === undefined, { message: 'give stdin or stdin_base64, not both', path: ['stdin_base64'] });
export type ExecRequest = z.infer<typeof ExecRequest>;
export type ExecInput = z.input<typeof ExecRequest>;

export const EXEC_REASONS = ['completed', 'nonzero_exit', 'signaled', 'timeout', 'output_limit', 'not_started'] as const;
export const ExecReason = z.enum(EXEC_REASONS);
export type ExecReason = z.infer<typeof ExecReason>;

export const ExecResult = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  reason: ExecReason.describe('completed (exit 0), nonzero_exit, signaled, timeout (its process group was killed), output_limit, not_started'),
  message: z.string(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  stdout_base64: z.string().optional(),
  stderr_base64: z.string().optional(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  metrics: z.object({ wall_ms: z.number() }),
});
export type ExecResult = z.infer<typeof ExecResult>;

export const FileQuery = z.object({ path: z.string().min(1).max(SESSION_BOUNDS.path_bytes) }).strict();
export const ReadFileQuery = FileQuery.extend({
  max_bytes: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      `Refuse (413 file_too_large) a file larger than this, without sending it; the server's own bound (${SESSION_BOUNDS.file_bytes} bytes) applies either way`,
    ),
}).strict();

export const FileWritten = z.object({ path: z.string(), size: z.number().int(), sha256: z.string() });
export type FileWritten = z.infer<typeof FileWritten>;

export const SESSION_EVENT_TYPES = ['status', 'exec', 'file_write', 'file_read'] as const;
export const SessionEvent = z.object({
  seq: z.number().int(),
  type: z.enum(SESSION_EVENT_TYPES),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type SessionEvent = z.infer<typeof SessionEvent>;
export type NewSessionEvent = Omit<SessionEvent, 'seq'>;

/** Errors the in-sandbox agent reports for file operations, as the API's error codes. */
export const SESSION_FILE_ERRORS = ['file_not_found', 'is_a_directory', 'permission_denied', 'file_too_large', 'invalid_path', 'no_space'] as const;
export type SessionFileError = (typeof SESSION_FILE_ERRORS)[number];

/** What an exec ended with, as a reason and a sentence. */
export function execVerdict(r: { exit_code: number | null; signal: string | null; outcome: string; timeout_s: number }): {
  reason: ExecReason;
  message: string;
} {
  if (r.outcome === 'not_started') return { reason: 'not_started', message: 'the command could not be started' };
  if (r.outcome === 'timeout') return { reason: 'timeout', message: `killed after the ${r.timeout_s} s timeout (with its process group)` };
  if (r.outcome === 'output_limit') return { reason: 'output_limit', message: 'killed for writing far more output than is kept' };
  if (r.signal) return { reason: 'signaled', message: `killed by ${r.signal}` };
  if (r.exit_code === 0) return { reason: 'completed', message: 'exited with code 0' };
  return { reason: 'nonzero_exit', message: `exited with code ${r.exit_code}` };
}

/**
 * What each session event's `data` holds, by event type: the transcript the events stream and the
 * web UI's timeline read. Outputs are the first 64 KiB of each stream, decoded as UTF-8 (bytes that
 * are not UTF-8 read as U+FFFD; the exec's own answer has them exactly).
 */
export const SessionStatusEventData = z.object({
  status: SessionStatus,
  ended_reason: SessionEndReason.optional(),
  message: z.string().optional(),
});
export type SessionStatusEventData = z.infer<typeof SessionStatusEventData>;

export const ExecEventData = z.object({
  cmd: z.array(z.string()).optional().describe('argv, when the exec gave cmd'),
  code: z.string().optional().describe('the Python source (its first 64 KiB), when the exec gave code'),
  cwd: z.string().nullable(),
  env_keys: z.array(z.string()),
  stdin_bytes: z.number().int(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  reason: ExecReason,
  message: z.string(),
  stdout: z.string(),
  stderr: z.string(),
  stdout_bytes: z.number().int(),
  stderr_bytes: z.number().int(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  wall_ms: z.number(),
});
export type ExecEventData = z.infer<typeof ExecEventData>;

/** file_write and file_read: the path as given, its size and SHA-256. */
export const FileEventData = FileWritten;
export type FileEventData = FileWritten;
