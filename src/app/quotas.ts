/**
 * Per-project quotas: admins set them; submissions (and sessions, through `assertMayOpenSession`)
 * are checked against them; workers ask `mayStart` before taking a project's evaluation, so a
 * project at its running limit waits in the queue while other projects' work runs.
 *
 * Limits are checked before anything is stored. Two submissions racing past the last free place
 * may both be accepted (the check reads counts, it does not reserve): quotas bound a project's
 * share, they are not an exact semaphore.
 */
import { ProjectName, type Actor } from '../domain/access.js';
import { CrucibleError, notFound } from '../domain/errors.js';
import type { Limits } from '../domain/limits.js';
import {
  limitOverCap,
  QuotaUpdate,
  secondsToUtcMidnight,
  startOfUtcDay,
  UNLIMITED,
  type ProjectQuota,
  type ProjectQuotaView,
  type QuotaSettings,
} from '../domain/quota.js';
import type { EvaluationStats, QuotaStore } from '../ports/storage.js';
import { authorize, seesProject } from './access.js';

/** Counts a project's open sessions (none: sessions are not counted and max_sessions is not enforced). */
export interface SessionCounter {
  openSessions(project: string): Promise<number>;
}

export interface QuotaServiceDeps {
  store: QuotaStore;
  stats: EvaluationStats;
  sessions?: SessionCounter;
  now?: () => number;
}

/** A stored quota is re-read at most this often per process (a change reaches every process within it). */
const QUOTA_CACHE_MS = 2_000;
/** Retry-After when a project's queue is full: its queue drains as its evaluations run. */
const QUEUE_RETRY_S = 5;

export const quotaExceeded = (quota: keyof QuotaSettings | string, message: string, retryAfterS?: number) =>
  new CrucibleError('quota_exceeded', `quota ${quota} exceeded: ${message}`, { quota }, retryAfterS);

export class QuotaService {
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; quota: Promise<ProjectQuota> }>();
  private readonly sessions: SessionCounter | undefined;

  constructor(private readonly deps: QuotaServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.sessions = deps.sessions;
  }

  /** A project's quota (all unlimited if never set). */
  private quotaOf(project: string): Promise<ProjectQuota> {
    const cached = this.cache.get(project);
    if (cached && this.now() - cached.at < QUOTA_CACHE_MS) return cached.quota;
    const quota = this.deps.store.get(project).then((q) => q ?? { project, ...UNLIMITED, updated_at: null, updated_by: null });
    quota.catch(() => this.cache.delete(project));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(project, { at: this.now(), quota });
    return quota;
  }

  /** The quota and current usage; admins see any project, others only their own (another is 404). */
  async show(actor: Actor, project: string): Promise<ProjectQuotaView> {
    authorize(actor, 'evaluations:read');
    if (!seesProject(actor, project)) throw notFound('project', project);
    const quota = await this.deps.store.get(project);
    const usage = await this.deps.stats.projectUsage(project, this.today());
    return {
      quota: quota ?? { project, ...UNLIMITED, updated_at: null, updated_by: null },
      usage: {
        running: usage.running,
        queued: usage.queued,
        sessions: this.sessions ? await this.sessions.openSessions(project) : null,
        cpu_seconds_today: Math.round(usage.cpu_ms) / 1000,
      },
    };
  }

  /** Admins only: the fields given replace the stored ones. */
  async set(actor: Actor, project: string, update: QuotaUpdate): Promise<ProjectQuota> {
    authorize(actor, 'quotas:manage');
    ProjectName.parse(project);
    const changes = QuotaUpdate.parse(update);
    const current = (await this.deps.store.get(project)) ?? { project, ...UNLIMITED };
    const next: ProjectQuota = { ...current, ...changes, project, updated_at: new Date(this.now()).toISOString(), updated_by: actor.id };
    await this.deps.store.put(next);
    this.cache.delete(project);
    return next;
  }

  private today(): string {
    return new Date(startOfUtcDay(this.now())).toISOString();
  }

  /**
   * 429 `quota_exceeded` unless the actor's project may queue these evaluations now. Answers how
   * many of the project's evaluations were already waiting (their fair-share rank starts after).
   */
  async admitSubmission(actor: Actor, limits: Limits[]): Promise<{ queuedBefore: number }> {
    const quota = await this.quotaOf(actor.project);
    const caps = actor.role === 'viewer' ? undefined : quota.role_limits[actor.role];
    for (const l of limits) {
      const over = limitOverCap(l, caps);
      if (over)
        throw quotaExceeded(
          `role_limits.${actor.role}.${over.name}`,
          `a ${actor.role} of project ${actor.project} may ask for at most ${over.name}=${over.cap} (asked ${over.asked})`,
        );
    }
    const now = this.now();
    const usage = await this.deps.stats.projectUsage(actor.project, quota.cpu_seconds_per_day === null ? undefined : this.today());
    if (quota.cpu_seconds_per_day !== null && usage.cpu_ms >= quota.cpu_seconds_per_day * 1000) {
      throw quotaExceeded(
        'cpu_seconds_per_day',
        `project ${actor.project} used ${Math.round(usage.cpu_ms / 1000)} of its ${quota.cpu_seconds_per_day} CPU seconds today (UTC); it starts over at midnight UTC`,
        secondsToUtcMidnight(now),
      );
    }
    if (quota.max_queued !== null && usage.queued + limits.length > quota.max_queued) {
      throw quotaExceeded(
        'max_queued',
        `project ${actor.project} has ${usage.queued} evaluations queued, at most ${quota.max_queued}; ${limits.length} more would exceed it. Nothing was accepted.`,
        QUEUE_RETRY_S,
      );
    }
    return { queuedBefore: usage.queued };
  }

  /** 429 `quota_exceeded` unless the actor's project may open one more session now. */
  async assertMayOpenSession(actor: Actor): Promise<void> {
    const quota = await this.quotaOf(actor.project);
    if (quota.max_sessions === null || !this.sessions) return;
    const open = await this.sessions.openSessions(actor.project);
    if (open >= quota.max_sessions) {
      throw quotaExceeded('max_sessions', `project ${actor.project} has ${open} sessions open, at most ${quota.max_sessions}; end one first`, QUEUE_RETRY_S);
    }
  }

  /**
   * How long a worker should hold back this project's next evaluation: 0 = start it now; else the
   * project is at its running quota. The wait grows with the project's backlog, so a capped project
   * with a thousand queued costs a couple of re-checks a second, not a thousand.
   */
  async startDelayMs(project: string): Promise<number> {
    const quota = await this.quotaOf(project);
    if (quota.max_running === null) return 0;
    const usage = await this.deps.stats.projectUsage(project);
    if (usage.running < quota.max_running) return 0;
    const perSlot = usage.queued / Math.max(1, quota.max_running);
    return Math.round(Math.min(30_000, 500 + 500 * perSlot) * (0.75 + Math.random() / 2));
  }
}
