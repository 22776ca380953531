/** API keys in SQLite or PostgreSQL: metadata and the SHA-256 of each secret, never the secret. */
import type { Selectable } from 'kysely';
import type { Role } from '../domain/access.js';
import type { ApiKeyStore, StoredApiKey } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import type { ApiKeysTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

function fromRow(r: Selectable<ApiKeysTable>): StoredApiKey {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    project: r.project,
    secret_sha256: r.secret_sha256,
    created_at: toIso(r.created_at),
    expires_at: toIso(r.expires_at),
    last_used_at: toIso(r.last_used_at),
    revoked_at: toIso(r.revoked_at),
  };
}

const msOrNull = (iso: string | null) => (iso === null ? null : toMs(iso));

export class KyselyApiKeyStore implements ApiKeyStore {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  create(key: StoredApiKey): Promise<void> {
    return this.guard(async () => {
      await this.db
        .insertInto('api_keys')
        .values({
          id: key.id,
          name: key.name,
          role: key.role,
          project: key.project,
          secret_sha256: key.secret_sha256,
          created_at: toMs(key.created_at),
          expires_at: msOrNull(key.expires_at),
          last_used_at: msOrNull(key.last_used_at),
          revoked_at: msOrNull(key.revoked_at),
        })
        .execute();
    });
  }

  get(id: string): Promise<StoredApiKey | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    });
  }

  list(): Promise<StoredApiKey[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    });
  }

  revoke(id: string, at: string): Promise<StoredApiKey | null> {
    return this.guard(async () => {
      await this.db
        .updateTable('api_keys')
        .set({ revoked_at: toMs(at) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    });
  }

  touch(id: string, at: string): Promise<void> {
    return this.guard(async () => {
      await this.db
        .updateTable('api_keys')
        .set({ last_used_at: toMs(at) })
        .where('id', '=', id)
        .execute();
    });
  }
}
