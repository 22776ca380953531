/**
 * The narrow interface between the platform and whatever isolates a program. Callers (the worker)
 * know only this file; bubblewrap, gVisor and any later Docker/Kubernetes backend live behind it.
 */
import type { Environment, SandboxBackendName } from '../domain/evaluation.js';
import type { MetricsSample } from '../domain/events.js';
import type { Limits } from '../domain/limits.js';
import type { ProgramFile } from '../domain/program-files.js';
import type { RunResult } from '../domain/run-result.js';
import type { SessionSandboxHost } from './session-sandbox.js';

export type { RunResult };

export interface SandboxSpec {
  /** Python source, placed as main.py in the working directory ("" = none: the program is `files`). */
  code: string;
  /** Further files of the working directory /sandbox (see domain/program-files.ts). */
  files?: readonly ProgramFile[];
  /** The script python runs (default main.py); ignored when `command` is given. */
  entrypoint?: string | null;
  /** The argv to run instead (argv[0] looked up in PATH). */
  command?: readonly string[] | null;
  /** Fed to the program's standard input (text as UTF-8, or bytes as they are), then closed. Absent = empty stdin. */
  stdin?: string | Buffer;
  environment: Environment;
  limits: Limits;
  /** Used to name the cgroup and the scratch dir; must be unique among concurrent runs. */
  runId: string;
}

export interface RunCallbacks {
  /**
   * Called once the program is isolated and about to start (status `running`), with the epoch ms
   * it started at (by the sandbox's report where the backend can place it, else now).
   */
  onStart?: (startedAtMs: number) => void;
  /** Decoded (UTF-8, invalid bytes replaced) output as it arrives; only what is kept (truncation applied). */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Live resource samples, roughly every sampleIntervalMs. */
  onSample?: (sample: MetricsSample) => void;
  /** Aborting kills the whole sandbox; the result's reason is then `cancelled`. */
  signal?: AbortSignal;
  sampleIntervalMs?: number;
}

export interface BackendHealth {
  ok: boolean;
  /** What is missing and how to fix it, when not ok. */
  detail: string;
}

export interface SandboxBackend extends Partial<SessionSandboxHost> {
  readonly name: SandboxBackendName;
  /** Checks prerequisites (binaries, cgroups, rootfs) without running anything. */
  health(): Promise<BackendHealth>;
  /**
   * Runs one program to completion. Never rejects because of what the program did: every ending,
   * including the sandbox failing to start, is a RunResult (reason `platform_error` for the latter).
   */
  run(spec: SandboxSpec, callbacks?: RunCallbacks): Promise<RunResult>;
  /** Kills and removes sandboxes left behind by a previous process that crashed. */
  cleanupStale(): Promise<void>;
  /** Optional: prepares resources (e.g. pooled cgroups) so the first runs start fast. */
  warm?(): Promise<void>;
  /** Optional: sandboxes set up ahead of time and ready for a program now (for the metrics). */
  warmSandboxes?(): number;
  /** Optional: releases everything the backend holds (pools, state dirs); runs in flight finish first. */
  close?(): Promise<void>;
}

/** A registry the worker asks for a backend by name; absent names are not configured here. */
export type SandboxBackends = Partial<Record<SandboxBackendName, SandboxBackend>>;
