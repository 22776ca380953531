/**
 * Administration without a running server (`crucible keys …`, bootstrap of the first admin key):
 * opens only the storage of a data directory or PostgreSQL database, beside a server that may be
 * running on it (SQLite in WAL mode and PostgreSQL both take a second process).
 */
import { AccessControl } from '../app/access.js';
import { AuditTrail } from '../app/audit.js';
import { QuotaService } from '../app/quotas.js';
import type { Storage } from '../ports/storage.js';
import { isEmbedded, type PlatformConfig } from './config.js';

export interface AdminTools {
  storage: Storage;
  access: AccessControl;
  audit: AuditTrail;
  quotas: QuotaService;
  close(): Promise<void>;
}

export async function openAdmin(config: PlatformConfig): Promise<AdminTools> {
  let storage: Storage;
  if (isEmbedded(config) || !config.databaseUrl) {
    const { createSqliteStorage } = await import('../storage/sqlite.js');
    storage = createSqliteStorage({ dataDir: config.dataDir });
  } else {
    const { createPostgresStorage } = await import('../storage/postgres.js');
    storage = createPostgresStorage({ connectionString: config.databaseUrl, schema: config.namespace, maxConnections: 2 });
  }
  try {
    await storage.init();
  } catch (err) {
    await storage.close();
    throw err;
  }
  return {
    storage,
    access: new AccessControl(storage.apiKeys, { mode: 'required' }),
    audit: new AuditTrail(storage.audit),
    quotas: new QuotaService({ store: storage.quotas, stats: storage.stats }),
    close: () => storage.close(),
  };
}
