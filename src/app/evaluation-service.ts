/**
 * The application's use cases for evaluations: submit, read, list, cancel, wait. The HTTP API and
 * the CLI are thin shells around this; storage, queue and bus are reached only through their ports.
 */
import { createHash } from 'node:crypto';
import { ANONYMOUS_ACTOR, type Actor } from '../domain/access.js';
import { liveWorkers, waitingReason } from '../domain/environment-routing.js';
import {
  isTerminal,
  type CreateEvaluationRequest,
  type Evaluation,
  type EvaluationList,
  type EvaluationSummary,
  type Environment,
  type ListEvaluationsQuery,
} from '../domain/evaluation.js';
import { badRequest, conflict, CrucibleError, notFound, unavailable } from '../domain/errors.js';
import { SUMMARY_SCAN_CAP, summarizeEvaluations, type EvaluationSetSummary, type EvaluationSetSummaryQuery } from '../domain/evaluation-set-summary.js';
import type { ArtifactList, CollectedArtifact } from '../domain/artifacts.js';
import type { Limits } from '../domain/limits.js';
import { MAIN_FILE } from '../domain/program-files.js';
import { codeTitle } from '../domain/program-title.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { MemoryReclaimer } from '../ports/memory.js';
import type { Metrics } from '../ports/metrics.js';
import type { JobQueue } from '../ports/queue.js';
import type { Tracing } from '../ports/tracing.js';
import type { EvaluationRead, NewEvaluation, Storage, WorkerInfo } from '../ports/storage.js';
import { authorize, forbidden, seesProject } from './access.js';
import { newEvaluationId } from './evaluation-ids.js';
import type { EnvironmentQueries } from './environments.js';
import type { EvaluationLifecycle } from './evaluation-lifecycle.js';
import type { EventLogReader } from './event-log-reader.js';
import { NO_TRACING } from './no-tracing.js';
import type { QuotaService } from './quotas.js';
import { ttlCache } from './ttl-cache.js';
import { resultWithoutRun } from './verdicts.js';

/** What a read answers, for the API that sends it. */
export type { EvaluationRead, OutputPieces } from '../ports/storage.js';

/** Page size of the summary's scan (the list's largest). */
const SUMMARY_PAGE = 200;

export interface EvaluationServiceDeps {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  lifecycle: EvaluationLifecycle;
  reader: EventLogReader;
  /** Environment checks and limits (known, within maxima, served by a worker). */
  environments: EnvironmentQueries;
  log: Logger;
  metrics?: Metrics;
  tracing?: Tracing;
  /** Per-project quotas checked on submission (none: unlimited). */
  quotas?: QuotaService;
  /** Told when a large output has been sent in pieces, so the memory its sending took goes back. */
  memory?: MemoryReclaimer;
}

export interface EvaluationServiceOptions {
  /** Submissions that would take the queue past this many waiting jobs get 503 + Retry-After. */
  maxQueueDepth: number;
  /** How long a cancel waits for the worker to kill the sandbox and record it before forcing it. */
  cancelGraceMs: number;
  /** A worker whose heartbeat is older than this is not counted as offering its sandboxes or serving its environments. */
  livenessWindowMs: number;
}

export class EvaluationService {
  private readonly workers: () => Promise<WorkerInfo[]>;
  private readonly tracing: Tracing;

  constructor(
    private readonly deps: EvaluationServiceDeps,
    readonly options: EvaluationServiceOptions,
  ) {
    this.workers = ttlCache(1000, () => deps.storage.workers.list());
    this.tracing = deps.tracing ?? NO_TRACING;
  }

  /**
   * Refuses a sandbox backend that no live worker serving the evaluation's environment offers
   * (e.g. gvisor where runsc is missing), instead of queueing work that could only fail. With no
   * live worker serving the environment, work is accepted: it waits, saying why (waiting_reason),
   * until one starts.
   */
  private async assertSandboxesOffered(requests: ReadonlyArray<{ environment: Environment; sandbox: CreateEvaluationRequest['sandbox'] }>): Promise<void> {
    const alive = await this.liveWorkers();
    if (alive.length === 0) return;
    for (const environment of new Set(requests.map((r) => r.environment))) {
      const serving = alive.filter((w) => w.environments.includes(environment));
      if (serving.length === 0) continue;
      const offered = [...new Set(serving.flatMap((w) => w.sandboxes))];
      const wanted = new Set(requests.filter((r) => r.environment === environment).map((r) => r.sandbox));
      const missing = [...wanted].filter((s) => !offered.includes(s));
      if (missing.length > 0) {
        throw badRequest(
          'sandbox_unavailable',
          `No running worker serving environment "${environment}" offers the ${missing.join(', ')} sandbox; available: ${offered.join(', ') || 'none'}.`,
          { available: offered, environment },
        );
      }
    }
  }

  private async liveWorkers(): Promise<WorkerInfo[]> {
    return liveWorkers(await this.workers(), this.options.livenessWindowMs);
  }

  /**
   * Fills `waiting_reason` of queued evaluations whose environment no live worker serves (storage
   * knows nothing of workers, so it always says null). The worker list is cached for a second.
   */
  private async withWaitingReasons<T extends EvaluationSummary>(evaluations: T[]): Promise<T[]> {
    if (!evaluations.some((e) => e.status === 'queued')) return evaluations;
    const alive = await this.liveWorkers();
    return evaluations.map((e) => (e.status === 'queued' ? { ...e, waiting_reason: waitingReason(e.environment, alive) } : e));
  }

  submit(requests: CreateEvaluationRequest[], actor: Actor = ANONYMOUS_ACTOR): Promise<Evaluation[]> {
    return this.tracing.inSpan('evaluation.submit', { attributes: { 'crucible.evaluation.count': requests.length } }, async (span) => {
      const created = await this.accept(requests, actor);
      if (created.length === 1) span.setAttributes({ 'crucible.evaluation.id': created[0]!.id });
      return created;
    });
  }

  private async accept(requests: CreateEvaluationRequest[], actor: Actor): Promise<Evaluation[]> {
    authorize(actor, 'evaluations:submit');
    const { storage, queue, lifecycle, log } = this.deps;
    // Known environment and limits within its maxima first (400s say what to change), then
    // whether any worker can run it.
    const runs = requests.map((r, i) => {
      try {
        return this.deps.environments.limitsFor(r.environment, requestedLimits(r));
      } catch (err) {
        // In a batch, say which item.
        if (err instanceof CrucibleError && requests.length > 1) throw new CrucibleError(err.code, `evaluations[${i}]: ${err.message}`, err.details);
        throw err;
      }
    });
    // An environment no live worker serves is accepted and waits, saying why (waiting_reason): a
    // worker for it may be starting or be scaled up on queue depth.
    await this.assertSandboxesOffered(requests.map((r, i) => ({ environment: runs[i]!.environment, sandbox: r.sandbox })));
    const now = new Date().toISOString();
    const rows = requests.map((r, i) => ({ ...toNewEvaluation(r, runs[i]!, now), owner: actor.id, project: actor.project }));
    const admitted = await this.deps.quotas?.admitSubmission(
      actor,
      rows.map((r) => r.limits),
    );
    const queuedBefore = admitted?.queuedBefore ?? 0;
    const depth = await queue.depth().catch((err: unknown) => {
      throw unavailable('queue_unavailable', `The queue is not reachable (${String(err)}); nothing was accepted. Try again shortly.`, 2);
    });
    if (depth + requests.length > this.options.maxQueueDepth) {
      throw unavailable(
        'queue_full',
        `The queue is full (${depth} waiting, maximum ${this.options.maxQueueDepth}); nothing was accepted. Retry later.`,
        Math.min(30, 1 + Math.ceil(depth / 100)),
      );
    }
    const created = await storage.evaluations.create(rows);
    try {
      await this.enqueue(
        created.map((c) => c.evaluation),
        queuedBefore,
      );
    } catch (err) {
      // Not in the queue, so not accepted: say so on the evaluations themselves and to the caller.
      for (const { evaluation } of created) {
        const never = resultWithoutRun(evaluation, { platformError: `the queue rejected it (${String(err)}); it was never run` });
        await lifecycle.finish(evaluation.id, never, { expectFrom: ['queued'] }).catch(() => null);
      }
      log.error({ err: String(err), evaluation_ids: created.map((c) => c.evaluation.id) }, 'enqueue failed');
      throw unavailable('queue_unavailable', 'The queue is not reachable; the evaluations were not accepted. Try again shortly.', 2);
    }
    for (const { evaluation, events } of created) {
      this.deps.metrics?.evaluationSubmitted({ environment: evaluation.environment, sandbox: evaluation.sandbox });
      await lifecycle.publish(evaluation, events);
      log.debug({ evaluation_id: evaluation.id, sandbox: evaluation.sandbox, environment: evaluation.environment }, 'evaluation queued');
    }
    return this.withWaitingReasons(created.map((c) => c.evaluation));
  }

  /** The jobs carry the current trace context, so each worker's spans join the submitter's trace. */
  /** Enqueues with the trace context and each job's fair-share rank (its place in the project's backlog). */
  private enqueue(evaluations: Evaluation[], queuedBefore: number): Promise<void> {
    const attributes = { 'crucible.evaluation.id': evaluations.length === 1 ? evaluations[0]!.id : undefined, 'crucible.evaluation.count': evaluations.length };
    return this.tracing.inSpan('queue.enqueue', { kind: 'producer', attributes }, async () => {
      const trace = this.tracing.carrier();
      await this.deps.queue.enqueue(
        evaluations.map((e, i) => ({
          evaluationId: e.id,
          environment: e.environment,
          sandbox: e.sandbox,
          trace,
          project: e.project,
          rank: queuedBefore + i + 1,
        })),
      );
    });
  }

  /** The evaluation; while it runs, with the output streamed so far (stored whole only at the end). */
  async get(id: string, actor: Actor = ANONYMOUS_ACTOR): Promise<Evaluation> {
    authorize(actor, 'evaluations:read');
    const evaluation = await this.deps.storage.evaluations.get(id);
    // Another project's evaluation does not exist for this caller.
    if (!evaluation || !seesProject(actor, evaluation.project)) throw notFound('evaluation', id);
    return this.withLiveState(evaluation);
  }

  /** What storage cannot say of an unfinished evaluation: why a queued one waits, a running one's output so far. */
  private async withLiveState(evaluation: Evaluation): Promise<Evaluation> {
    if (evaluation.status === 'queued') return (await this.withWaitingReasons([evaluation]))[0]!;
    if (evaluation.status !== 'running') return evaluation;
    return { ...evaluation, ...(await this.streamedSoFar(evaluation.id)) };
  }

  /** A running evaluation's output so far, from its live events (the stored text is written at the end). */
  private async streamedSoFar(id: string): Promise<{ stdout: string; stderr: string }> {
    const events = await this.deps.storage.events.after(id, 0, 100_000);
    const text = (type: 'stdout' | 'stderr') => events.map((e) => (e.type === type ? e.data.text : '')).join('');
    return { stdout: text('stdout'), stderr: text('stderr') };
  }

  /**
   * The evaluation for a response that may stream its output: whole when its output is small (one
   * query, the common case), else with the output as pieces read from storage as they are sent
   * (it may be max_output_bytes a stream), never held whole.
   */
  async read(id: string, actor: Actor = ANONYMOUS_ACTOR): Promise<EvaluationRead> {
    authorize(actor, 'evaluations:read');
    const read = await this.deps.storage.evaluations.read(id);
    if (!read || !seesProject(actor, read.evaluation.project)) throw notFound('evaluation', id);
    // Output is stored with the verdict, and a terminal state is final: only a finished
    // evaluation has pieces, and they belong to this record.
    if (read.pieces) {
      const sent = this.reclaimingAfter(2);
      return { ...read, pieces: { stdout: sent(read.pieces.stdout), stderr: sent(read.pieces.stderr) } };
    }
    return { evaluation: await this.withLiveState(read.evaluation), pieces: null };
  }

  /**
   * One output stream's bytes exactly as the program wrote them (within max_output_bytes), in
   * pieces: the stored bytes where the text could not say them (not UTF-8, NUL), else the text in
   * UTF-8.
   */
  async output(id: string, stream: 'stdout' | 'stderr', actor: Actor = ANONYMOUS_ACTOR): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>> {
    authorize(actor, 'evaluations:read');
    const stored = await this.deps.storage.evaluations.readOutput(id, stream);
    if (!stored || !seesProject(actor, stored.project)) throw notFound('evaluation', id);
    if (stored.raw) return this.reclaimingAfter(1)(stored.raw);
    // A running evaluation's text is stored at the end; until then it is in the live events.
    const pieces = stored.status === 'running' ? [(await this.streamedSoFar(id))[stream]] : stored.text;
    return this.reclaimingAfter(1)(utf8Pieces(pieces));
  }

  /**
   * Wraps the `count` piece streams of one response: once all of them have been read to the end,
   * the reclaimer hears how much was sent (a large output leaves garbage behind).
   */
  private reclaimingAfter(count: number) {
    let pending = count;
    let sent = 0;
    const memory = this.deps.memory;
    return <T extends string | Uint8Array>(pieces: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> => {
      return (async function* () {
        for await (const piece of pieces) {
          sent += typeof piece === 'string' ? piece.length : piece.byteLength;
          yield piece;
        }
        if (--pending === 0) memory?.afterLargeOutput(sent);
      })();
    };
  }

  /** The files the evaluation's program left in /sandbox/out, and what was dropped; same access rules as the evaluation. */
  async artifacts(id: string, actor: Actor = ANONYMOUS_ACTOR): Promise<ArtifactList> {
    await this.assertVisible(id, actor);
    const list = await this.deps.storage.evaluations.listArtifacts(id);
    if (!list) throw notFound('evaluation', id);
    return list;
  }

  /** One artifact with its bytes; 404 `artifact_not_found` when the evaluation has none at `path`. */
  async artifact(id: string, path: string, actor: Actor = ANONYMOUS_ACTOR): Promise<CollectedArtifact> {
    await this.assertVisible(id, actor);
    const artifact = await this.deps.storage.evaluations.readArtifact(id, path);
    if (artifact) return artifact;
    if (!(await this.deps.storage.evaluations.getSummary(id))) throw notFound('evaluation', id);
    throw new CrucibleError(
      'artifact_not_found',
      `Evaluation ${id} has no artifact "${path.slice(0, 200)}"; GET /api/evaluations/${id}/artifacts lists its artifacts.`,
    );
  }

  /** Newest first; a non-admin only ever lists their own project. */
  async list(query: ListEvaluationsQuery, actor: Actor = ANONYMOUS_ACTOR): Promise<EvaluationList> {
    authorize(actor, 'evaluations:read');
    const page = await this.deps.storage.evaluations.list(actor.role === 'admin' ? query : { ...query, project: actor.project });
    return { ...page, items: await this.withWaitingReasons(page.items) };
  }

  /**
   * Counts and run-time percentiles of the evaluations the filters select (a tag, a batch's
   * metadata…), read page by page up to SUMMARY_SCAN_CAP of the newest.
   */
  async summary(query: EvaluationSetSummaryQuery, actor: Actor = ANONYMOUS_ACTOR): Promise<EvaluationSetSummary> {
    authorize(actor, 'evaluations:read');
    const scoped = actor.role === 'admin' ? query : { ...query, project: actor.project };
    const rows: EvaluationSummary[] = [];
    let cursor: string | undefined;
    let more = true;
    while (more && rows.length < SUMMARY_SCAN_CAP) {
      const page = await this.deps.storage.evaluations.list({ ...scoped, limit: SUMMARY_PAGE, ...(cursor ? { cursor } : {}) });
      rows.push(...page.items);
      cursor = page.next_cursor ?? undefined;
      more = cursor !== undefined;
    }
    return summarizeEvaluations(rows.slice(0, SUMMARY_SCAN_CAP), more || rows.length > SUMMARY_SCAN_CAP);
  }

  /** 404 unless the evaluation exists and the actor may read it. */
  async assertVisible(id: string, actor: Actor): Promise<void> {
    authorize(actor, 'evaluations:read');
    if (actor.role === 'admin') return;
    const summary = await this.deps.storage.evaluations.getSummary(id);
    if (!summary || !seesProject(actor, summary.project)) throw notFound('evaluation', id);
  }

  /**
   * Cancels a queued evaluation at once, or asks the worker running it to kill its sandbox (so the
   * result still carries what the program printed and used); if the worker does not record the
   * cancellation within the grace period, it is forced here.
   */
  async cancel(id: string, actor: Actor = ANONYMOUS_ACTOR): Promise<Evaluation> {
    const { queue, bus } = this.deps;
    const current = await this.get(id, actor);
    authorize(actor, 'evaluations:cancel');
    // A researcher cancels only their own evaluations; admins any.
    if (actor.role !== 'admin' && current.owner !== actor.id)
      throw forbidden(`evaluation ${id} was submitted by someone else; only they or an admin may cancel it`);
    if (isTerminal(current.status)) throw conflict('already_terminal', `Evaluation ${id} already ended (${current.status}); nothing to cancel.`);

    if (current.status === 'queued') {
      await queue.remove(id);
      const moved = await this.forceCancel(current, ['queued'], 'Cancelled by a user while queued; it never ran.');
      if (moved) return moved;
    }
    const waiting = this.deps.reader.untilTerminal(
      id,
      this.options.cancelGraceMs,
      () => this.get(id),
      (e) => e.status,
    );
    await bus.publish(channels.cancel, id).catch(() => undefined);
    const after = await waiting;
    if (isTerminal(after.status)) return after;
    const forced = await this.forceCancel(after, ['provisioning', 'running'], 'Cancelled by a user; its worker did not confirm the kill in time.');
    if (forced) {
      // The worker may still hold it; ask again so the sandbox dies even though the record is closed.
      await bus.publish(channels.cancel, id).catch(() => undefined);
      return forced;
    }
    const final = await this.get(id);
    if (!isTerminal(final.status)) throw conflict('cancel_race', `Evaluation ${id} changed state during the cancel; try again.`);
    return final;
  }

  private async forceCancel(evaluation: Evaluation, from: Evaluation['status'][], message: string): Promise<Evaluation | null> {
    const moved = await this.deps.lifecycle.finish(evaluation.id, resultWithoutRun(evaluation, { cancelled: true, detail: message }), { expectFrom: from });
    return moved ? this.deps.storage.evaluations.get(evaluation.id) : null;
  }

  /**
   * Resolves with the evaluation, read as GET answers it (a large output in pieces), once
   * terminal, or as it is when `timeoutMs` runs out or `signal` aborts (the waiting client went
   * away: its subscription and timer are released at once). For `?wait`.
   */
  waitForTerminal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<EvaluationRead> {
    return this.deps.reader.untilTerminal(
      id,
      timeoutMs,
      () => this.read(id),
      (read) => read.evaluation.status,
      signal,
    );
  }
}

/** The limits a request names (the rest come from its environment's defaults). */
function requestedLimits(request: CreateEvaluationRequest): Partial<Limits> {
  const { timeout_s, memory_mb, cpus, max_processes, max_output_bytes, scratch_mb, max_artifacts, max_artifact_bytes } = request;
  const all = { timeout_s, memory_mb, cpus, max_processes, max_output_bytes, scratch_mb, max_artifacts, max_artifact_bytes };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

function toNewEvaluation(request: CreateEvaluationRequest, run: { environment: Environment; limits: Limits }, createdAt: string): NewEvaluation {
  const { environment, limits } = run;
  const code = request.code ?? '';
  return {
    id: newEvaluationId(),
    environment,
    sandbox: request.sandbox,
    code,
    code_sha256: createHash('sha256').update(code).digest('hex'),
    files: request.files ?? [],
    command: request.command ?? null,
    entrypoint: request.command ? null : (request.entrypoint ?? MAIN_FILE),
    name: request.name ?? null,
    // A files-only program is told apart by what it runs.
    code_title: codeTitle(code) ?? (request.command ? request.command.join(' ') : (request.entrypoint ?? (request.files?.length ? MAIN_FILE : null))),
    stdin: request.stdin ?? null,
    stdin_raw: request.stdin_base64 === undefined ? null : new Uint8Array(Buffer.from(request.stdin_base64, 'base64')),
    tags: [...new Set(request.tags)],
    metadata: request.metadata,
    limits,
    created_at: createdAt,
  };
}

async function* utf8Pieces(pieces: AsyncIterable<string> | Iterable<string>): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) if (piece !== '') yield Buffer.from(piece, 'utf8');
}
