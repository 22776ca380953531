/**
 * Storage ports, one per concern: the evaluations themselves, their event log, the registry of
 * live workers, and the aggregate numbers dashboards read. Implemented once with kysely for SQLite
 * (embedded default) and PostgreSQL (scale-out); every implementation passes the same contract
 * suite (test/storage/contract.ts). Use cases depend on these interfaces only.
 */
import type { NewSessionEvent, Session, SessionEvent, SessionStatus } from '../domain/session.js';
import type {
  Environment,
  Evaluation,
  EvaluationList,
  EvaluationStatus,
  EvaluationSummary,
  ListEvaluationsQuery,
  Metrics,
  Reason,
  SandboxBackendName,
} from '../domain/evaluation.js';
import type { EvaluationEvent, FeedPosition, NewEvaluationEvent, StatusChange } from '../domain/events.js';
import type { Limits } from '../domain/limits.js';
import type { ArtifactInfo, ArtifactList, CollectedArtifacts } from '../domain/artifacts.js';
import type { ProgramFile } from '../domain/program-files.js';
import type { Role } from '../domain/access.js';
import type { AuditEntry, NewAuditEntry } from '../domain/audit.js';
import type { DurationSample } from '../domain/percentiles.js';
import type { ProjectQuota } from '../domain/quota.js';
import type { StoredWebSession } from '../domain/web-session.js';

export interface NewEvaluation {
  id: string;
  environment: Environment;
  sandbox: SandboxBackendName;
  code: string;
  code_sha256: string;
  /** Files of a multi-file program, as given (default none). */
  files?: ProgramFile[];
  /** The script run with python; null when `command` runs. Default main.py. */
  entrypoint?: string | null;
  command?: string[] | null;
  /** The submitter's name for it, and the code's first meaningful line (see codeTitle). */
  name?: string | null;
  code_title?: string | null;
  stdin: string | null;
  /** Binary stdin (then `stdin` is null). */
  stdin_raw?: Uint8Array | null;
  tags: string[];
  metadata: Record<string, unknown>;
  limits: Limits;
  created_at: string;
  /** Submitter (API key id) and project; default "anonymous" and "default". */
  owner?: string;
  project?: string;
}

/** Fields a transition may set alongside the new status. */
export interface TransitionPatch {
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  signal?: string | null;
  reason?: Reason | null;
  message?: string | null;
  stdout?: string;
  stderr?: string;
  /** The output bytes when the text cannot say them exactly (see RunResult); null clears them. */
  stdout_raw?: Uint8Array | null;
  stderr_raw?: Uint8Array | null;
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
  metrics?: Metrics;
  worker?: string | null;
  /** Add one to `attempts` (set when a worker picks the evaluation up). */
  increment_attempts?: boolean;
  /** The files the run collected from /sandbox/out (replacing any of an earlier attempt). */
  artifacts?: CollectedArtifacts;
}

export interface TransitionOptions {
  /**
   * Only move if the current status is one of these (in addition to the state machine allowing
   * it). E.g. a worker finishing a run passes ['running'].
   */
  expectFrom?: EvaluationStatus[];
  /** Only move if the evaluation is held by this worker (guards against a worker that was presumed dead). */
  expectWorker?: string;
  /** Events appended in the same transaction just before the status event (e.g. the last output). */
  precedingEvents?: NewEvaluationEvent[];
  /** Further events appended in the same transaction, after the status event (e.g. `done`). */
  extraEvents?: NewEvaluationEvent[];
  /**
   * Two moves in one transaction: into `through`, then into the target (e.g. provisioning →
   * running → completed for a program that ended before its start was stored). The status event
   * of `through` is the caller's, among precedingEvents; the move is legal from wherever
   * `through` or the target may be reached.
   */
  through?: EvaluationStatus;
}

/**
 * A moved evaluation without its code, stdin and output: a transition never reads those back (a
 * finish would otherwise re-read megabytes of output it has just written). `get` has them.
 */
export interface TransitionResult {
  evaluation: EvaluationSummary;
  /** The preceding events, the status event and the extra events, with their sequence numbers, in order. */
  events: EvaluationEvent[];
}

/** A new evaluation as stored (everything it was created with) and its first event. */
export interface CreatedEvaluation {
  evaluation: Evaluation;
  events: EvaluationEvent[];
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  capacity: number;
  running: number;
  environments: Environment[];
  sandboxes: SandboxBackendName[];
  started_at: string;
  last_seen: string;
}

export interface OutcomeBucket {
  /** ISO time of the bucket's start. */
  start: string;
  completed: number;
  failed: number;
  timeout: number;
  cancelled: number;
}

/** A list query: the page size, and any of the filters and the cursor. */
export type EvaluationListQuery = Pick<ListEvaluationsQuery, 'limit'> & Partial<Omit<ListEvaluationsQuery, 'limit'>>;

/**
 * One output stream as stored, with what says who may read it and whether its text is final. A
 * stream that fits a piece comes with the read (the common case: one query); a larger one is
 * read in pieces as it is iterated, so an output of max_output_bytes (up to 16 MiB a stream) is
 * never held whole by the reader.
 */
export interface StoredOutput {
  status: EvaluationStatus;
  project: string;
  /** The exact bytes, where the text cannot say them (not UTF-8, NUL); null when the text does. */
  raw: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null;
  /** The stored text ('' while the evaluation runs: its text is written at the end). */
  text: AsyncIterable<string> | Iterable<string>;
}

/**
 * An evaluation as read for an answer. `pieces` null: `stdout` and `stderr` are whole. Otherwise
 * they are '' and `pieces` says them (an output of up to max_output_bytes a stream is never held
 * whole); a finished evaluation's output is final, so the pieces belong to this record.
 */
export interface EvaluationRead {
  evaluation: Evaluation;
  pieces: OutputPieces | null;
}

/** Each output stream as pieces of text, in order. */
export interface OutputPieces {
  stdout: AsyncIterable<string> | Iterable<string>;
  stderr: AsyncIterable<string> | Iterable<string>;
}

export interface QueuedInEnvironment {
  environment: Environment;
  waiting: number;
  /** ISO time of the oldest waiting evaluation's submission. */
  oldest_queued_at: string;
}

/** Evaluations and their state changes. */
export interface EvaluationRepository {
  /** Inserts evaluations in status `queued`, each with its first event (seq 1, status queued), atomically. */
  create(evaluations: NewEvaluation[]): Promise<CreatedEvaluation[]>;
  get(id: string): Promise<Evaluation | null>;
  /**
   * The evaluation for an answer that may stream its output: in one query with each stream that
   * fits a piece (the common case), the larger ones left to be read in pieces as they are sent.
   */
  read(id: string): Promise<EvaluationRead | null>;
  /** The evaluation without its code, stdin and output (cheap, whatever their size). */
  getSummary(id: string): Promise<EvaluationSummary | null>;
  /**
   * Newest first; the cursor stays correct while new evaluations arrive. Malformed cursor:
   * CrucibleError `invalid_cursor` (400). `q` (unindexed substring search) only looks at the
   * newest 20,000 evaluations, so its cost stays bounded as history grows.
   */
  list(query: EvaluationListQuery): Promise<EvaluationList>;
  /**
   * Compare-and-set move to `to`: applied only if the state machine allows it from the current
   * status (and the options' guards hold). Appends the status event (and the options' events) in
   * the same transaction. Returns null, changing nothing, when rejected.
   */
  transition(id: string, to: EvaluationStatus, patch?: TransitionPatch, options?: TransitionOptions): Promise<TransitionResult | null>;
  /** One output stream as stored (see StoredOutput). Null: no such evaluation. */
  readOutput(id: string, stream: 'stdout' | 'stderr'): Promise<StoredOutput | null>;
  /** The artifacts' list (without content) and what was dropped. Null: no such evaluation. */
  listArtifacts(id: string): Promise<ArtifactList | null>;
  /** One artifact with its bytes. Null: no such evaluation or artifact. */
  readArtifact(id: string, path: string): Promise<(ArtifactInfo & { content: Uint8Array }) | null>;
  /** Evaluations in the given statuses, oldest first, optionally only those held by some workers. */
  findByStatus(statuses: EvaluationStatus[], options?: { workers?: string[]; limit?: number }): Promise<EvaluationSummary[]>;
  /** How many evaluations are in the given statuses, counting no further than `cap` (a bounded index read at any table size). */
  countInStatus(statuses: EvaluationStatus[], cap: number): Promise<number>;
}

/** The per-evaluation log of events, numbered 1, 2, 3… without gaps. */
export interface EventLog {
  /** Appends events with the next sequence numbers. Rejected (returns []) once the evaluation is terminal. */
  append(evaluationId: string, events: NewEvaluationEvent[]): Promise<EvaluationEvent[]>;
  /** Events with seq > afterSeq, in order, at most `limit`. */
  after(evaluationId: string, afterSeq: number, limit?: number): Promise<EvaluationEvent[]>;
  /** Status changes of every evaluation after `position` in feed order (time, evaluation id, seq), at most `limit`. */
  statusChangesAfter(position: FeedPosition, limit: number): Promise<StatusChange[]>;
}

/** Workers announce themselves here with heartbeats; the reaper reads it to find dead ones. */
export interface WorkerRegistry {
  upsert(worker: WorkerInfo): Promise<void>;
  list(): Promise<WorkerInfo[]>;
  remove(id: string): Promise<void>;
}

/** Aggregates for the queue view and the dashboard; `project` narrows them to one project. */
export interface EvaluationStats {
  countByStatus(project?: string): Promise<Record<EvaluationStatus, number>>;
  oldestQueuedAt(project?: string): Promise<string | null>;
  /** Evaluations in status `queued` per environment that has any, with the oldest one's submission time. */
  queuedByEnvironment(): Promise<QueuedInEnvironment[]>;
  /**
   * Queue wait (created → started) and run time (started → finished) of evaluations that started
   * and finished since `sinceIso`, newest first, at most `limit` (percentiles for the dashboard).
   */
  durationSamples(sinceIso: string, limit: number, project?: string): Promise<DurationSample[]>;
  /** Terminal evaluations per time bucket since `sinceIso` (dashboard throughput / failure rate). */
  outcomeBuckets(sinceIso: string, bucketSeconds: number, project?: string): Promise<OutcomeBucket[]>;
  /**
   * One project's evaluations queued and in flight (provisioning or running), and the CPU ms of
   * those finished since `cpuSinceIso` (0 when not given: that sum is only read when needed).
   */
  projectUsage(project: string, cpuSinceIso?: string): Promise<ProjectUsage>;
  /**
   * Every project with evaluations queued or in flight (provisioning or running), with those
   * counts: the dashboard's load history samples this every few seconds. Its cost follows the
   * number of unfinished evaluations (bounded by the queue's maximum and the workers' slots),
   * never the table's size.
   */
  activeByProject(): Promise<ProjectLoad[]>;
}

export interface ProjectLoad {
  project: string;
  queued: number;
  /** Provisioning or running. */
  running: number;
}

export interface ProjectUsage {
  queued: number;
  running: number;
  cpu_ms: number;
}

/** Per-project quotas as set by admins (a project never set has no row). */
export interface QuotaStore {
  get(project: string): Promise<ProjectQuota | null>;
  /** Inserts or replaces the project's quota. */
  put(quota: ProjectQuota): Promise<void>;
  /** Every project with a quota, by name. */
  list(): Promise<ProjectQuota[]>;
}

/** An API key as stored: the secret only as its SHA-256 (hex). */
export interface StoredApiKey {
  id: string;
  name: string;
  role: Role;
  project: string;
  secret_sha256: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** API keys (access control). */
export interface ApiKeyStore {
  /** Inserts a key; a duplicate id is CrucibleError `duplicate_id`. */
  create(key: StoredApiKey): Promise<void>;
  get(id: string): Promise<StoredApiKey | null>;
  /** Oldest first. */
  list(): Promise<StoredApiKey[]>;
  /** Sets revoked_at (once; a second revoke keeps the first time). Null: no such key. */
  revoke(id: string, at: string): Promise<StoredApiKey | null>;
  /** Records a use (last_used_at). */
  touch(id: string, at: string): Promise<void>;
}

/** Web sessions (cookie sign-in), keyed by the SHA-256 of the cookie's secret. */
export interface WebSessionStore {
  create(session: StoredWebSession): Promise<void>;
  get(idSha256: string): Promise<StoredWebSession | null>;
  /** Sets revoked_at unless already set; false when there is no such session. */
  revoke(idSha256: string, at: string): Promise<boolean>;
  /** Deletes sessions that expired (or were revoked) before `before`; answers how many. */
  deleteEnded(before: string): Promise<number>;
}

export interface AuditListQuery {
  afterSeq?: number;
  limit: number;
  action?: string;
  actor?: string;
  project?: string;
  outcome?: string;
}

/** The append-only, hash-chained audit log. */
export interface AuditLog {
  /**
   * Appends an entry with the next seq after the newest one, atomically across processes; `seal`
   * computes its hash from its content (with seq, time and the previous entry's hash).
   */
  append(entry: NewAuditEntry, at: string, seal: (entry: Omit<AuditEntry, 'hash'>) => string): Promise<AuditEntry>;
  /** In seq order, after `afterSeq`, filtered. */
  list(query: AuditListQuery): Promise<AuditEntry[]>;
}

export type SessionPatch = Partial<Pick<Session, 'status' | 'ended_reason' | 'message' | 'worker' | 'ready_at' | 'ended_at' | 'last_activity_at'>>;

/** Sessions and their ordered event log. */
export interface SessionStore {
  create(session: Session): Promise<void>;
  get(id: string): Promise<Session | null>;
  /** Newest first; `project` null = every project. */
  list(query: { status?: SessionStatus; project: string | null; limit: number }): Promise<Session[]>;
  /** Sessions not ended (optionally only those held by `worker`). */
  open(worker?: string): Promise<Session[]>;
  /** How many of the project's sessions have not ended. */
  countOpen(project: string): Promise<number>;
  /** Applies the patch unless the session already ended; false when it had (or does not exist). */
  update(id: string, patch: SessionPatch): Promise<boolean>;
  /** Appends an event with the next seq; with `activity`, last_activity_at becomes the event's time (same transaction). */
  append(id: string, event: NewSessionEvent, opts?: { activity?: boolean }): Promise<SessionEvent>;
  /** Events with seq > afterSeq, in order. */
  eventsAfter(id: string, afterSeq: number, limit: number): Promise<SessionEvent[]>;
}

/** One database behind the four ports, with its life cycle. */
export interface Storage {
  readonly evaluations: EvaluationRepository;
  readonly events: EventLog;
  readonly workers: WorkerRegistry;
  readonly stats: EvaluationStats;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly quotas: QuotaStore;
  readonly sessions: SessionStore;
  readonly webSessions: WebSessionStore;
  /** Creates or migrates the schema. Idempotent; safe to call from several processes at once. */
  init(): Promise<void>;
  /** Cheap round trip used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
