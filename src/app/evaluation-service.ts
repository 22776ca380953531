/**
 * The application's use cases for evaluations: submit, read, list, cancel, wait. The HTTP API and
 * the CLI are thin shells around this; storage, queue and bus are reached only through their ports.
 */
import { createHash } from 'node:crypto';
import { ANONYMOUS_ACTOR, type Actor } from '../domain/access.js';
import { isTerminal, type CreateEvaluationRequest, type Evaluation, type EvaluationList, type ListEvaluationsQuery } from '../domain/evaluation.js';
import { badRequest, conflict, notFound, unavailable } from '../domain/errors.js';
import { DEFAULT_LIMITS, type Limits } from '../domain/limits.js';
import { codeTitle } from '../domain/program-title.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { JobQueue } from '../ports/queue.js';
import type { NewEvaluation, Storage, WorkerInfo } from '../ports/storage.js';
import { authorize, forbidden, seesProject } from './access.js';
import { newEvaluationId } from './evaluation-ids.js';
import type { EvaluationLifecycle } from './evaluation-lifecycle.js';
import type { EventLogReader } from './event-log-reader.js';
import { ttlCache } from './ttl-cache.js';
import { resultWithoutRun } from './verdicts.js';

export interface EvaluationServiceDeps {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  lifecycle: EvaluationLifecycle;
  reader: EventLogReader;
  log: Logger;
  metrics?: Metrics;
}

export interface EvaluationServiceOptions {
  /** Submissions that would take the queue past this many waiting jobs get 503 + Retry-After. */
  maxQueueDepth: number;
  /** How long a cancel waits for the worker to kill the sandbox and record it before forcing it. */
  cancelGraceMs: number;
  /** A worker whose heartbeat is older than this is not counted as offering its sandboxes. */
  livenessWindowMs: number;
}

export class EvaluationService {
  private readonly workers: () => Promise<WorkerInfo[]>;

  constructor(
    private readonly deps: EvaluationServiceDeps,
    readonly options: EvaluationServiceOptions,
  ) {
    this.workers = ttlCache(1000, () => deps.storage.workers.list());
  }

  /**
   * Refuses a sandbox backend that no live worker offers (e.g. gvisor where runsc is missing),
   * instead of queueing work that could only fail. With no live worker at all, work is accepted:
   * workers may be starting.
   */
  private async assertSandboxesOffered(requests: CreateEvaluationRequest[]): Promise<void> {
    const now = Date.now();
    const alive = (await this.workers()).filter((w) => now - Date.parse(w.last_seen) <= this.options.livenessWindowMs);
    if (alive.length === 0) return;
    const offered = new Set(alive.flatMap((w) => w.sandboxes));
    const missing = [...new Set(requests.map((r) => r.sandbox))].filter((s) => !offered.has(s));
    if (missing.length > 0) {
      throw badRequest('sandbox_unavailable', `No running worker offers the ${missing.join(', ')} sandbox; available: ${[...offered].join(', ') || 'none'}.`, {
        available: [...offered],
      });
    }
  }

  async submit(requests: CreateEvaluationRequest[], actor: Actor = ANONYMOUS_ACTOR): Promise<Evaluation[]> {
    authorize(actor, 'evaluations:submit');
    const { storage, queue, lifecycle, log } = this.deps;
    await this.assertSandboxesOffered(requests);
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
    const now = new Date().toISOString();
    const rows = requests.map((r) => ({ ...toNewEvaluation(r, now), owner: actor.id, project: actor.project }));
    const created = await storage.evaluations.create(rows);
    try {
      await queue.enqueue(created.map(({ evaluation: e }) => ({ evaluationId: e.id, environment: e.environment, sandbox: e.sandbox })));
    } catch (err) {
      // Not in the queue, so not accepted: say so on the evaluations themselves and to the caller.
      for (const { evaluation } of created) {
        const never = resultWithoutRun(evaluation, { platformError: `the queue rejected it (${String(err)}); it was never run` });
        await lifecycle.finish(evaluation.id, never, { expectFrom: ['queued'] }).catch(() => null);
      }
      log.error({ err: String(err) }, 'enqueue failed');
      throw unavailable('queue_unavailable', 'The queue is not reachable; the evaluations were not accepted. Try again shortly.', 2);
    }
    for (const { evaluation, events } of created) {
      this.deps.metrics?.evaluationSubmitted({ environment: evaluation.environment, sandbox: evaluation.sandbox });
      await lifecycle.publish(evaluation, events);
    }
    return created.map((c) => c.evaluation);
  }

  /** The evaluation; while it runs, with the output streamed so far (stored whole only at the end). */
  async get(id: string, actor: Actor = ANONYMOUS_ACTOR): Promise<Evaluation> {
    authorize(actor, 'evaluations:read');
    const evaluation = await this.deps.storage.evaluations.get(id);
    // Another project's evaluation does not exist for this caller.
    if (!evaluation || !seesProject(actor, evaluation.project)) throw notFound('evaluation', id);
    if (evaluation.status !== 'running') return evaluation;
    return { ...evaluation, ...(await this.streamedSoFar(id)) };
  }

  /** A running evaluation's output so far, from its live events (the stored text is written at the end). */
  private async streamedSoFar(id: string): Promise<{ stdout: string; stderr: string }> {
    const events = await this.deps.storage.events.after(id, 0, 100_000);
    const text = (type: 'stdout' | 'stderr') => events.map((e) => (e.type === type ? e.data.text : '')).join('');
    return { stdout: text('stdout'), stderr: text('stderr') };
  }

  /**
   * One output stream's bytes exactly as the program wrote them (within max_output_bytes): the
   * stored bytes where the text could not say them (not UTF-8, NUL), else the text in UTF-8.
   */
  async output(id: string, stream: 'stdout' | 'stderr', actor: Actor = ANONYMOUS_ACTOR): Promise<Uint8Array> {
    await this.assertVisible(id, actor);
    const stored = await this.deps.storage.evaluations.readOutput(id, stream);
    if (!stored) throw notFound('evaluation', id);
    if (stored.raw) return stored.raw;
    // Empty text is either really empty or a running evaluation's (its text is stored at the end).
    const running = stored.text === '' && (await this.deps.storage.evaluations.getSummary(id))?.status === 'running';
    const text = running ? (await this.streamedSoFar(id))[stream] : stored.text;
    return new Uint8Array(Buffer.from(text, 'utf8'));
  }

  /** Newest first; a non-admin only ever lists their own project. */
  list(query: ListEvaluationsQuery, actor: Actor = ANONYMOUS_ACTOR): Promise<EvaluationList> {
    authorize(actor, 'evaluations:read');
    return this.deps.storage.evaluations.list(actor.role === 'admin' ? query : { ...query, project: actor.project });
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
    const waiting = this.waitForTerminal(id, this.options.cancelGraceMs);
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
    return moved?.evaluation ?? null;
  }

  /**
   * Resolves with the evaluation once terminal, or as it is when `timeoutMs` runs out or `signal`
   * aborts (the waiting client went away: its subscription and timer are released at once).
   */
  waitForTerminal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Evaluation> {
    return this.deps.reader.untilTerminal(id, timeoutMs, () => this.get(id), signal);
  }
}

function toNewEvaluation(request: CreateEvaluationRequest, createdAt: string): NewEvaluation {
  const limits: Limits = {
    timeout_s: request.timeout_s ?? DEFAULT_LIMITS.timeout_s,
    memory_mb: request.memory_mb ?? DEFAULT_LIMITS.memory_mb,
    cpus: request.cpus ?? DEFAULT_LIMITS.cpus,
    max_processes: request.max_processes ?? DEFAULT_LIMITS.max_processes,
    max_output_bytes: request.max_output_bytes ?? DEFAULT_LIMITS.max_output_bytes,
    scratch_mb: request.scratch_mb ?? DEFAULT_LIMITS.scratch_mb,
  };
  return {
    id: newEvaluationId(),
    environment: request.environment,
    sandbox: request.sandbox,
    code: request.code,
    code_sha256: createHash('sha256').update(request.code).digest('hex'),
    name: request.name ?? null,
    code_title: codeTitle(request.code),
    stdin: request.stdin ?? null,
    stdin_raw: request.stdin_base64 === undefined ? null : new Uint8Array(Buffer.from(request.stdin_base64, 'base64')),
    tags: [...new Set(request.tags)],
    metadata: request.metadata,
    limits,
    created_at: createdAt,
  };
}
