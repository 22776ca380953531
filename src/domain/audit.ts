/**
 * The audit log's shapes: one entry per mutating action and per refused authentication, chained
 * by hashes (each entry's hash covers its content and the previous entry's hash), so altering,
 * removing or reordering entries is detected by `crucible audit verify`.
 */
import { z } from 'zod';

export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AuditEntry = z.object({
  seq: z.number().int().describe('Position in the log, 1, 2, 3… without gaps'),
  at: z.string().describe('ISO 8601'),
  actor: z.string().describe('API key id, "anonymous" (auth off), "unknown" (refused authentication) or "local-admin" (CLI)'),
  role: z.string().nullable(),
  project: z.string().nullable(),
  action: z.string().describe('e.g. evaluation.submit, evaluation.cancel, key.create, key.revoke, auth.refused'),
  target: z.string().nullable().describe('What was acted on: evaluation or key id(s)'),
  outcome: z.enum(AUDIT_OUTCOMES),
  source: z.string().nullable().describe('Client address'),
  request_id: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** What a caller records; seq, time and hashes are added when it is appended. */
export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'at' | 'prev_hash' | 'hash'>;

/** The content an entry's hash covers, in a fixed order. */
export function auditContent(entry: Omit<AuditEntry, 'hash'>): string {
  return JSON.stringify([
    entry.seq,
    entry.at,
    entry.actor,
    entry.role,
    entry.project,
    entry.action,
    entry.target,
    entry.outcome,
    entry.source,
    entry.request_id,
    entry.detail,
    entry.prev_hash,
  ]);
}

export const GENESIS_HASH = '0'.repeat(64);

export const AuditQuery = z
  .object({
    after: z.coerce.number().int().min(0).optional().describe("Entries after this seq (the previous page's next_after)"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    action: z.string().max(100).optional(),
    actor: z.string().max(100).optional(),
    project: z.string().max(100).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditPage = z.object({ items: z.array(AuditEntry), next_after: z.number().int().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;

export const AuditVerification = z
  .object({
    ok: z.boolean().describe('True: every entry matches its hash and follows the one before it'),
    entries: z.number().int().describe('Entries verified (before the first bad one)'),
    first_bad: z.number().int().nullable().describe('Seq of the first altered, removed or reordered entry'),
    problem: z.string().nullable(),
  })
  .describe('The hash chain checked from the first entry to the newest (as `crucible audit verify`)');
export type AuditVerification = z.infer<typeof AuditVerification>;
