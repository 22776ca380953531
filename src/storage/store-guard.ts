/** Maps database driver failures to the platform's errors: unreachable → 503, duplicate id → 409. */
import { CrucibleError, conflict, unavailable } from '../domain/errors.js';
import type { StoreDialect } from './dialect.js';

function withCause(error: CrucibleError, cause: unknown): CrucibleError {
  (error as { cause?: unknown }).cause = cause;
  return error;
}

export type StoreGuard = <T>(fn: () => Promise<T>) => Promise<T>;

export function storeGuard(dialect: StoreDialect): StoreGuard {
  return async (fn) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CrucibleError) throw err;
      if (dialect.isUniqueViolation(err)) throw conflict('duplicate_id', 'an evaluation with this id already exists');
      if (dialect.isOutOfSpace(err)) {
        throw withCause(
          unavailable('storage_full', 'The database has no space left for this write; nothing was changed. Reads still work; retry once space is freed.', 30),
          err,
        );
      }
      if (dialect.isReadOnly(err)) {
        throw withCause(
          unavailable('storage_read_only', 'The database refuses writes right now (read-only); nothing was changed. Reads still work; retry later.', 10),
          err,
        );
      }
      if (dialect.isUnavailable(err)) throw withCause(unavailable('storage_unavailable', `storage is unavailable: ${(err as Error).message}`), err);
      throw err;
    }
  };
}
