/**
 * A long-lived sandbox (a session's): commands and file operations served by an agent inside
 * it, until it is closed or dies. Backends that can host sessions offer `openSession`.
 */
import type { Environment } from '../domain/evaluation.js';
import type { SessionFileError } from '../domain/session.js';

export interface SessionSandboxSpec {
  environment: Environment;
  memory_mb: number;
  cpus: number;
  max_processes: number;
  scratch_mb: number;
  /** Unique among the sandboxes of this process (names the cgroup / container). */
  runId: string;
}

export interface AgentExec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  stdin: Buffer;
  timeout_s: number;
  max_output_bytes: number;
}

export interface AgentExecResult {
  exit_code: number | null;
  signal: string | null;
  /** exited | timeout | output_limit | not_started */
  outcome: string;
  message?: string;
  wall_ms: number;
  stdout: Buffer;
  stderr: Buffer;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

export type AgentFileResult<T> = { ok: true; value: T } | { ok: false; code: SessionFileError | 'file_error'; message: string };

export interface SessionSandboxEnding {
  /** agent_exited: the agent or the whole sandbox died without being asked to. */
  cause: 'closed' | 'agent_exited';
  message: string;
}

export interface SessionSandbox {
  exec(request: AgentExec, onOutput?: (stream: 'stdout' | 'stderr', bytes: Buffer) => void): Promise<AgentExecResult>;
  writeFile(path: string, content: Buffer): Promise<AgentFileResult<{ size: number; sha256: string }>>;
  readFile(path: string, maxBytes: number): Promise<AgentFileResult<{ size: number; sha256: string; content: Buffer }>>;
  /** Resolves once the sandbox is gone, however it ended. */
  readonly ended: Promise<SessionSandboxEnding>;
  /** Kills every process of the sandbox and frees its cgroup, scratch and mounts. Idempotent. */
  close(): Promise<void>;
}

export interface SessionSandboxHost {
  /** Starts a session sandbox; rejects with a message when it cannot be set up. */
  openSession(spec: SessionSandboxSpec): Promise<SessionSandbox>;
}
