/** Web sessions in SQLite or PostgreSQL: who signed in, until when; the cookie only as its SHA-256. */
import type { Selectable } from 'kysely';
import type { Role } from '../domain/access.js';
import type { SignInMethod, StoredWebSession } from '../domain/web-session.js';
import type { WebSessionStore } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import type { WebSessionsTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

function fromRow(r: Selectable<WebSessionsTable>): StoredWebSession {
  return {
    id_sha256: r.id_sha256,
    actor: r.actor,
    name: r.name,
    role: r.role as Role,
    project: r.project,
    method: r.method as SignInMethod,
    created_at: toIso(Number(r.created_at)),
    expires_at: toIso(Number(r.expires_at)),
    revoked_at: r.revoked_at === null ? null : toIso(Number(r.revoked_at)),
  };
}

export class KyselyWebSessionStore implements WebSessionStore {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  create(session: StoredWebSession): Promise<void> {
    return this.guard(async () => {
      await this.db
        .insertInto('web_sessions')
        .values({
          ...session,
          created_at: toMs(session.created_at),
          expires_at: toMs(session.expires_at),
          revoked_at: session.revoked_at === null ? null : toMs(session.revoked_at),
        })
        .execute();
    });
  }

  get(idSha256: string): Promise<StoredWebSession | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('web_sessions').selectAll().where('id_sha256', '=', idSha256).executeTakeFirst();
      return row ? fromRow(row) : null;
    });
  }

  revoke(idSha256: string, at: string): Promise<boolean> {
    return this.guard(async () => {
      await this.db
        .updateTable('web_sessions')
        .set({ revoked_at: toMs(at) })
        .where('id_sha256', '=', idSha256)
        .where('revoked_at', 'is', null)
        .execute();
      return (await this.get(idSha256)) !== null;
    });
  }

  deleteEnded(before: string): Promise<number> {
    const cutoff = toMs(before);
    return this.guard(async () => {
      const result = await this.db
        .deleteFrom('web_sessions')
        .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}
