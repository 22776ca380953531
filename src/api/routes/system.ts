/** Operational endpoints: queue, workers, stats, configuration, syntax check, health. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ENVIRONMENTS, EVALUATION_STATUSES, type EvaluationStatus } from '../../domain/evaluation.js';
import { ErrorBody } from '../../domain/errors.js';
import { EXIT_CODE_GUIDE } from '../../domain/exit-interpretation.js';
import { LIMIT_BOUNDS } from '../../domain/limits.js';
import {
  ConfigResponse,
  HealthResponse,
  NoQuery,
  QueueStats,
  StatsQuery,
  StatsResponse,
  SyntaxCheckRequest,
  SyntaxCheckResponse,
  WorkerList,
} from '../schemas.js';
import type { ApiContext } from '../context.js';
import { ttlCache } from '../../app/ttl-cache.js';

async function timed(check: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const countByStatus = ttlCache(1000, () => ctx.store.countByStatus());

  api.get('/api/queue', {
    schema: { tags: ['system'], summary: 'Queue depth and evaluations per status', querystring: NoQuery, response: { 200: QueueStats, 503: ErrorBody } },
  }, async () => {
    const [counts, depth, oldest] = await Promise.all([countByStatus(), ctx.queue.depth(), ctx.store.oldestQueuedAt()]);
    const full = Object.fromEntries(EVALUATION_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<EvaluationStatus, number>;
    return {
      counts: full,
      depth,
      max_depth: ctx.service.options.maxQueueDepth,
      oldest_queued_at: oldest,
      oldest_queued_age_ms: oldest ? Math.max(0, Date.now() - Date.parse(oldest)) : null,
    };
  });

  api.get('/api/workers', {
    schema: { tags: ['system'], summary: 'Workers with their capacity, load and last heartbeat', querystring: NoQuery, response: { 200: WorkerList, 503: ErrorBody } },
  }, async () => {
    const now = Date.now();
    const [workers, held] = await Promise.all([ctx.store.listWorkers(), ctx.store.findByStatus(['provisioning', 'running'], { limit: 10_000 })]);
    // Counted from the evaluations themselves: heartbeats carry a count that is up to one beat old.
    const running = new Map<string, number>();
    for (const e of held) if (e.worker) running.set(e.worker, (running.get(e.worker) ?? 0) + 1);
    return {
      workers: workers.map((w) => ({ ...w, running: running.get(w.id) ?? 0, alive: now - Date.parse(w.last_seen) <= ctx.livenessWindowMs })),
      liveness_window_ms: ctx.livenessWindowMs,
    };
  });

  api.get('/api/stats', {
    schema: { tags: ['system'], summary: 'Finished evaluations per time bucket (throughput, failure rate)', querystring: StatsQuery, response: { 200: StatsResponse, 400: ErrorBody } },
  }, async (request) => {
    const since = new Date(Date.now() - request.query.minutes * 60_000).toISOString();
    return { buckets: await ctx.store.outcomeBuckets(since, request.query.bucket_s), bucket_s: request.query.bucket_s };
  });

  api.get('/api/config', {
    schema: { tags: ['system'], summary: 'Limits with defaults and maxima, environments, sandbox backends', querystring: NoQuery, response: { 200: ConfigResponse, 400: ErrorBody } },
  }, async () => {
    const sandboxes = await Promise.all(
      Object.entries(ctx.sandboxes).map(async ([name, backend]) => {
        const health = await backend.health();
        return { name, available: health.ok, detail: health.detail };
      }),
    );
    return { limits: LIMIT_BOUNDS, environments: [...ENVIRONMENTS], sandboxes, exit_code_guide: [...EXIT_CODE_GUIDE] };
  });

  api.post('/api/syntax-check', {
    schema: { tags: ['evaluations'], summary: 'Compile (never run) a program and report syntax errors with their line', body: SyntaxCheckRequest, querystring: NoQuery, response: { 200: SyntaxCheckResponse, 400: ErrorBody, 503: ErrorBody } },
  }, async (request) => ctx.syntaxChecker.check(request.body.code));

  api.get('/healthz', {
    schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: HealthResponse } },
  }, async () => ({ status: 'ok' as const, checks: {} }));

  api.get('/readyz', {
    schema: { tags: ['system'], summary: 'Readiness: storage, queue, bus and sandbox reachable', response: { 200: HealthResponse, 503: HealthResponse } },
  }, async (_request, reply) => {
    const [storage, queue, bus] = await Promise.all([timed(() => ctx.store.ping()), timed(() => ctx.queue.ping()), timed(() => ctx.bus.ping())]);
    const checks: Record<string, { ok: boolean; detail?: string }> = { storage, queue, bus };
    for (const [name, backend] of Object.entries(ctx.sandboxes)) {
      const health = await backend.health();
      checks[`sandbox:${name}`] = { ok: health.ok, ...(health.ok ? {} : { detail: health.detail }) };
    }
    const coreOk = storage.ok && queue.ok && bus.ok;
    const allOk = Object.values(checks).every((c) => c.ok);
    const status = coreOk ? (allOk ? 'ok' : 'degraded') : 'unavailable';
    return reply.code(coreOk ? 200 : 503).send({ status, checks });
  });
}
