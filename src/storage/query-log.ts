/** Optional per-query hook for either dialect, on top of kysely's log option. */
import type { LogConfig } from 'kysely';

export type QueryListener = (sql: string, parameters: readonly unknown[], durationMs: number) => void;

export function queryLogger(listener: QueryListener | undefined): LogConfig | undefined {
  if (!listener) return undefined;
  return (event) => listener(event.query.sql, event.query.parameters, event.queryDurationMillis);
}
