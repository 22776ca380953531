/** Optional per-query hook for either dialect, on top of kysely's log option. */
import type { LogConfig } from 'kysely';

/** `failed`: the database answered with an error (kysely logs failed queries too). */
export type QueryListener = (sql: string, parameters: readonly unknown[], durationMs: number, failed: boolean) => void;

export function queryLogger(listener: QueryListener | undefined): LogConfig | undefined {
  if (!listener) return undefined;
  return (event) => listener(event.query.sql, event.query.parameters, event.queryDurationMillis, event.level === 'error');
}

// `begin` counts transactions (commit and rollback are `other`).
const OPERATIONS = new Set(['select', 'insert', 'update', 'delete', 'begin']);

/** The statement's kind, from a small fixed set (a bounded metrics label): select, insert, update, delete, begin (a transaction) or other. */
export function queryOperation(sql: string): string {
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'other';
  return OPERATIONS.has(word) ? word : 'other';
}
