/** Sessions and their event log in SQLite or PostgreSQL (JSON columns as text, times as ms). */
import type { Selectable } from 'kysely';
import type { Environment, SandboxBackendName } from '../domain/evaluation.js';
import type { NewSessionEvent, Session, SessionEndReason, SessionEvent, SessionLimits, SessionStatus } from '../domain/session.js';
import type { SessionPatch, SessionStore } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import type { SessionsTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

function fromRow(r: Selectable<SessionsTable>): Session {
  return {
    id: r.id,
    status: r.status as SessionStatus,
    ended_reason: r.ended_reason as SessionEndReason | null,
    message: r.message,
    environment: r.environment as Environment,
    sandbox: r.sandbox as SandboxBackendName,
    limits: JSON.parse(r.limits) as SessionLimits,
    tags: JSON.parse(r.tags) as string[],
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    owner: r.owner,
    project: r.project,
    worker: r.worker,
    created_at: toIso(r.created_at),
    ready_at: toIso(r.ready_at),
    ended_at: toIso(r.ended_at),
    last_activity_at: toIso(r.last_activity_at),
  };
}

const msOrNull = (iso: string | null) => (iso === null ? null : toMs(iso));

export class KyselySessionStore implements SessionStore {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  create(s: Session): Promise<void> {
    return this.guard(async () => {
      await this.db
        .insertInto('sessions')
        .values({
          id: s.id,
          status: s.status,
          ended_reason: s.ended_reason,
          message: s.message,
          environment: s.environment,
          sandbox: s.sandbox,
          limits: JSON.stringify(s.limits),
          tags: JSON.stringify(s.tags),
          metadata: JSON.stringify(s.metadata),
          owner: s.owner,
          project: s.project,
          worker: s.worker,
          created_at: toMs(s.created_at),
          ready_at: msOrNull(s.ready_at),
          ended_at: msOrNull(s.ended_at),
          last_activity_at: toMs(s.last_activity_at),
          last_seq: 0,
        })
        .execute();
    });
  }

  get(id: string): Promise<Session | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    });
  }

  list(query: { status?: SessionStatus; project: string | null; limit: number }): Promise<Session[]> {
    return this.guard(async () => {
      let q = this.db.selectFrom('sessions').selectAll();
      if (query.status) q = q.where('status', '=', query.status);
      if (query.project !== null) q = q.where('project', '=', query.project);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(fromRow);
    });
  }

  open(worker?: string): Promise<Session[]> {
    return this.guard(async () => {
      let q = this.db.selectFrom('sessions').selectAll().where('status', '!=', 'ended');
      if (worker !== undefined) q = q.where('worker', '=', worker);
      return (await q.execute()).map(fromRow);
    });
  }

  countOpen(project: string): Promise<number> {
    return this.guard(async () => {
      const row = await this.db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project', '=', project)
        .where('status', '!=', 'ended')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  update(id: string, patch: SessionPatch): Promise<boolean> {
    return this.guard(async () => {
      const values: Partial<SessionsTable> = {};
      if (patch.status !== undefined) values.status = patch.status;
      if (patch.ended_reason !== undefined) values.ended_reason = patch.ended_reason;
      if (patch.message !== undefined) values.message = patch.message;
      if (patch.worker !== undefined) values.worker = patch.worker;
      if (patch.ready_at !== undefined) values.ready_at = msOrNull(patch.ready_at);
      if (patch.ended_at !== undefined) values.ended_at = msOrNull(patch.ended_at);
      if (patch.last_activity_at !== undefined) values.last_activity_at = toMs(patch.last_activity_at);
      const result = await this.db.updateTable('sessions').set(values).where('id', '=', id).where('status', '!=', 'ended').executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  append(id: string, event: NewSessionEvent, opts: { activity?: boolean } = {}): Promise<SessionEvent> {
    return this.guard(() =>
      this.db.transaction().execute(async (trx) => {
        // One statement takes the next seq (and moves the activity clock): an exec's record is
        // on the path of its answer, so every round trip to the database counts.
        const row = await trx
          .updateTable('sessions')
          .set((eb) => ({ last_seq: eb('last_seq', '+', 1), ...(opts.activity ? { last_activity_at: toMs(event.at) } : {}) }))
          .where('id', '=', id)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        const seq = Number(row.last_seq);
        await trx
          .insertInto('session_events')
          .values({ session_id: id, seq, type: event.type, at: toMs(event.at), data: JSON.stringify(event.data) })
          .execute();
        return { ...event, seq };
      }),
    );
  }

  eventsAfter(id: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('session_events')
        .selectAll()
        .where('session_id', '=', id)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        seq: Number(r.seq),
        type: r.type as SessionEvent['type'],
        at: toIso(Number(r.at)),
        data: JSON.parse(r.data) as Record<string, unknown>,
      }));
    });
  }
}
