/** Per-project quotas in SQLite or PostgreSQL: one row per project, its settings as JSON text. */
import type { Selectable } from 'kysely';
import { QuotaSettings, type ProjectQuota } from '../domain/quota.js';
import type { QuotaStore } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { toIso, toMs } from './rows.js';
import type { ProjectQuotasTable } from './schema.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

function fromRow(r: Selectable<ProjectQuotasTable>): ProjectQuota {
  return { project: r.project, ...QuotaSettings.parse(JSON.parse(r.settings)), updated_at: toIso(Number(r.updated_at)), updated_by: r.updated_by };
}

export class KyselyQuotaStore implements QuotaStore {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  get(project: string): Promise<ProjectQuota | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('project_quotas').selectAll().where('project', '=', project).executeTakeFirst();
      return row ? fromRow(row) : null;
    });
  }

  put(quota: ProjectQuota): Promise<void> {
    const { project, updated_at, updated_by, ...settings } = quota;
    const values = { settings: JSON.stringify(settings), updated_at: toMs(updated_at ?? new Date().toISOString()), updated_by: updated_by ?? 'unknown' };
    return this.guard(async () => {
      await this.db
        .insertInto('project_quotas')
        .values({ project, ...values })
        .onConflict((oc) => oc.column('project').doUpdateSet(values))
        .execute();
    });
  }

  list(): Promise<ProjectQuota[]> {
    return this.guard(async () => (await this.db.selectFrom('project_quotas').selectAll().orderBy('project').execute()).map(fromRow));
  }
}
