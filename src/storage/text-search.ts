/**
 * The list's `q` filter: a case-insensitive substring of the id, the name, a tag, the code, the
 * output (stdout, stderr) or the ending message; and the `meta` filter on metadata values. It has no
 * index (substring matches over code and output), so both only look at the newest SEARCH_WINDOW evaluations,
 * keeping a search to a bounded index range instead of a scan of the whole history.
 */
import type { Expression, SqlBool } from 'kysely';
import type { Db, EvaluationsEb, StoreDialect } from './dialect.js';
import { piecesMatch } from './output-pieces.js';

export const SEARCH_WINDOW = 20_000;

/** Creation time of the SEARCH_WINDOW-th newest evaluation; null if there are fewer. */
export async function searchFloor(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom('evaluations')
    .select('created_at')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .offset(SEARCH_WINDOW - 1)
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.created_at) : null;
}

/** The condition for `q`, the user's text. */
export function textMatch(dialect: StoreDialect, eb: EvaluationsEb, q: string): Expression<SqlBool> {
  const pattern = likePattern(q);
  // Payload columns as correlated scalar subqueries, probed per candidate row by primary key; as
  // an EXISTS inside OR, PostgreSQL may instead hash the whole payload table.
  const payload = (column: 'code' | 'stdout' | 'stderr') =>
    eb
      .selectFrom('evaluation_payloads')
      .select(`evaluation_payloads.${column}`)
      .whereRef('evaluation_payloads.evaluation_id', '=', 'evaluations.id') as unknown as Expression<string>;
  return eb.or([
    dialect.like(eb.ref('evaluations.id'), pattern),
    dialect.like(eb.fn.coalesce('evaluations.name', eb.val('')), pattern),
    dialect.like(eb.fn.coalesce('evaluations.message', eb.val('')), pattern),
    dialect.like(dialect.tagsText(eb), pattern),
    dialect.like(payload('code'), pattern),
    dialect.like(payload('stdout'), pattern),
    dialect.like(payload('stderr'), pattern),
    // A match may start in one piece and end in the next: q's characters but one reach into it.
    piecesMatch(dialect, eb, pattern, [...q].length - 1),
  ]);
}

/** Every `key=value` of the `meta` filter: the metadata's top-level value, as text, equals value. */
export function metadataMatch(dialect: StoreDialect, eb: EvaluationsEb, pairs: ReadonlyArray<{ key: string; value: string }>): Expression<SqlBool> {
  return eb.and(pairs.map((p) => eb(dialect.metadataText(eb, p.key), '=', p.value)));
}

/** `q` as a LIKE pattern matching it anywhere, with LIKE's own characters escaped. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
