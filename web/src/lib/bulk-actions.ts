/**
 * The batch view's bulk actions over one tag's evaluations: cancel the queued ones, and submit the
 * failed and timed-out ones again (same program, settings, tags; metadata `rerun_of`). Each says
 * what it did, including what changed under it (a queued run that started before its cancel).
 */
import type { EvaluationStatus, EvaluationSummary } from '../../../src/domain/evaluation';
import { REQUEST_BOUNDS } from '../../../src/domain/limits';
import { api, ApiError } from './api-client';
import { rerunRequest } from './draft-request';

export const RERUN_STATUSES: readonly EvaluationStatus[] = ['failed', 'timeout'];

async function collect(tag: string, status: readonly EvaluationStatus[]): Promise<EvaluationSummary[]> {
  const rows: EvaluationSummary[] = [];
  for await (const e of api.listAll({ tags: [tag], status, limit: 200 })) rows.push(e);
  return rows;
}

export async function cancelQueued(tag: string): Promise<string> {
  const queued = await collect(tag, ['queued']);
  let cancelled = 0;
  let ended = 0;
  for (const e of queued) {
    try {
      await api.cancel(e.id);
      cancelled++;
    } catch (err) {
      // It ended (or started and ended) between the listing and the cancel: nothing left to do.
      if (err instanceof ApiError && err.status === 409) ended++;
      else throw err;
    }
  }
  if (queued.length === 0) return 'Nothing was queued: nothing to cancel.';
  return `Cancelled ${cancelled} queued evaluation${cancelled === 1 ? '' : 's'}${ended ? `; ${ended} had already ended` : ''}.`;
}

export async function rerunFailed(tag: string): Promise<{ message: string; ids: string[] }> {
  const failed = await collect(tag, RERUN_STATUSES);
  if (failed.length === 0) return { message: 'No failed or timed-out evaluation: nothing to re-run.', ids: [] };
  const ids: string[] = [];
  // The batch endpoint is all-or-nothing per call, at most batch_size programs each.
  for (let i = 0; i < failed.length; i += REQUEST_BOUNDS.batch_size) {
    const full = await Promise.all(failed.slice(i, i + REQUEST_BOUNDS.batch_size).map((e) => api.get(e.id)));
    ids.push(...(await api.batch(full.map(rerunRequest))));
  }
  return {
    message: `Re-submitted ${ids.length} failed or timed-out evaluation${ids.length === 1 ? '' : 's'} as new runs with the same settings and tags.`,
    ids,
  };
}
