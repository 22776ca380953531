export { newEvaluationId, ulid } from './ids.js';
export { KyselyStore } from './kysely-store.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres.js';
export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export type * from './types.js';
