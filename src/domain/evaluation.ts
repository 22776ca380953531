/**
 * The evaluation model: the one source of truth for every shape the API accepts or returns.
 * The HTTP validation, the OpenAPI document and the web UI's types are all derived from these
 * zod schemas.
 */
import { z } from 'zod';
import { LIMIT_BOUNDS, REQUEST_BOUNDS, type LimitName } from './limits.js';
import { ProgramFile, pathProblem, programProblems } from './program-files.js';

export const EVALUATION_STATUSES = ['queued', 'provisioning', 'running', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export const EvaluationStatus = z.enum(EVALUATION_STATUSES).describe('Lifecycle state of an evaluation');
export type EvaluationStatus = z.infer<typeof EvaluationStatus>;

export const TERMINAL_STATUSES = ['completed', 'failed', 'timeout', 'cancelled'] as const satisfies readonly EvaluationStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export function isTerminal(status: EvaluationStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Why an evaluation ended. Tells apart every way a run can end; see interpretExit(). */
export const REASONS = [
  'exit_zero', // program exited 0
  'exit_nonzero', // program exited with a non-zero code of its own
  'signal', // program was killed by a signal it did not get from us (e.g. it SIGKILLed itself)
  'oom', // the kernel's OOM killer fired in the sandbox's memory cgroup
  'timeout', // wall-clock limit reached; the whole sandbox was killed
  'pids_limit', // the program died after hitting the process/thread limit
  'output_limit', // kept writing far past the output limit; killed
  'cancelled', // a user cancelled it
  'platform_error', // the sandbox or the platform failed; not the program's fault
] as const;
export const Reason = z.enum(REASONS).describe('Why the evaluation ended');
export type Reason = z.infer<typeof Reason>;

/** What an evaluation id may be made of (ours are `ev_` + a ULID); anything else names none. */
export const EVALUATION_ID_CHARS = /^[A-Za-z0-9_-]+$/;
export const EVALUATION_ID_MAX_LENGTH = 64;

/**
 * A number in a query string: plain decimal digits only (no `1e9`, `0x10`, `Infinity`, blanks),
 * so what the client wrote is exactly the number used, and the error says what was expected.
 */
export function queryNumber(name: string, bounds: { min: number; max: number; integer: boolean }) {
  const pattern = bounds.integer ? /^\d{1,16}$/ : /^\d{1,16}(\.\d{1,16})?$/;
  const kind = bounds.integer ? 'a whole number' : 'a number';
  const range = `${kind} from ${bounds.min} to ${bounds.max}`;
  return z
    .string()
    .regex(pattern, { message: `${name} must be ${range} written in plain digits` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(bounds.min, { message: `${name} must be ${range}` })
        .max(bounds.max, { message: `${name} must be ${range}` }),
    );
}

export const SANDBOX_BACKENDS = ['bubblewrap', 'gvisor'] as const;
export const SandboxBackendName = z
  .enum(SANDBOX_BACKENDS)
  .describe(
    'Isolation backend: bubblewrap (namespaces + seccomp + cgroups, fast) or gvisor (a user-space kernel between the program and the host, slower start)',
  );
export type SandboxBackendName = z.infer<typeof SandboxBackendName>;

export const ENVIRONMENTS = ['python', 'python-data', 'python-ml', 'python-3.13'] as const;
export const Environment = z.enum(ENVIRONMENTS).describe('Execution environment (interpreter and libraries)');
export type Environment = z.infer<typeof Environment>;

function limitField(name: LimitName, integer: boolean) {
  const b = LIMIT_BOUNDS[name];
  const base = integer ? z.number().int() : z.number();
  return base
    .min(b.min, { message: `${name} must be at least ${b.min} ${b.unit}` })
    .max(b.max, { message: `${name} must be at most ${b.max} ${b.unit}` })
    .describe(`${b.description} (${b.unit}; default ${b.default}, ${b.min}–${b.max})`);
}

export const LimitsSchema = z.object({
  timeout_s: limitField('timeout_s', false),
  memory_mb: limitField('memory_mb', true),
  cpus: limitField('cpus', false),
  max_processes: limitField('max_processes', true),
  max_output_bytes: limitField('max_output_bytes', true),
  scratch_mb: limitField('scratch_mb', true),
  max_artifacts: limitField('max_artifacts', true),
  max_artifact_bytes: limitField('max_artifact_bytes', true),
});

export const Tag = z
  .string()
  .min(1)
  .max(REQUEST_BOUNDS.tag_length)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/=-]*$/, {
    message: 'tags may contain letters, digits and _ . : / = - and must start with a letter or digit',
  });

/** Visits every key and value of a JSON value without recursion (a hostile value may be deep). */
function* jsonLeaves(root: unknown, maxDepth: number): Generator<{ text?: string; tooDeep?: true }> {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') yield { text: value };
    else if (value && typeof value === 'object') {
      if (depth >= maxDepth) {
        yield { tooDeep: true };
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        yield { text: k };
        stack.push({ value: v, depth: depth + 1 });
      }
    }
  }
}

const jsonDepthOk = (value: unknown) => ![...jsonLeaves(value, REQUEST_BOUNDS.metadata_depth)].some((l) => l.tooDeep);
const containsNul = (value: unknown) => [...jsonLeaves(value, Infinity)].some((l) => l.text?.includes('\u0000'));
/**
 * An unpaired UTF-16 surrogate (JSON allows `"\ud800"`) has no UTF-8 form: storage, hashing and
 * Python would each silently turn it into U+FFFD, so the program run would not be the one sent.
 * (With the `u` flag a proper surrogate pair is one code point and does not match.)
 */
const hasLoneSurrogate = (s: string) => /[\uD800-\uDFFF]/u.test(s);
const containsLoneSurrogate = (value: unknown) => [...jsonLeaves(value, Infinity)].some((l) => l.text !== undefined && hasLoneSurrogate(l.text));

export const Metadata = z
  .record(z.string(), z.unknown())
  // First, and aborting: the checks after it serialise and walk the value.
  .refine(jsonDepthOk, { message: `metadata must nest at most ${REQUEST_BOUNDS.metadata_depth} levels deep`, abort: true })
  .refine((m) => JSON.stringify(m).length <= REQUEST_BOUNDS.metadata_bytes, {
    message: `metadata must serialise to at most ${REQUEST_BOUNDS.metadata_bytes} bytes of JSON`,
  })
  .refine((m) => !containsNul(m), { message: 'metadata must not contain NUL (\\u0000) characters' })
  .refine((m) => !containsLoneSurrogate(m), { message: 'metadata must be valid Unicode: it contains an unpaired surrogate (e.g. \\ud800)' })
  .describe('Free-form JSON object stored with the evaluation');

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** NUL cannot be stored as text by PostgreSQL, and Python refuses it in source code anyway. */
const noNul = (field: string) => [(s: string) => !s.includes('\u0000'), { message: `${field} must not contain NUL (\\u0000) characters` }] as const;
const wellFormed = (field: string) =>
  [(s: string) => !hasLoneSurrogate(s), { message: `${field} must be valid Unicode: it contains an unpaired surrogate (e.g. \\ud800)` }] as const;

/** Python source as accepted anywhere (submissions, syntax checks): bounded, no NUL, valid Unicode. */
/**
 * Standard base64 with padding: groups of four alphabet characters, `=` only at the very end. A
 * loop, not a regular expression, so a multi-megabyte value cannot exhaust the regex engine.
 */
export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  for (let i = 0; i < text.length - padding; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/** Characters of base64 for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

export const ProgramSource = z
  .string()
  // Characters never outnumber UTF-8 bytes, so this bound (visible as maxLength in the OpenAPI
  // document) never refuses what the byte bound below accepts.
  .max(REQUEST_BOUNDS.code_bytes, { message: `code must be at most ${REQUEST_BOUNDS.code_bytes} bytes` })
  .refine((s) => utf8Bytes(s) <= REQUEST_BOUNDS.code_bytes, {
    message: `code must be at most ${REQUEST_BOUNDS.code_bytes} bytes`,
  })
  .refine(...noNul('code'))
  .refine(...wellFormed('code'));

/** A file's content: base64 must be well-formed; text follows the same rules as code. */
const RequestFile = ProgramFile.superRefine((f, ctx) => {
  const problem =
    f.encoding === 'base64'
      ? isBase64(f.content)
        ? null
        : 'must be standard base64 (A–Z, a–z, 0–9, +, /, padded with =)'
      : f.content.includes('\u0000')
        ? 'must not contain NUL (\\u0000) characters; send binary files with encoding "base64"'
        : hasLoneSurrogate(f.content)
          ? 'must be valid Unicode: it contains an unpaired surrogate (e.g. \\ud800)'
          : null;
  if (problem) ctx.addIssue({ code: 'custom', path: ['content'], message: `content of "${f.path.slice(0, 80)}" ${problem}` });
});

const CommandArg = z
  .string()
  .min(1, { message: 'command arguments must not be empty' })
  .max(REQUEST_BOUNDS.command_arg_bytes, { message: `each command argument must be at most ${REQUEST_BOUNDS.command_arg_bytes} characters` })
  .refine(...noNul('command arguments'))
  .refine(...wellFormed('command arguments'));

export const CreateEvaluationRequest = z
  .object({
    code: ProgramSource.min(1, { message: 'code must not be empty' })
      .optional()
      .describe('Python source to run, as main.py (the shorthand for a one-file program; give code or files, or both)'),
    files: z
      .array(RequestFile)
      .max(REQUEST_BOUNDS.files, { message: `at most ${REQUEST_BOUNDS.files} files` })
      .optional()
      .describe(
        `Files placed in the working directory /sandbox before the program starts (at most ${REQUEST_BOUNDS.files}, ${REQUEST_BOUNDS.files_bytes} bytes in total); with code, code is main.py`,
      ),
    entrypoint: z
      .string()
      .max(REQUEST_BOUNDS.file_path_bytes)
      .superRefine((p, ctx) => {
        const problem = pathProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: `entrypoint ${problem}` });
      })
      .optional()
      .describe("The script among the files run with the environment's python (default main.py)"),
    command: z
      .array(CommandArg)
      .min(1, { message: 'command must name a program to run' })
      .max(REQUEST_BOUNDS.command_args, { message: `command may have at most ${REQUEST_BOUNDS.command_args} arguments` })
      .optional()
      .describe('The argv to run in /sandbox instead of python on the entrypoint, e.g. ["python3", "-m", "unittest"]; argv[0] is looked up in PATH'),
    name: z
      .string()
      .trim()
      .min(1, { message: 'name must not be blank (leave it out instead)' })
      .max(REQUEST_BOUNDS.name_length, { message: `name must be at most ${REQUEST_BOUNDS.name_length} characters` })
      .refine(...noNul('name'))
      .refine(...wellFormed('name'))
      .optional()
      .describe('A short human name shown in listings and searchable (e.g. "baseline, 4 shots")'),
    stdin: z
      .string()
      .max(REQUEST_BOUNDS.stdin_bytes, { message: `stdin must be at most ${REQUEST_BOUNDS.stdin_bytes} bytes` })
      .refine((s) => utf8Bytes(s) <= REQUEST_BOUNDS.stdin_bytes, {
        message: `stdin must be at most ${REQUEST_BOUNDS.stdin_bytes} bytes`,
      })
      .refine(...noNul('stdin'))
      .refine(...wellFormed('stdin'))
      .optional()
      .describe('Text fed to the program on standard input (UTF-8); for arbitrary bytes use stdin_base64'),
    stdin_base64: z
      .string()
      .max(base64Length(REQUEST_BOUNDS.stdin_bytes), { message: `stdin_base64 must decode to at most ${REQUEST_BOUNDS.stdin_bytes} bytes` })
      .refine(isBase64, { message: 'stdin_base64 must be standard base64 (A–Z, a–z, 0–9, +, /, padded with =)' })
      .optional()
      .describe('Bytes fed to the program on standard input, base64-encoded (NUL and bytes that are not UTF-8 included)'),
    // A string, not the enum: an unknown name gets its own error (unknown_environment) listing the known ones.
    environment: z
      .string()
      .max(64)
      .default('python')
      .describe(`Execution environment: ${ENVIRONMENTS.join(', ')} (see GET /api/environments)`),
    sandbox: SandboxBackendName.default('bubblewrap'),
    timeout_s: LimitsSchema.shape.timeout_s.optional(),
    memory_mb: LimitsSchema.shape.memory_mb.optional(),
    cpus: LimitsSchema.shape.cpus.optional(),
    max_processes: LimitsSchema.shape.max_processes.optional(),
    max_output_bytes: LimitsSchema.shape.max_output_bytes.optional(),
    scratch_mb: LimitsSchema.shape.scratch_mb.optional(),
    max_artifacts: LimitsSchema.shape.max_artifacts.optional(),
    max_artifact_bytes: LimitsSchema.shape.max_artifact_bytes.optional(),
    tags: z.array(Tag).max(REQUEST_BOUNDS.tags).default([]).describe('Labels for filtering history'),
    metadata: Metadata.default({}),
  })
  .strict()
  .refine((r) => r.stdin === undefined || r.stdin_base64 === undefined, {
    message: 'give stdin (text) or stdin_base64 (bytes), not both',
    path: ['stdin_base64'],
  })
  .superRefine((r, ctx) => {
    for (const problem of programProblems({ ...r, scratch_mb: r.scratch_mb ?? LIMIT_BOUNDS.scratch_mb.default })) {
      ctx.addIssue({ code: 'custom', path: problem.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), message: problem.message });
    }
  });
export type CreateEvaluationRequest = z.infer<typeof CreateEvaluationRequest>;
export type CreateEvaluationInput = z.input<typeof CreateEvaluationRequest>;

export const BatchCreateRequest = z
  .object({
    evaluations: z.array(CreateEvaluationRequest).min(1).max(REQUEST_BOUNDS.batch_size),
  })
  .strict();

export const Metrics = z.object({
  wall_ms: z.number().nullable().describe('Wall-clock time from sandbox start to end'),
  cpu_ms: z.number().nullable().describe('User + system CPU time of every process in the sandbox'),
  peak_memory_bytes: z.number().nullable().describe('Peak memory of the whole sandbox (cgroup high-water mark)'),
});
export type Metrics = z.infer<typeof Metrics>;

export const Evaluation = z.object({
  id: z.string(),
  status: EvaluationStatus,
  environment: Environment,
  sandbox: SandboxBackendName,
  code: z.string().describe('main.py as given in code ("" when the program came as files only)'),
  code_sha256: z.string(),
  files: z.array(ProgramFile).describe('The files given with the request (empty for a one-file program)'),
  entrypoint: z.string().nullable().describe('The script run with python (null when a command runs)'),
  command: z.array(z.string()).nullable().describe('The argv run instead of an entrypoint'),
  name: z.string().nullable().describe('The name given at submission, if any'),
  code_title: z.string().nullable().describe('The first meaningful line of the code (no blank lines, comments or imports), for telling unnamed runs apart'),
  stdin: z.string().nullable(),
  stdin_base64: z.string().nullable().describe('Binary stdin as given in stdin_base64 (then stdin is null)'),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  limits: LimitsSchema,
  created_at: z.string().describe('ISO 8601'),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable().describe('Name of the signal that ended the program, e.g. SIGKILL'),
  reason: Reason.nullable(),
  message: z.string().nullable().describe('Human explanation of how the evaluation ended'),
  stdout: z.string(),
  stderr: z.string(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  metrics: Metrics,
  worker: z.string().nullable(),
  waiting_reason: z
    .string()
    .nullable()
    .describe(
      'Set while the evaluation is queued and no live worker serves its environment: why it is not being picked up and what would change that. It stays queued and runs as soon as such a worker joins. Null otherwise.',
    ),
  attempts: z.number().int().describe('How many times a worker picked it up (re-runs happen only after platform failures)'),
  owner: z.string().describe('Who submitted it: an API key id, or "anonymous" (auth off)'),
  project: z.string().describe('The project it belongs to (the submitting key\'s; "default" with auth off)'),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** Summary row used by listings: everything but the (possibly large) code, stdin and outputs. */
export const EvaluationSummary = Evaluation.omit({
  code: true,
  files: true,
  entrypoint: true,
  command: true,
  stdin: true,
  stdin_base64: true,
  stdout: true,
  stderr: true,
});
export type EvaluationSummary = z.infer<typeof EvaluationSummary>;

/** A metadata key the `meta` filter can name (a plain word, so it is safe in a JSON path). */
const META_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export const ListEvaluationsQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return undefined;
        const parts = s.split(',').filter(Boolean);
        for (const p of parts) {
          if (!(EVALUATION_STATUSES as readonly string[]).includes(p)) {
            ctx.addIssue({ code: 'custom', message: `unknown status "${p}"; expected one of ${EVALUATION_STATUSES.join(', ')}` });
            return z.NEVER;
          }
        }
        return parts as EvaluationStatus[];
      })
      .describe('Comma-separated statuses'),
    tags: z
      .string()
      .max(4096)
      .refine(...noNul('tags'))
      .optional()
      .transform((s) => (s ? s.split(',').filter(Boolean) : undefined))
      .describe('Comma-separated tags; an evaluation must carry all of them'),
    q: z
      .string()
      .max(200)
      .refine(...noNul('q'))
      .optional()
      .describe('Text search (case-insensitive substring) in id, name, tags, code, stdout, stderr and the ending message'),
    meta: z
      .string()
      .max(4096)
      .optional()
      .transform((s, ctx) => {
        if (!s) return undefined;
        const pairs: Array<{ key: string; value: string }> = [];
        for (const part of s.split(',').filter(Boolean)) {
          const eq = part.indexOf('=');
          const key = eq > 0 ? part.slice(0, eq) : '';
          if (!META_KEY.test(key) || part.includes('\u0000')) {
            ctx.addIssue({ code: 'custom', message: `meta must be key=value pairs separated by commas, keys of letters, digits, _ and - (got "${part}")` });
            return z.NEVER;
          }
          pairs.push({ key, value: part.slice(eq + 1) });
        }
        return pairs;
      })
      .describe('Metadata filter: comma-separated key=value pairs (e.g. model=gpt-4o,task=7); each top-level metadata value, as text, must equal its value'),
    limit: queryNumber('limit', { min: 1, max: 200, integer: true }).default(50),
    cursor: z.string().max(200).optional().describe('next_cursor from the previous page'),
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'a project name' })
      .optional()
      .describe('Only this project (admins; everyone else only ever sees their own project)'),
  })
  .strict();
export type ListEvaluationsQuery = z.infer<typeof ListEvaluationsQuery>;

/** Matching evaluations are counted up to this many; beyond it the total says "at least". */
export const LIST_TOTAL_CAP = 10_000;

export const EvaluationList = z.object({
  items: z.array(EvaluationSummary),
  next_cursor: z.string().nullable(),
  total: z.number().int().describe(`How many evaluations match the filters (all pages), counted up to ${LIST_TOTAL_CAP}`),
  total_capped: z.boolean().describe(`true when more than ${LIST_TOTAL_CAP} match: total is then a lower bound`),
});
export type EvaluationList = z.infer<typeof EvaluationList>;
