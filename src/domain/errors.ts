/**
 * Errors a user can cause, with a stable machine-readable code and the HTTP status the API maps
 * them to. The domain and adapters throw these; the API edge renders them as
 * `{ "error": { "code", "message", "details"? } }`.
 */
import { z } from 'zod';
import { httpStatusOf, type ErrorCode } from './error-codes.js';

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error a caller can act on; its HTTP status comes from the code's entry in ERROR_CATALOGUE. */
export class CrucibleError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.httpStatus = httpStatusOf(code);
  }
}

export const notFound = (what: string, id: string) => new CrucibleError('not_found', `${what} ${id} does not exist`);
export const conflict = (code: ErrorCode, message: string) => new CrucibleError(code, message);
export const badRequest = (code: ErrorCode, message: string, details?: unknown) => new CrucibleError(code, message, details);
export const unavailable = (code: ErrorCode, message: string, retryAfterS = 1) => new CrucibleError(code, message, undefined, retryAfterS);
