/**
 * Shapes of HTTP requests (path parameters, query strings, bodies) that are not domain objects.
 * The responses are the domain's (evaluations, src/domain/system-views.ts).
 */
import { z } from 'zod';
import { EVALUATION_ID_CHARS, EVALUATION_ID_MAX_LENGTH, ProgramSource, queryNumber } from '../domain/evaluation.js';

export const EvaluationIdParams = z.object({
  id: z
    .string()
    .max(EVALUATION_ID_MAX_LENGTH)
    .regex(EVALUATION_ID_CHARS, { message: 'an evaluation id has only letters, digits, _ and - (e.g. ev_01JD8XW2Q3...)' }),
});

/** For routes that take no query parameters: an unknown one is refused rather than ignored. */
export const NoQuery = z.object({}).strict();

export const CreateQuery = z
  .object({
    wait: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'))
      .describe('Hold the request until the evaluation is terminal (at most wait_s, default 60 s)'),
    wait_s: queryNumber('wait_s', { min: 0, max: 600, integer: false }).optional().describe('How long ?wait holds the request; implies wait'),
  })
  .strict()
  .refine((q) => !(q.wait === false && q.wait_s !== undefined && q.wait_s > 0), {
    message: 'wait=false contradicts wait_s (which implies waiting); give one of them',
    path: ['wait'],
  });

export const BatchCreateResponse = z.object({ ids: z.array(z.string()) });

export const EventsQuery = z
  .object({
    after: queryNumber('after', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true })
      .optional()
      .describe('Same as the Last-Event-ID header: resume after this sequence number'),
  })
  .strict();

/** Most buckets one stats request may ask for (storage refuses more than 10 000 outright). */
export const MAX_STATS_BUCKETS = 9000;

export const StatsQuery = z
  .object({
    minutes: queryNumber('minutes', { min: 1, max: 24 * 60, integer: true }).default(15),
    bucket_s: queryNumber('bucket_s', { min: 5, max: 3600, integer: true }).default(60),
  })
  .strict()
  .superRefine((q, ctx) => {
    const buckets = Math.ceil((q.minutes * 60) / q.bucket_s);
    if (buckets > MAX_STATS_BUCKETS) {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket_s'],
        message: `minutes=${q.minutes} with bucket_s=${q.bucket_s} asks for ${buckets} buckets; at most ${MAX_STATS_BUCKETS} (use a larger bucket_s)`,
      });
    }
  });
export const SyntaxCheckRequest = z
  .object({
    code: ProgramSource.describe('Python source to compile'),
  })
  .strict();
