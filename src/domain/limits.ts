/**
 * Resource limits an evaluation may ask for: each has a default (used when the request omits it)
 * and a hard minimum/maximum (anything outside is rejected with 400, never silently clamped, so a
 * user always knows the limits their program actually ran under).
 */
export interface LimitBound {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly description: string;
}

export const LIMIT_BOUNDS = {
  timeout_s: { default: 30, min: 0.1, max: 600, unit: 's', description: 'Wall-clock time before the whole sandbox is killed' },
  memory_mb: { default: 512, min: 16, max: 8192, unit: 'MiB', description: 'Memory (RAM + scratch tmpfs) of the whole sandbox; no swap' },
  cpus: { default: 1, min: 0.1, max: 8, unit: 'CPUs', description: 'CPU share (CFS quota), e.g. 0.5 = half a core' },
  max_processes: { default: 64, min: 1, max: 1024, unit: 'tasks', description: 'Processes + threads alive at once inside the sandbox' },
  max_output_bytes: {
    default: 1_048_576,
    min: 1024,
    max: 16_777_216,
    unit: 'bytes',
    description: 'Bytes kept of each of stdout and stderr; the rest is dropped and the stream marked truncated',
  },
  scratch_mb: {
    default: 64,
    min: 1,
    max: 1024,
    unit: 'MiB',
    description: 'Size of each private writable tmpfs: /tmp, /dev/shm and the working directory /sandbox (which holds the files)',
  },
  max_artifacts: {
    default: 20,
    min: 0,
    max: 1000,
    unit: 'files',
    description: 'Files collected from /sandbox/out when the program ends; the rest are listed as dropped (0 = collect nothing)',
  },
  max_artifact_bytes: {
    default: 16_777_216,
    min: 0,
    max: 67_108_864,
    unit: 'bytes',
    description: 'Total bytes of the collected files; a file that does not fit is listed as dropped, unread',
  },
} as const satisfies Record<string, LimitBound>;

export type LimitName = keyof typeof LIMIT_BOUNDS;

export interface Limits {
  timeout_s: number;
  memory_mb: number;
  cpus: number;
  max_processes: number;
  max_output_bytes: number;
  scratch_mb: number;
  max_artifacts: number;
  max_artifact_bytes: number;
}

export const DEFAULT_LIMITS: Limits = Object.fromEntries(Object.entries(LIMIT_BOUNDS).map(([name, bound]) => [name, bound.default])) as unknown as Limits;

/**
 * A program that keeps writing after its output was truncated is drained (so it is not blocked on
 * a full pipe) until it has written this many times its limit; then it is killed with reason
 * `output_limit`, so a flood cannot burn CPU until the timeout.
 */
export const OUTPUT_FLOOD_FACTOR = 16;

/** Size limits on the request itself (not the sandbox). */
export const REQUEST_BOUNDS = {
  code_bytes: 1_048_576,
  stdin_bytes: 4_194_304,
  tags: 32,
  tag_length: 64,
  /** Characters of an evaluation's optional name. */
  name_length: 200,
  metadata_bytes: 16_384,
  metadata_depth: 32,
  batch_size: 500,
  /** Files of a multi-file program (`files`), their total decoded size, and one path's length. */
  files: 100,
  files_bytes: 2_097_152,
  file_path_bytes: 255,
  /** `command`: how many arguments, and the size of each. */
  command_args: 64,
  command_arg_bytes: 4096,
  /** Largest request body: a full batch of small programs, or one program with maximal code, stdin and files. */
  body_bytes: 1_048_576 * 2 + 4_194_304 * 2 + 2_097_152 * 2,
} as const;
