export { createKyselyStorage } from './kysely-storage.js';
export { createPostgresStorage, type PostgresStoreOptions } from './postgres.js';
export { createSqliteKysely, createSqliteStorage, type SqliteStoreOptions } from './sqlite.js';
