/**
 * Errors a user can cause, with a stable machine-readable code and the HTTP status the API maps
 * them to. The domain and adapters throw these; the API edge renders them as
 * `{ "error": { "code", "message", "details"? } }`.
 */
import { z } from 'zod';

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export class CrucibleError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) => new CrucibleError(404, 'not_found', `${what} ${id} does not exist`);
export const conflict = (code: string, message: string) => new CrucibleError(409, code, message);
export const badRequest = (code: string, message: string, details?: unknown) => new CrucibleError(400, code, message, details);
export const unavailable = (code: string, message: string, retryAfterS = 1) =>
  new CrucibleError(503, code, message, undefined, retryAfterS);
