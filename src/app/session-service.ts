/**
 * Session use cases as the API sees them: access control (project scoping, roles), placing a new
 * session on the least loaded live worker that serves its environment and sandbox, relaying each
 * exec and file operation to that worker through the SessionLink port (in process when embedded,
 * Redis when scaled out), ending the sessions of workers that died, and following a session's
 * ordered events.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../domain/access.js';
import { liveWorkers } from '../domain/environment-routing.js';
import { badRequest, conflict, notFound, unavailable } from '../domain/errors.js';
import {
  CreateSessionRequest,
  type CreateSessionInput,
  type ExecRequest,
  type ExecResult,
  type FileWritten,
  type ListSessionsQuery,
  type Session,
  type SessionEndReason,
  type SessionEvent,
  type SessionList,
} from '../domain/session.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { FileRead, OutputListener, SessionLink } from '../ports/session-link.js';
import type { SessionStore, WorkerInfo } from '../ports/storage.js';
import { authorize, seesProject } from './access.js';
import type { QuotaService } from './quotas.js';
import { markSessionEnded } from './session-records.js';

export interface SessionEventSink {
  send(event: SessionEvent): void;
  readonly closed: boolean;
  readonly done: Promise<void>;
  end(): void;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function newSessionId(): string {
  let id = 'ses_';
  for (const b of randomBytes(20)) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export class SessionService {
  constructor(
    private readonly deps: {
      store: SessionStore;
      link: SessionLink;
      bus: EventBus;
      log: Logger;
      /** The worker registry (heartbeats): where sessions can be placed. */
      workers: () => Promise<WorkerInfo[]>;
      livenessWindowMs: number;
      /** The project's max_sessions is checked before a session starts (none: not limited). */
      quotas?: QuotaService;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** The live worker serving `environment` with `sandbox` that holds the fewest open sessions (then runs the fewest evaluations). */
  private async place(environment: Session['environment'], sandbox: Session['sandbox']): Promise<string | null> {
    const candidates = liveWorkers(await this.deps.workers(), this.deps.livenessWindowMs, this.now()).filter(
      (w) => w.environments.includes(environment) && w.sandboxes.includes(sandbox),
    );
    if (candidates.length === 0) return null;
    const held = new Map<string, number>();
    for (const s of await this.deps.store.open()) if (s.worker) held.set(s.worker, (held.get(s.worker) ?? 0) + 1);
    const load = (w: WorkerInfo) => [held.get(w.id) ?? 0, w.running] as const;
    candidates.sort((a, b) => load(a)[0] - load(b)[0] || load(a)[1] - load(b)[1]);
    return candidates[0]!.id;
  }

  async create(input: CreateSessionInput, actor: Actor): Promise<Session> {
    authorize(actor, 'sessions:use');
    const request = CreateSessionRequest.parse(input);
    await this.deps.quotas?.assertMayOpenSession(actor);
    const host = await this.place(request.environment, request.sandbox);
    if (!host) throw badRequest('sandbox_unavailable', `no live worker serves the ${request.environment} environment with the ${request.sandbox} sandbox`);
    const at = new Date(this.now()).toISOString();
    const session: Session = {
      id: newSessionId(),
      status: 'starting',
      ended_reason: null,
      message: null,
      environment: request.environment,
      sandbox: request.sandbox,
      limits: {
        memory_mb: request.memory_mb,
        cpus: request.cpus,
        max_processes: request.max_processes,
        scratch_mb: request.scratch_mb,
        idle_timeout_s: request.idle_timeout_s,
        max_lifetime_s: request.max_lifetime_s,
      },
      tags: request.tags,
      metadata: request.metadata,
      owner: actor.id,
      project: actor.project,
      worker: host,
      created_at: at,
      ready_at: null,
      ended_at: null,
      last_activity_at: at,
    };
    await this.deps.store.create(session);
    try {
      await this.deps.link.start(host, session);
    } catch (err) {
      // The worker never took it (stopped between placement and start, or unreachable): ended, not left starting.
      await this.endHere(session.id, 'start_failed', `the session could not be started: ${(err as Error).message}`);
    }
    return (await this.deps.store.get(session.id)) ?? session;
  }

  async get(id: string, actor: Actor): Promise<Session> {
    authorize(actor, 'sessions:read');
    const session = await this.deps.store.get(id);
    // Another project's session is as absent as a missing one (no probing of ids).
    if (!session || !seesProject(actor, session.project)) throw notFound('session', id);
    return session;
  }

  async list(query: ListSessionsQuery, actor: Actor): Promise<SessionList> {
    authorize(actor, 'sessions:read');
    const items = await this.deps.store.list({ status: query.status, limit: query.limit, project: actor.role === 'admin' ? null : actor.project });
    return { items };
  }

  /** The session if the actor may use it and it still runs (409 session_ended otherwise). */
  private async usable(id: string, actor: Actor, action: 'sessions:use' | 'sessions:read'): Promise<Session & { worker: string }> {
    const session = await this.get(id, actor);
    authorize(actor, action);
    if (session.status === 'ended') throw conflict('session_ended', `session ${id} has ended (${session.ended_reason}): ${session.message ?? ''}`.trim());
    if (!session.worker) throw unavailable('session_unavailable', `session ${id} has no worker`);
    return session as Session & { worker: string };
  }

  async exec(id: string, request: ExecRequest, actor: Actor, onOutput?: OutputListener): Promise<ExecResult> {
    const session = await this.usable(id, actor, 'sessions:use');
    return this.deps.link.exec(session.worker, id, request, onOutput);
  }

  async writeFile(id: string, path: string, content: Buffer, actor: Actor): Promise<FileWritten> {
    const session = await this.usable(id, actor, 'sessions:use');
    return this.deps.link.writeFile(session.worker, id, path, content);
  }

  async readFile(id: string, path: string, actor: Actor, maxBytes?: number): Promise<FileRead> {
    const session = await this.usable(id, actor, 'sessions:read');
    return this.deps.link.readFile(session.worker, id, path, maxBytes);
  }

  /** Ends the session (idempotent: an ended one is returned as it is). */
  async end(id: string, actor: Actor): Promise<Session> {
    const session = await this.get(id, actor);
    authorize(actor, 'sessions:use');
    if (session.status !== 'ended' && session.worker) await this.deps.link.end(session.worker, id, 'deleted', 'ended by DELETE /api/sessions/{id}');
    return this.get(id, actor);
  }

  /**
   * Ends, as worker_lost, every open session held by a worker not in `alive` (the reaper's view of
   * the heartbeats): a killed worker cannot end its own sessions. Returns how many were ended.
   */
  async endLost(alive: ReadonlySet<string>): Promise<number> {
    let ended = 0;
    for (const s of await this.deps.store.open()) {
      if (s.worker && alive.has(s.worker)) continue;
      const message = `the worker holding the session (${s.worker ?? 'none'}) stopped: no heartbeat within the liveness window`;
      if (await this.endHere(s.id, 'worker_lost', message)) ended++;
    }
    if (ended > 0) this.deps.log.warn({ count: ended }, 'sessions of lost workers ended');
    return ended;
  }

  private endHere(id: string, reason: SessionEndReason, message: string): Promise<boolean> {
    return markSessionEnded(this.deps, id, reason, message, new Date(this.now()).toISOString());
  }

  /** 404 before a stream opens; then every event after `afterSeq`, live, until the session's end. */
  async follow(id: string, afterSeq: number, actor: Actor, sink: SessionEventSink): Promise<void> {
    await this.get(id, actor);
    let last = afterSeq;
    let wake: () => void = () => undefined;
    const subscription = await this.deps.bus.subscribe(channels.session(id), () => wake());
    try {
      for (;;) {
        const signalled = new Promise<void>((resolve) => (wake = resolve));
        for (;;) {
          const events = await this.deps.store.eventsAfter(id, last, 500);
          for (const event of events) {
            if (sink.closed) return;
            sink.send(event);
            last = event.seq;
            if (event.type === 'status' && event.data.status === 'ended') return sink.end();
          }
          if (events.length < 500) break;
        }
        const session = await this.deps.store.get(id);
        if (session?.status === 'ended' && (await this.deps.store.eventsAfter(id, last, 1)).length === 0) return sink.end();
        await Promise.race([signalled, sink.done, new Promise((r) => setTimeout(r, 5000).unref())]);
        if (sink.closed) return;
      }
    } finally {
      await subscription.unsubscribe();
    }
  }
}
