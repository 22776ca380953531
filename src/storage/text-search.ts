/**
 * The list's `q` filter: a case-insensitive substring of the id, the name, a tag or the code. It has no
 * index (substring matches over code), so it only looks at the newest SEARCH_WINDOW evaluations,
 * keeping a search to a bounded index range instead of a scan of the whole history.
 */
import type { Expression, SqlBool } from 'kysely';
import type { Db, EvaluationsEb, StoreDialect } from './dialect.js';

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

/** The condition for `q` (already a LIKE pattern: see likePattern). */
export function textMatch(dialect: StoreDialect, eb: EvaluationsEb, pattern: string): Expression<SqlBool> {
  // The code as a correlated scalar subquery, probed per candidate row by primary key; as an
  // EXISTS inside OR, PostgreSQL may instead hash the whole payload table.
  const code = eb
    .selectFrom('evaluation_payloads')
    .select('evaluation_payloads.code')
    .whereRef('evaluation_payloads.evaluation_id', '=', 'evaluations.id') as unknown as Expression<string>;
  return eb.or([
    dialect.like(eb.ref('evaluations.id'), pattern),
    dialect.like(eb.fn.coalesce('evaluations.name', eb.val('')), pattern),
    dialect.like(dialect.tagsText(eb), pattern),
    dialect.like(code, pattern),
  ]);
}

/** `q` as a LIKE pattern matching it anywhere, with LIKE's own characters escaped. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
