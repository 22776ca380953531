/**
 * Versioned schema migrations, applied in order under the dialect's cross-process lock, each
 * recorded in `crucible_migrations`. Never edit a released migration: add a new one.
 */
import { sql } from 'kysely';
import { codeTitle } from '../domain/program-title.js';
import type { Db, StoreDialect } from './dialect.js';
import { moveLargeOutputsToPieces } from './output-pieces.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Db, dialect: StoreDialect): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'evaluations, payloads, events, workers',
    async up(db, dialect) {
      const t = dialect.types;
      const type = (name: string) => sql.raw(name);

      await db.schema
        .createTable('evaluations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('sandbox', 'text', (c) => c.notNull())
        .addColumn('tags', type(t.tags), (c) => c.notNull())
        .addColumn('created_at', type(t.bigint), (c) => c.notNull())
        .addColumn('started_at', type(t.bigint))
        .addColumn('finished_at', type(t.bigint))
        .addColumn('exit_code', 'integer')
        .addColumn('signal', 'text')
        .addColumn('reason', 'text')
        .addColumn('message', 'text')
        .addColumn('stdout_truncated', type(t.bool), (c) => c.notNull())
        .addColumn('stderr_truncated', type(t.bool), (c) => c.notNull())
        .addColumn('wall_ms', type(t.float))
        .addColumn('cpu_ms', type(t.float))
        .addColumn('peak_memory_bytes', type(t.float))
        .addColumn('worker', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_seq', 'integer', (c) => c.notNull())
        .addColumn('limits', type(t.json), (c) => c.notNull())
        .addColumn('metadata', type(t.json), (c) => c.notNull())
        .addColumn('code_sha256', 'text', (c) => c.notNull())
        .execute();
      // Newest-first listing and its cursor: (created_at, id) descending.
      await db.schema.createIndex('evaluations_created').on('evaluations').columns(['created_at desc', 'id desc']).execute();
      // Status filter in the same order; also serves countByStatus, oldestQueuedAt and findByStatus.
      await db.schema.createIndex('evaluations_status_created').on('evaluations').columns(['status', 'created_at desc', 'id desc']).execute();
      // Dashboard outcome buckets scan only finished rows of the recent past.
      await db.schema.createIndex('evaluations_finished').on('evaluations').column('finished_at').where(sql.ref('finished_at'), 'is not', null).execute();

      await db.schema
        .createTable('evaluation_payloads')
        .addColumn('evaluation_id', 'text', (c) => c.primaryKey().references('evaluations.id').onDelete('cascade'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('stdin', 'text')
        .addColumn('stdout', 'text', (c) => c.notNull())
        .addColumn('stderr', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('evaluation_events')
        .addColumn('evaluation_id', 'text', (c) => c.notNull().references('evaluations.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', type(t.bigint), (c) => c.notNull())
        .addColumn('data', type(t.json), (c) => c.notNull())
        .addPrimaryKeyConstraint('evaluation_events_pk', ['evaluation_id', 'seq'])
        .execute();

      await dialect.createTagIndexes(db);

      await db.schema
        .createTable('workers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('capacity', 'integer', (c) => c.notNull())
        .addColumn('running', 'integer', (c) => c.notNull())
        .addColumn('environments', type(t.json), (c) => c.notNull())
        .addColumn('sandboxes', type(t.json), (c) => c.notNull())
        .addColumn('started_at', type(t.bigint), (c) => c.notNull())
        .addColumn('last_seen', type(t.bigint), (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 2,
    name: 'status changes in feed order (GET /api/events resumes with Last-Event-ID)',
    async up(db) {
      await db.schema
        .createIndex('evaluation_events_status_feed')
        .on('evaluation_events')
        .columns(['at', 'evaluation_id', 'seq'])
        // A literal, not a bound parameter: PostgreSQL takes no parameters in DDL.
        .where(sql.ref('type'), '=', sql.lit('status'))
        .execute();
    },
  },
  {
    version: 3,
    name: 'binary-safe stdin and output bytes',
    async up(db, dialect) {
      for (const column of ['stdin_raw', 'stdout_raw', 'stderr_raw']) {
        await db.schema.alterTable('evaluation_payloads').addColumn(column, sql.raw(dialect.types.bytes)).execute();
      }
    },
  },
  {
    version: 4,
    name: 'API keys (access control)',
    async up(db, dialect) {
      const bigint = sql.raw(dialect.types.bigint);
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('secret_sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('expires_at', bigint)
        .addColumn('last_used_at', bigint)
        .addColumn('revoked_at', bigint)
        .execute();
    },
  },
  {
    version: 5,
    name: 'evaluation owner and project',
    async up(db) {
      await db.schema
        .alterTable('evaluations')
        .addColumn('owner', 'text', (c) => c.notNull().defaultTo('anonymous'))
        .execute();
      await db.schema
        .alterTable('evaluations')
        .addColumn('project', 'text', (c) => c.notNull().defaultTo('default'))
        .execute();
      // A project's listing, newest first (the cursor order).
      await db.schema.createIndex('evaluations_project_created').on('evaluations').columns(['project', 'created_at desc', 'id desc']).execute();
    },
  },
  {
    version: 6,
    name: 'hash-chained audit log',
    async up(db, dialect) {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', sql.raw(dialect.types.bigint), (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('project', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('request_id', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 7,
    name: 'multi-file programs and collected artifacts',
    async up(db, dialect) {
      const json = sql.raw(dialect.types.json);
      // The program as given: files (JSON array of {path, content, encoding}), entrypoint, command.
      await db.schema.alterTable('evaluation_payloads').addColumn('files', json).execute();
      await db.schema.alterTable('evaluation_payloads').addColumn('entrypoint', 'text').execute();
      await db.schema.alterTable('evaluation_payloads').addColumn('command', json).execute();
      // What the collection left behind: {dropped: [...], dropped_more}; null = nothing collected.
      await db.schema.alterTable('evaluation_payloads').addColumn('artifacts_dropped', json).execute();
      await db.schema
        .createTable('evaluation_artifacts')
        .addColumn('evaluation_id', 'text', (c) => c.notNull().references('evaluations.id').onDelete('cascade'))
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('size_bytes', sql.raw(dialect.types.bigint), (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('content', sql.raw(dialect.types.bytes), (c) => c.notNull())
        .addPrimaryKeyConstraint('evaluation_artifacts_pk', ['evaluation_id', 'path'])
        .execute();
    },
  },
  {
    version: 8,
    name: 'sessions and their events',
    async up(db, dialect) {
      const bigint = sql.raw(dialect.types.bigint);
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('ended_reason', 'text')
        .addColumn('message', 'text')
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('sandbox', 'text', (c) => c.notNull())
        // JSON text, as written (the same in both databases).
        .addColumn('limits', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('worker', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('ready_at', bigint)
        .addColumn('ended_at', bigint)
        .addColumn('last_activity_at', bigint, (c) => c.notNull())
        .addColumn('last_seq', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_created').on('sessions').columns(['created_at desc', 'id desc']).execute();
      await db.schema.createIndex('sessions_status').on('sessions').columns(['status', 'worker']).execute();
      await db.schema
        .createTable('session_events')
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', bigint, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_events_pk', ['session_id', 'seq'])
        .execute();
    },
  },
  {
    version: 9,
    name: 'project quotas; per-project usage indexes',
    async up(db, dialect) {
      await db.schema
        .createTable('project_quotas')
        .addColumn('project', 'text', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('updated_at', sql.raw(dialect.types.bigint), (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
      // Quota checks on every submission: a project's queued/running count, and its CPU used today.
      await db.schema.createIndex('evaluations_project_status').on('evaluations').columns(['project', 'status']).execute();
      await db.schema.createIndex('evaluations_project_finished').on('evaluations').columns(['project', 'finished_at']).execute();
    },
  },
  {
    version: 10,
    name: 'evaluation name and code title (telling runs apart in listings)',
    async up(db) {
      await db.schema.alterTable('evaluations').addColumn('name', 'text').execute();
      await db.schema.alterTable('evaluations').addColumn('code_title', 'text').execute();
      // Existing evaluations get their title from their code, a page at a time (keyset order).
      let after = '';
      for (;;) {
        const page = await db
          .selectFrom('evaluation_payloads')
          .select(['evaluation_id', 'code'])
          .where('evaluation_id', '>', after)
          .orderBy('evaluation_id')
          .limit(BACKFILL_PAGE)
          .execute();
        for (const row of page) {
          await db
            .updateTable('evaluations')
            .set({ code_title: codeTitle(row.code) })
            .where('id', '=', row.evaluation_id)
            .execute();
        }
        if (page.length < BACKFILL_PAGE) break;
        after = page[page.length - 1]!.evaluation_id;
      }
    },
  },
  {
    version: 11,
    name: 'web sessions (cookie sign-in with OpenID Connect or an API key)',
    async up(db, dialect) {
      const bigint = sql.raw(dialect.types.bigint);
      await db.schema
        .createTable('web_sessions')
        .addColumn('id_sha256', 'text', (c) => c.primaryKey())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('expires_at', bigint, (c) => c.notNull())
        .addColumn('revoked_at', bigint)
        .execute();
      // The periodic purge of ended sessions.
      await db.schema.createIndex('web_sessions_expires').on('web_sessions').column('expires_at').execute();
    },
  },
  {
    version: 12,
    name: 'outputs over one piece stored as piece rows (output-pieces.ts)',
    async up(db, dialect) {
      await db.schema
        .alterTable('evaluation_payloads')
        .addColumn('output_in_pieces', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('evaluation_output_pieces')
        .addColumn('evaluation_id', 'text', (c) => c.notNull().references('evaluations.id').onDelete('cascade'))
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('bytes', sql.raw(dialect.types.bytes))
        .addPrimaryKeyConstraint('evaluation_output_pieces_pk', ['evaluation_id', 'stream', 'seq'])
        .execute();
      await moveLargeOutputsToPieces(db);
    },
  },
];

const BACKFILL_PAGE = 500;

/**
 * Brings the schema up to date (or up to `upTo`, for tests that write rows as an older version
 * did). Safe to run from several processes at once.
 */
export async function migrate(db: Db, dialect: StoreDialect, upTo = Number.POSITIVE_INFINITY): Promise<void> {
  await dialect.withMigrationLock(db, async (locked) => {
    await locked.schema
      .createTable('crucible_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', sql.raw(dialect.types.bigint), (c) => c.notNull())
      .execute();
    const applied = new Set((await locked.selectFrom('crucible_migrations').select('version').execute()).map((r) => Number(r.version)));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version) || migration.version > upTo) continue;
      await migration.up(locked, dialect);
      await locked.insertInto('crucible_migrations').values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
    }
  });
}
