/**
 * Session use cases as the API sees them: access control (project scoping, roles), creating a
 * session on a host that can hold it, routing each exec and file operation to that host through
 * a SessionLink, and following a session's ordered events.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../domain/access.js';
import { badRequest, conflict, notFound, unavailable } from '../domain/errors.js';
import {
  CreateSessionRequest,
  type CreateSessionInput,
  type ExecRequest,
  type ExecResult,
  type FileWritten,
  type ListSessionsQuery,
  type Session,
  type SessionEvent,
  type SessionList,
} from '../domain/session.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { SessionStore } from '../ports/storage.js';
import { authorize, seesProject } from './access.js';
import type { FileRead, SessionHost } from './session-host.js';

/** How the API reaches the host that holds a session: in process, or through the bus. */
export interface SessionLink {
  /** Hosts that can take a new session with this sandbox now (ids), best first. */
  hostsFor(sandbox: string): Promise<string[]>;
  start(host: string, session: Session): Promise<void>;
  exec(host: string, id: string, request: ExecRequest, onOutput?: (stream: 'stdout' | 'stderr', bytes: Buffer) => void): Promise<ExecResult>;
  writeFile(host: string, id: string, path: string, content: Buffer): Promise<FileWritten>;
  /** `maxBytes`: a file larger than this (or than the server's bound) is refused with file_too_large. */
  readFile(host: string, id: string, path: string, maxBytes?: number): Promise<FileRead>;
  end(host: string, id: string): Promise<void>;
}

/** A link to a SessionHost in this process (embedded mode, or a worker serving the bus). */
export class LocalSessionLink implements SessionLink {
  constructor(private readonly host: SessionHost) {}
  async hostsFor(sandbox: string): Promise<string[]> {
    return this.host.offers(sandbox) ? [this.host.hostId] : [];
  }
  start(_host: string, session: Session) {
    return this.host.start(session);
  }
  exec(_host: string, id: string, request: ExecRequest, onOutput?: (stream: 'stdout' | 'stderr', bytes: Buffer) => void) {
    return this.host.exec(id, request, onOutput);
  }
  writeFile(_host: string, id: string, path: string, content: Buffer) {
    return this.host.writeFile(id, path, content);
  }
  readFile(_host: string, id: string, path: string, maxBytes?: number) {
    return this.host.readFile(id, path, maxBytes);
  }
  end(_host: string, id: string) {
    return this.host.end(id, 'deleted', 'ended by DELETE /api/sessions/{id}');
  }
}

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
    private readonly deps: { store: SessionStore; link: SessionLink; bus: EventBus },
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: CreateSessionInput, actor: Actor): Promise<Session> {
    authorize(actor, 'sessions:use');
    const request = CreateSessionRequest.parse(input);
    const [host] = await this.deps.link.hostsFor(request.sandbox);
    if (!host) throw badRequest('sandbox_unavailable', `no live worker can hold a session in the ${request.sandbox} sandbox`);
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
    await this.deps.link.start(host, session);
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

  async exec(id: string, request: ExecRequest, actor: Actor, onOutput?: (stream: 'stdout' | 'stderr', bytes: Buffer) => void): Promise<ExecResult> {
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
    if (session.status !== 'ended' && session.worker) await this.deps.link.end(session.worker, id);
    return this.get(id, actor);
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
