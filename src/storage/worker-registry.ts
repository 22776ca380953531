/** The worker registry (heartbeats) in SQLite or PostgreSQL. */
import type { WorkerInfo, WorkerRegistry } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { decodeJson, toIso, toMs } from './rows.js';
import { storeGuard, type StoreGuard } from './store-guard.js';

export class KyselyWorkerRegistry implements WorkerRegistry {
  private readonly guard: StoreGuard;

  constructor(
    private readonly db: Db,
    dialect: StoreDialect,
  ) {
    this.guard = storeGuard(dialect);
  }

  upsert(worker: WorkerInfo): Promise<void> {
    return this.guard(async () => {
      const values = {
        host: worker.host,
        pid: worker.pid,
        capacity: worker.capacity,
        running: worker.running,
        environments: JSON.stringify(worker.environments),
        sandboxes: JSON.stringify(worker.sandboxes),
        started_at: toMs(worker.started_at),
        last_seen: toMs(worker.last_seen),
      };
      await this.db
        .insertInto('workers')
        .values({ id: worker.id, ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
    });
  }

  list(): Promise<WorkerInfo[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('workers').selectAll().orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        host: r.host,
        pid: Number(r.pid),
        capacity: Number(r.capacity),
        running: Number(r.running),
        environments: decodeJson<WorkerInfo['environments']>(r.environments),
        sandboxes: decodeJson<WorkerInfo['sandboxes']>(r.sandboxes),
        started_at: toIso(r.started_at),
        last_seen: toIso(r.last_seen),
      }));
    });
  }

  remove(id: string): Promise<void> {
    return this.guard(async () => {
      await this.db.deleteFrom('workers').where('id', '=', id).execute();
    });
  }
}
