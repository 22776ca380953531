/** Assertions on the CrucibleErrors use cases and the API edge throw (code and HTTP status). */
import { expect } from 'vitest';
import type { ErrorCode } from '../../src/domain/error-codes.js';
import { CrucibleError } from '../../src/domain/errors.js';

/** Awaits `promise` and asserts it rejects with a CrucibleError of this code and HTTP status. */
export async function expectCrucibleError(promise: Promise<unknown>, code: ErrorCode, httpStatus: number): Promise<CrucibleError> {
  const err: unknown = await promise.then(
    () => new Error(`expected a CrucibleError ${code}, but it resolved`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrucibleError);
  const crucible = err as CrucibleError;
  expect({ code: crucible.code, httpStatus: crucible.httpStatus }).toEqual({ code, httpStatus });
  return crucible;
}

/** The same for a synchronous call. */
export function expectThrowsCrucible(call: () => unknown, code: ErrorCode, httpStatus: number): Promise<CrucibleError> {
  return expectCrucibleError(Promise.resolve().then(call), code, httpStatus);
}
