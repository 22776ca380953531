/**
 * History filters live in the URL (/history?status=failed,timeout&tags=a,b&q=x&meta=model=m) so a filtered
 * view can be bookmarked and shared. These functions convert between the two.
 */
import { EVALUATION_STATUSES, type EvaluationStatus } from '../../../src/domain/evaluation';

export interface HistoryFilters {
  status: EvaluationStatus[];
  tags: string[];
  q: string;
  /** Metadata filter as the API takes it: `model=gpt-4o,task=7`. */
  meta?: string;
}

export const emptyFilters: HistoryFilters = { status: [], tags: [], q: '' };

const isStatus = (s: string): s is EvaluationStatus => (EVALUATION_STATUSES as readonly string[]).includes(s);

export function filtersFromSearch(search: string): HistoryFilters {
  const p = new URLSearchParams(search);
  const list = (key: string) =>
    (p.get(key) ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return {
    status: [...new Set(list('status').filter(isStatus))],
    tags: [...new Set(list('tags'))],
    q: p.get('q') ?? '',
    ...(p.get('meta') ? { meta: p.get('meta')! } : {}),
  };
}

export function filtersToSearch(f: HistoryFilters): string {
  const p = new URLSearchParams();
  if (f.status.length) p.set('status', f.status.join(','));
  if (f.tags.length) p.set('tags', f.tags.join(','));
  if (f.q.trim()) p.set('q', f.q.trim());
  if (f.meta?.trim()) p.set('meta', f.meta.trim());
  const s = p.toString().replace(/%2C/g, ',');
  return s ? `?${s}` : '';
}

export function toggleStatus(list: readonly EvaluationStatus[], s: EvaluationStatus): EvaluationStatus[] {
  return list.includes(s) ? list.filter((x) => x !== s) : [...list, s];
}

/** Whether a live status change could belong in the filtered list (text search cannot be judged here). */
export function matchesKnownFilters(f: HistoryFilters, change: { status: EvaluationStatus; tags: readonly string[] }): boolean {
  if (f.status.length && !f.status.includes(change.status)) return false;
  return f.tags.every((t) => change.tags.includes(t));
}
