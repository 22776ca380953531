/**
 * The audit trail: records mutating actions and refused authentications in the hash-chained log,
 * lists them for admins, and verifies the chain (any altered, removed or reordered entry breaks
 * it; the first bad entry is named).
 */
import { createHash } from 'node:crypto';
import type { Actor } from '../domain/access.js';
import { auditContent, GENESIS_HASH, type AuditEntry, type AuditVerification, type AuditPage, type AuditQuery, type NewAuditEntry } from '../domain/audit.js';
import type { AuditLog } from '../ports/storage.js';
import { authorize } from './access.js';

export function sealAuditEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(auditContent(entry)).digest('hex');
}

export type AuditVerdict = { ok: true; entries: number } | { ok: false; entries: number; firstBad: number; problem: string };

export class AuditTrail {
  constructor(
    private readonly log: AuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  record(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.log.append(entry, new Date(this.now()).toISOString(), sealAuditEntry);
  }

  async list(actor: Actor, query: AuditQuery): Promise<AuditPage> {
    authorize(actor, 'audit:read');
    const items = await this.log.list({
      afterSeq: query.after,
      limit: query.limit,
      action: query.action,
      actor: query.actor,
      project: query.project,
      outcome: query.outcome,
    });
    return { items, next_after: items.length === query.limit ? items.at(-1)!.seq : null };
  }

  /** The chain's verdict for an admin (GET /api/audit/verify). */
  async verifyFor(actor: Actor): Promise<AuditVerification> {
    authorize(actor, 'audit:read');
    const v = await this.verify();
    return v.ok
      ? { ok: true, entries: v.entries, first_bad: null, problem: null }
      : { ok: false, entries: v.entries, first_bad: v.firstBad, problem: v.problem };
  }

  /** Walks the whole chain in seq order. */
  async verify(): Promise<AuditVerdict> {
    let previous: AuditEntry | null = null;
    let count = 0;
    for (;;) {
      const page = await this.log.list({ afterSeq: previous?.seq ?? 0, limit: 1000 });
      for (const entry of page) {
        const expectedSeq = (previous?.seq ?? 0) + 1;
        const bad = (problem: string): AuditVerdict => ({ ok: false, entries: count, firstBad: entry.seq, problem });
        if (entry.seq !== expectedSeq) return bad(`expected entry ${expectedSeq} next, found ${entry.seq}: entries were removed or renumbered`);
        if (entry.prev_hash !== (previous?.hash ?? GENESIS_HASH))
          return bad('its previous-hash does not match the entry before it: entries were removed, inserted or reordered');
        if (sealAuditEntry(entry) !== entry.hash) return bad('its content does not match its hash: the entry was altered');
        previous = entry;
        count++;
      }
      if (page.length < 1000) return { ok: true, entries: count };
    }
  }
}
