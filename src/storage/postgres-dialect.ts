/**
 * PostgreSQL specifics: tags are a text[] column with a GIN index (`tags @> array[...]` answers
 * an AND of tags), JSON is jsonb, and migrations are serialised across processes and hosts by a
 * transaction-scoped advisory lock per schema.
 */
import { sql, type SqlBool } from 'kysely';
import type { Db, EvaluationsEb, StoreDialect } from './dialect.js';

/** Connection-level failures: the database is down, restarting, unreachable or overloaded. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '57014', '55P03']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection error/i,
  /the database system is/i,
];

function field(err: unknown, name: string): string {
  const value = typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

export function postgresDialect(schema: string): StoreDialect {
  return {
    name: 'postgres',
    types: { bigint: 'bigint', float: 'double precision', bool: 'boolean', json: 'jsonb', tags: 'text[]', bytes: 'bytea' },
    encodeBool: (value) => value,
    encodeTags: (tags) => tags,

    async createTagIndexes(db) {
      await db.schema.createIndex('evaluations_tags').on('evaluations').using('gin').column('tags').execute();
    },

    async insertTags() {
      // Tags live in the row's text[] column.
    },

    // The planner picks between the GIN index and walking the newest-first index from statistics,
    // for a page and a count alike.
    async tagSelection(db, tags) {
      const where = (eb: EvaluationsEb) => sql<SqlBool>`${eb.ref('evaluations.tags')} @> ${sql.val(tags)}::text[]`;
      return { where, countFrom: () => db.selectFrom('evaluations').where(where) };
    },
    tagsText: (eb) => sql<string>`array_to_string(${eb.ref('evaluations.tags')}, ' ')`,
    metadataText: (eb, key) => sql<string | null>`${eb.ref('evaluations.metadata')} ->> ${key}`,
    like: (value, pattern) => sql<SqlBool>`${value} ilike ${pattern} escape '\\'`,

    async withMigrationLock<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
      return db.transaction().execute(async (trx) => {
        // Held until commit; every process migrating this schema queues here, on any host.
        await sql`select pg_advisory_xact_lock(hashtext(${`crucible:migrate:${schema}`}))`.execute(trx);
        const exists = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(trx);
        if (exists.rows.length === 0) await sql`create schema ${sql.id(schema)}`.execute(trx);
        return fn(trx);
      });
    },

    isUniqueViolation: (err) => field(err, 'code') === '23505',
    // 53100 disk_full, 53000 insufficient_resources (e.g. could not extend a file).
    isOutOfSpace: (err) => ['53100', '53000'].includes(field(err, 'code')) || /no space left on device/i.test(field(err, 'message')),
    // 25006 read_only_sql_transaction: default_transaction_read_only, a hot standby, a read-only role.
    isReadOnly: (err) => field(err, 'code') === '25006',
    isUnavailable(err) {
      const code = field(err, 'code');
      if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
      const message = field(err, 'message');
      return UNAVAILABLE_MESSAGES.some((re) => re.test(message));
    },
  };
}
