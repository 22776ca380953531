/** Writing numbered events inside a transaction, shared by transitions and plain appends. */
import type { EvaluationEvent, NewEvaluationEvent } from '../domain/events.js';
import type { Tx } from './dialect.js';
import { toMs } from './rows.js';

/** Rows per multi-row INSERT: well under both databases' bound-parameter limits. */
export const INSERT_CHUNK = 100;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags)];
}

/** Inserts `events` numbered from `firstSeq` (claimed by the caller's row UPDATE in the same transaction). */
export async function insertEvents(trx: Tx, id: string, firstSeq: number, events: NewEvaluationEvent[]): Promise<EvaluationEvent[]> {
  const numbered = events.map((e, i) => ({ seq: firstSeq + i, ...e }) as EvaluationEvent);
  for (const chunk of chunks(numbered, INSERT_CHUNK)) {
    await trx
      .insertInto('evaluation_events')
      .values(chunk.map((e) => ({ evaluation_id: id, seq: e.seq, type: e.type, at: toMs(e.at), data: JSON.stringify(e.data) })))
      .execute();
  }
  return numbered;
}
