/**
 * The audit log in SQLite or PostgreSQL. Appending reads the newest entry and inserts the next seq
 * in one transaction (PostgreSQL: under a table lock; two writers racing for a seq anyway lose to
 * the primary key and retry), so the chain has no forks or gaps.
 */
import { sql, type Selectable } from 'kysely';
import { GENESIS_HASH, type AuditEntry, type NewAuditEntry } from '../domain/audit.js';
import type { AuditListQuery, AuditLog } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import type { AuditLogTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

function fromRow(r: Selectable<AuditLogTable>): AuditEntry {
  return {
    seq: Number(r.seq),
    at: toIso(r.at),
    actor: r.actor,
    role: r.role,
    project: r.project,
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditEntry['outcome'],
    source: r.source,
    request_id: r.request_id,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

export class KyselyAuditLog implements AuditLog {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    private readonly dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  async append(entry: NewAuditEntry, at: string, seal: (entry: Omit<AuditEntry, 'hash'>) => string): Promise<AuditEntry> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          if (this.dialect.name === 'postgres') await sql`lock table audit_log in exclusive mode`.execute(trx);
          const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
          const unsealed: Omit<AuditEntry, 'hash'> = { ...entry, seq: last ? Number(last.seq) + 1 : 1, at, prev_hash: last?.hash ?? GENESIS_HASH };
          const sealed: AuditEntry = { ...unsealed, hash: seal(unsealed) };
          await trx
            .insertInto('audit_log')
            .values({ ...sealed, at: toMs(sealed.at), detail: JSON.stringify(sealed.detail) })
            .execute();
          return sealed;
        });
      } catch (err) {
        if (attempt < 5 && this.dialect.isUniqueViolation(err)) continue;
        return this.guard(() => Promise.reject(err as Error));
      }
    }
  }

  list(query: AuditListQuery): Promise<AuditEntry[]> {
    return this.guard(async () => {
      let select = this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', query.afterSeq ?? 0);
      if (query.action !== undefined) select = select.where('action', '=', query.action);
      if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
      if (query.project !== undefined) select = select.where('project', '=', query.project);
      if (query.outcome !== undefined) select = select.where('outcome', '=', query.outcome);
      const rows = await select.orderBy('seq').limit(query.limit).execute();
      return rows.map(fromRow);
    });
  }
}
