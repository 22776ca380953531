/**
 * Everything that differs between SQLite and PostgreSQL, behind one small interface, so the store
 * (the storage modules) and the migrations are written once. Each dialect lives in its own file.
 */
import type { Expression, ExpressionBuilder, Kysely, SelectQueryBuilder, SqlBool, Transaction } from 'kysely';
import type { Database } from './schema.js';

export interface ColumnTypes {
  /** Epoch milliseconds. */
  bigint: string;
  float: string;
  bool: string;
  json: string;
  /** The `evaluations.tags` column. */
  tags: string;
  /** Raw bytes (binary stdin, output that is not UTF-8). */
  bytes: string;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type EvaluationsEb = ExpressionBuilder<Database, 'evaluations'>;
/** A query over evaluations (possibly joined to more tables) that filters can still be added to. */
export type EvaluationsSelect = SelectQueryBuilder<Database, 'evaluations', object>;

export interface TagSelection {
  /** A condition true when the evaluation carries every one of the tags: for a page, newest first. */
  where: (eb: EvaluationsEb) => Expression<SqlBool>;
  /**
   * The same evaluations as the query a bounded count starts from (the caller adds its other
   * filters and a LIMIT). Counting walks rows until the limit: where the dialect can start from
   * the tags' own rows instead of the evaluations', it does.
   */
  countFrom: () => EvaluationsSelect;
}

export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres';
  readonly types: ColumnTypes;
  encodeBool(value: boolean): unknown;
  encodeTags(tags: string[]): unknown;

  /** DDL for how tags are indexed (called by the first migration). */
  createTagIndexes(db: Db): Promise<void>;
  /** Stores tags outside the row where the dialect needs it (SQLite's tag table); else nothing. */
  insertTags(trx: Tx, rows: { id: string; tags: string[]; created_at: number }[]): Promise<void>;
  /**
   * The evaluations carrying every one of `tags`, in the two forms a listing needs, from one look
   * at the data (async so a dialect may look first to pick the faster form).
   */
  tagSelection(db: Db, tags: string[]): Promise<TagSelection>;
  /** The tags as one searchable text value. */
  tagsText(eb: EvaluationsEb): Expression<string>;
  /** A top-level metadata value as text (`key` is a plain word: see MetadataFilter), null if absent. */
  metadataText(eb: EvaluationsEb, key: string): Expression<string | null>;
  /** Case-insensitive `value LIKE pattern` with `\` as the escape character. */
  like(value: Expression<string>, pattern: string): Expression<SqlBool>;

  /** Runs the migrations callback holding a lock that other processes also take. */
  withMigrationLock<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T>;

  isUniqueViolation(err: unknown): boolean;
  /** The database is unreachable or overloaded (the caller should retry later, HTTP 503). */
  isUnavailable(err: unknown): boolean;
  /** The write failed for lack of space (a full disk): reads still work, writes will once space returns (HTTP 507). */
  isOutOfSpace(err: unknown): boolean;
  /** The database accepts reads but refuses every write (e.g. a read-only replica or a read-only transaction default). */
  isReadOnly(err: unknown): boolean;
}
