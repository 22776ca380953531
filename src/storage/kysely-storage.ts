/**
 * One SQLite or PostgreSQL database behind the four storage ports (evaluations, event log, worker
 * registry, stats), written once over kysely; dialect specifics (column types, tags, LIKE, locks,
 * error classification) come from a StoreDialect.
 */
import { sql } from 'kysely';
import type { Storage } from '../ports/storage.js';
import type { Db, StoreDialect } from './dialect.js';
import { KyselyApiKeyStore } from './api-keys.js';
import { KyselyAuditLog } from './audit-log.js';
import { KyselyEvaluationRepository } from './evaluation-repository.js';
import { KyselyEvaluationStats } from './evaluation-stats.js';
import { KyselyEventLog } from './event-log.js';
import { migrate } from './migrations.js';
import { KyselyQuotaStore } from './quotas.js';
import { storeGuard } from './store-guard.js';
import { KyselySessionStore } from './session-store.js';
import { KyselyWebSessionStore } from './web-sessions.js';
import { KyselyWorkerRegistry } from './worker-registry.js';

export function createKyselyStorage(db: Db, dialect: StoreDialect): Storage {
  const guard = storeGuard(dialect);
  return {
    evaluations: new KyselyEvaluationRepository(db, dialect),
    events: new KyselyEventLog(db, dialect),
    workers: new KyselyWorkerRegistry(db, dialect),
    stats: new KyselyEvaluationStats(db, dialect),
    apiKeys: new KyselyApiKeyStore(db, dialect),
    audit: new KyselyAuditLog(db, dialect),
    quotas: new KyselyQuotaStore(db, dialect),
    sessions: new KyselySessionStore(db, dialect),
    webSessions: new KyselyWebSessionStore(db, dialect),
    init: () => guard(() => migrate(db, dialect)),
    ping: () =>
      guard(async () => {
        await sql`select 1`.execute(db);
      }),
    close: () => db.destroy(),
  };
}
