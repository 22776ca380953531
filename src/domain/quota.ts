/**
 * Per-project quotas: how much of the platform one project may hold at once (running and queued
 * evaluations, open sessions), how much CPU it may burn per UTC day, and the largest resource
 * limits each role of the project may ask for per evaluation. Unset (null) means unlimited.
 * Pure shapes and the checks that need no I/O; counting usage lives in src/app/quotas.ts.
 */
import { z } from 'zod';
import { ProjectName } from './access.js';
import { LIMIT_BOUNDS, type LimitName, type Limits } from './limits.js';

const count = (what: string) => z.number().int().min(0).max(1_000_000).nullable().describe(what);

/** The largest value of each limit a role may ask for (any limit left out: the platform maximum). */
export const RoleLimitCaps = z
  .object(
    Object.fromEntries(
      Object.entries(LIMIT_BOUNDS).map(([name, b]) => [name, z.number().min(b.min).max(b.max).optional().describe(`${b.description} (${b.unit})`)]),
    ) as {
      [K in LimitName]: z.ZodOptional<z.ZodNumber>;
    },
  )
  .strict();
export type RoleLimitCaps = z.infer<typeof RoleLimitCaps>;

export const QuotaSettings = z
  .object({
    max_running: count('Evaluations of the project provisioning or running at once; more wait in the queue'),
    max_queued: count('Evaluations of the project waiting in the queue; a submission beyond gets 429 quota_exceeded'),
    max_sessions: count('Interactive sessions of the project open at once; one more gets 429 quota_exceeded'),
    cpu_seconds_per_day: count('CPU seconds the project’s evaluations may use per UTC day; once used up, submissions get 429 until midnight UTC'),
    role_limits: z.object({ admin: RoleLimitCaps.optional(), researcher: RoleLimitCaps.optional() }).strict().describe('Largest limits per role'),
  })
  .strict();
export type QuotaSettings = z.infer<typeof QuotaSettings>;

export const UNLIMITED: QuotaSettings = { max_running: null, max_queued: null, max_sessions: null, cpu_seconds_per_day: null, role_limits: {} };

/** PUT body: the fields given replace the stored ones; the others are kept. */
export const QuotaUpdate = QuotaSettings.partial().strict();
export type QuotaUpdate = z.infer<typeof QuotaUpdate>;

export const ProjectQuota = QuotaSettings.extend({
  project: ProjectName,
  updated_at: z.string().nullable().describe('Null: never set (all unlimited)'),
  updated_by: z.string().nullable(),
});
export type ProjectQuota = z.infer<typeof ProjectQuota>;

export const QuotaUsage = z.object({
  running: z.number().int(),
  queued: z.number().int(),
  sessions: z.number().int().nullable().describe('Null where this server has no sessions'),
  cpu_seconds_today: z.number(),
});
export type QuotaUsage = z.infer<typeof QuotaUsage>;

export const ProjectQuotaView = z.object({ quota: ProjectQuota, usage: QuotaUsage });
export type ProjectQuotaView = z.infer<typeof ProjectQuotaView>;

export const ProjectParams = z.object({ project: ProjectName });

/** The first limit over the role's cap, or null: e.g. `memory_mb 4096 > 1024`. */
export function limitOverCap(limits: Limits, caps: RoleLimitCaps | undefined): { name: LimitName; asked: number; cap: number } | null {
  if (!caps) return null;
  for (const name of Object.keys(LIMIT_BOUNDS) as LimitName[]) {
    const cap = caps[name];
    if (cap !== undefined && limits[name] > cap) return { name, asked: limits[name], cap };
  }
  return null;
}

/** Seconds from `nowMs` to the next midnight UTC (when the daily CPU quota starts over). */
export function secondsToUtcMidnight(nowMs: number): number {
  const next = new Date(nowMs);
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((next.getTime() - nowMs) / 1000));
}

export const startOfUtcDay = (nowMs: number) => {
  const d = new Date(nowMs);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime();
};
