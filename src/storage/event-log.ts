/**
 * The per-evaluation event log in SQLite or PostgreSQL. An append claims its sequence numbers with
 * the conditional UPDATE of the evaluation row (see evaluation-repository.ts), so numbers are
 * gap-free under concurrent writers and nothing is appended once the evaluation is terminal.
 */
import { TERMINAL_STATUSES } from '../domain/evaluation.js';
import type { EvaluationEvent, FeedPosition, NewEvaluationEvent, StatusChange } from '../domain/events.js';
import type { EventLog } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { insertEvents } from './event-rows.js';
import { decodeJson, decodeTags, toEvent, toIso } from './rows.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

const DEFAULT_EVENTS_LIMIT = 1000;

export class KyselyEventLog implements EventLog {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  append(id: string, events: NewEvaluationEvent[]): Promise<EvaluationEvent[]> {
    return this.guard(async () => {
      if (events.length === 0) return [];
      return this.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('evaluations')
          .set((eb) => ({ last_seq: eb('last_seq', '+', events.length) }))
          .where('id', '=', id)
          .where('status', 'not in', TERMINAL_STATUSES)
          .returning('last_seq')
          .executeTakeFirst();
        if (!row) return [];
        return insertEvents(trx, id, Number(row.last_seq) - events.length + 1, events);
      });
    });
  }

  after(id: string, afterSeq: number, limit = DEFAULT_EVENTS_LIMIT): Promise<EvaluationEvent[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('evaluation_events')
        .select(['seq', 'type', 'at', 'data'])
        .where('evaluation_id', '=', id)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toEvent);
    });
  }

  statusChangesAfter(position: FeedPosition, limit: number): Promise<StatusChange[]> {
    return this.guard(async () => {
      const rows = await this.db
        .selectFrom('evaluation_events')
        .innerJoin('evaluations', 'evaluations.id', 'evaluation_events.evaluation_id')
        .select([
          'evaluation_events.evaluation_id',
          'evaluation_events.seq',
          'evaluation_events.at',
          'evaluation_events.data',
          'evaluations.tags',
          'evaluations.project',
        ])
        .where('evaluation_events.type', '=', 'status')
        .where((eb) =>
          eb(
            eb.refTuple('evaluation_events.at', 'evaluation_events.evaluation_id', 'evaluation_events.seq'),
            '>',
            eb.tuple(position.atMs, position.evaluationId, position.seq),
          ),
        )
        .orderBy('evaluation_events.at')
        .orderBy('evaluation_events.evaluation_id')
        .orderBy('evaluation_events.seq')
        .limit(limit)
        .execute();
      return rows.map((r) => {
        const data = decodeJson<{ status: StatusChange['status']; reason?: StatusChange['reason'] }>(r.data);
        return {
          id: r.evaluation_id,
          seq: Number(r.seq),
          status: data.status,
          reason: data.reason ?? null,
          tags: decodeTags(r.tags),
          at: toIso(r.at),
          project: r.project,
        };
      });
    });
  }
}
