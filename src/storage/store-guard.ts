/** Maps database driver failures to the platform's errors: unreachable → 503, duplicate id → 409. */
import { CrucibleError, conflict, unavailable } from '../domain/errors.js';
import type { StoreDialect } from './dialect.js';

export type StoreGuard = <T>(fn: () => Promise<T>) => Promise<T>;

export function storeGuard(dialect: StoreDialect): StoreGuard {
  return async (fn) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CrucibleError) throw err;
      if (dialect.isUniqueViolation(err)) throw conflict('duplicate_id', 'an evaluation with this id already exists');
      if (dialect.isUnavailable(err)) {
        const e = unavailable('storage_unavailable', `storage is unavailable: ${(err as Error).message}`);
        (e as { cause?: unknown }).cause = err;
        throw e;
      }
      throw err;
    }
  };
}
