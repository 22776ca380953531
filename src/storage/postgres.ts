/**
 * The scale-out store: PostgreSQL through a pg Pool, driven by kysely's PostgresDialect. Several
 * API and worker processes, on several hosts, share it: every state change is a compare-and-set
 * in one transaction (see evaluation-repository.ts), and migrations take an advisory lock.
 *
 * Failure behaviour: a query fails fast (connect timeout, statement timeout) instead of hanging,
 * and connection-level failures become `storage_unavailable` (HTTP 503). The pool drops broken
 * connections and opens new ones on demand, so it recovers by itself after PostgreSQL restarts.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Storage } from '../ports/storage.js';
import { createKyselyStorage } from './kysely-storage.js';
import { postgresDialect } from './postgres-dialect.js';
import { queryLogger, type QueryListener } from './query-log.js';
import type { Database } from './schema.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema holding Crucible's tables (created by init). Lets several deployments share a database. */
  schema?: string;
  /** Pool size per process. */
  maxConnections?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Shown in pg_stat_activity (default `crucible`). */
  applicationName?: string;
  /** Errors of idle pooled connections (e.g. PostgreSQL restarted); they are dropped either way. */
  onPoolError?: (err: Error) => void;
  /** Called after every query (slow-query logging, benchmarks). */
  onQuery?: QueryListener;
}

const INT8_OID = 20;

export function createPostgresStorage(options: PostgresStoreOptions): Storage {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    keepAlive: true,
    application_name: options.applicationName ?? 'crucible',
    // Unqualified table names resolve to our schema only.
    options: `-c search_path=${schema}`,
    types: {
      // Times are epoch milliseconds in bigint columns: well within a double's exact range.
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // Without a listener, an idle connection killed by a PostgreSQL restart would crash the process.
  const onPoolError = options.onPoolError ?? (() => {});
  pool.on('error', onPoolError);
  // The pool listens on idle clients only: a connection that dies while checked out (or in the
  // moment it is handed back) emits on the client itself, which must never be an uncaught
  // exception. The query in flight still fails (503) and the pool drops the client.
  pool.on('connect', (client) => client.on('error', onPoolError));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: queryLogger(options.onQuery) });
  return createKyselyStorage(db, postgresDialect(schema));
}
