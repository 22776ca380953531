/**
 * Every evaluation, newest first, with filters kept in the URL and live status updates from the
 * global event stream. Live changes patch rows in place at once, and a row whose new status
 * leaves the status filter goes away. Anything that needs fresh data from the server (new
 * evaluations, final metrics) triggers one debounced refetch of the first page, however many
 * events arrive; a finished row further down is fetched on its own.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { EVALUATION_STATUSES, isTerminal, type Evaluation, type EvaluationSummary } from '../../../src/domain/evaluation';
import type { StatusChange } from '../../../src/domain/events';
import { api, ApiError } from '../lib/api-client';
import { filtersFromSearch, filtersToSearch, matchesKnownFilters, toggleStatus, type HistoryFilters } from '../lib/history-filters';
import { comparePath } from '../lib/compare';
import { Link, navigate, tagPath, useLocation } from '../lib/router';
import { useStatusFeed } from '../lib/status-feed';
import { toggleTag } from '../lib/tags';
import { EvaluationTable } from '../components/EvaluationTable';
import { statusLabel } from '../components/StatusBadge';
import { FilterBar, FilterText } from '../components/FilterBar';
import { TagInput } from '../components/TagInput';

const PAGE_SIZE = 50;
const LIVE_REFRESH_DEBOUNCE_MS = 800;
const SEARCH_DEBOUNCE_MS = 300;

/** Merges a fresh first page into the loaded rows: updated rows replaced, new ones on top. */
export function mergeHead(current: readonly EvaluationSummary[], head: readonly EvaluationSummary[]): EvaluationSummary[] {
  const fresh = new Map(head.map((e) => [e.id, e]));
  const known = new Set(current.map((e) => e.id));
  const added = head.filter((e) => !known.has(e.id));
  return [...added, ...current.map((e) => fresh.get(e.id) ?? e)];
}

/**
 * A live status change applied to the loaded rows: the row is patched, or removed when its new
 * status is outside the status filter (a "running" list must not keep finished runs).
 */
export function applyStatusChange(
  items: readonly EvaluationSummary[],
  change: Pick<StatusChange, 'id' | 'status' | 'reason'>,
  statusFilter: HistoryFilters['status'],
): EvaluationSummary[] {
  const leaves = statusFilter.length > 0 && !statusFilter.includes(change.status);
  return items.flatMap((e) => (e.id !== change.id ? [e] : leaves ? [] : [{ ...e, status: change.status, reason: change.reason ?? e.reason }]));
}

/** The list row of a full evaluation (what GET /api/evaluations/{id} returns, minus the big fields). */
function toSummary({ code: _c, stdin: _i, stdout: _o, stderr: _e, ...summary }: Evaluation): EvaluationSummary {
  return summary;
}

export function HistoryPage() {
  const { search } = useLocation();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const [items, setItems] = useState<EvaluationSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [total, setTotal] = useState<{ n: number; capped: boolean } | null>(null);
  const [meta, setMeta] = useState(filters.meta ?? '');
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [q, setQ] = useState(filters.q);
  // Runs ticked for comparison, oldest pick first; a third pick replaces the oldest.
  const [picked, setPicked] = useState<string[]>([]);
  const togglePick = useCallback((id: string) => setPicked((cur) => (cur.includes(id) ? cur.filter((x) => x !== id) : [...cur, id].slice(-2))), []);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Rows that finished since the last refresh: they need their final metrics and exit facts.
  const finishedSinceRefresh = useRef(new Set<string>());
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const setFilters = useCallback((f: HistoryFilters) => navigate(`/history${filtersToSearch(f)}`, { replace: true }), []);

  // (Re)load the first page whenever the filters change.
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    api.list({ ...filters, limit: PAGE_SIZE }, ctrl.signal).then(
      (page) => {
        setItems(page.items);
        setCursor(page.next_cursor);
        setTotal({ n: page.total, capped: page.total_capped });
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(err instanceof ApiError ? err.message : String(err));
        setLoading(false);
      },
    );
    return () => ctrl.abort();
  }, [filters]);

  // The search box updates the URL after a pause in typing.
  useEffect(() => {
    if (q === filters.q) return;
    const t = setTimeout(() => setFilters({ ...filtersRef.current, q }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [q, filters.q, setFilters]);

  const refreshHead = useCallback(() => {
    if (refreshTimer.current !== null) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      const finished = [...finishedSinceRefresh.current];
      finishedSinceRefresh.current.clear();
      api.list({ ...filtersRef.current, limit: PAGE_SIZE }).then(
        (page) => {
          setItems((cur) => mergeHead(cur, page.items));
          const inHead = new Set(page.items.map((e) => e.id));
          for (const id of finished.filter((i) => !inHead.has(i))) {
            api.get(id).then(
              (e) => setItems((cur) => cur.map((row) => (row.id === id ? toSummary(e) : row))),
              () => undefined,
            );
          }
        },
        () => undefined, // the connection banner reports outages; keep the rows we have
      );
    }, LIVE_REFRESH_DEBOUNCE_MS);
  }, []);
  useEffect(
    () => () => {
      if (refreshTimer.current !== null) clearTimeout(refreshTimer.current);
    },
    [],
  );

  useStatusFeed((c: StatusChange) => {
    // The rows as last rendered: enough to know whether this evaluation is on screen.
    const known = itemsRef.current.some((e) => e.id === c.id);
    if (known) setItems((cur) => applyStatusChange(cur, c, filtersRef.current.status));
    const stays = filtersRef.current.status.length === 0 || filtersRef.current.status.includes(c.status);
    if (known && stays && isTerminal(c.status)) finishedSinceRefresh.current.add(c.id);
    // Rows that finished need their final metrics; new rows need to appear.
    if (isTerminal(c.status) || (!known && matchesKnownFilters(filtersRef.current, c))) refreshHead();
  }, refreshHead);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await api.list({ ...filters, limit: PAGE_SIZE, cursor });
      setItems((cur) => {
        const ids = new Set(cur.map((e) => e.id));
        return [...cur, ...page.items.filter((e) => !ids.has(e.id))];
      });
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoadingMore(false);
    }
  };

  const anyFilter = filters.status.length > 0 || filters.tags.length > 0 || filters.q !== '' || Boolean(filters.meta);
  return (
    <div className="page history-page">
      <div className="page-head">
        <h1 className="page-title">History</h1>
        <span className="muted small" aria-live="polite">
          {loading ? 'Loading…' : countText(items.length, total)}
        </span>
        <div className="actions">
          {filters.tags.length === 1 && (
            <Link className="btn btn-ghost btn-sm" href={tagPath(filters.tags[0]!)} data-testid="open-tag-view">
              Batch view of “{filters.tags[0]}”
            </Link>
          )}
          <button
            type="button"
            className="btn btn-sm"
            disabled={picked.length !== 2}
            onClick={() => navigate(comparePath(picked[0]!, picked[1]!))}
            data-testid="compare-picked"
            title="Tick two runs to compare them side by side"
          >
            Compare{picked.length ? ` (${picked.length}/2)` : ''}
          </button>
        </div>
      </div>
      <FilterBar>
        <FilterText id="h-q" label="Search" value={q} onChange={setQ} placeholder="name, code, output, message, tag or id" />
        <FilterText
          id="h-meta"
          label="Metadata"
          value={meta}
          onChange={setMeta}
          onBlur={() => meta !== (filters.meta ?? '') && setFilters({ ...filters, meta })}
          onEnter={() => setFilters({ ...filters, meta })}
          placeholder="model=gpt-4o,task=7 (Enter)"
        />
        <fieldset className="field status-filter">
          <legend>Status</legend>
          <div className="toggle-group">
            {EVALUATION_STATUSES.map((s) => (
              <button
                key={s}
                type="button"
                className={`toggle toggle-${s}`}
                aria-pressed={filters.status.includes(s)}
                onClick={() => setFilters({ ...filters, status: toggleStatus(filters.status, s) })}
              >
                {statusLabel(s)}
              </button>
            ))}
          </div>
        </fieldset>
        <div className="field tag-filter">
          <TagInput id="h-tags" label="Tags (all of)" tags={filters.tags} onChange={(tags) => setFilters({ ...filters, tags })} placeholder="filter by tag…" />
        </div>
        {anyFilter && (
          <button
            type="button"
            className="btn btn-ghost btn-sm clear-filters"
            onClick={() => {
              setQ('');
              setMeta('');
              setFilters({ status: [], tags: [], q: '' });
            }}
          >
            Clear filters
          </button>
        )}
      </FilterBar>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <EvaluationTable
        items={items}
        testId="history-table"
        emptyText={loading ? null : anyFilter ? 'No evaluation matches these filters.' : 'No evaluations yet. Run one from the editor.'}
        activeTags={filters.tags}
        onTag={(t) => setFilters({ ...filters, tags: toggleTag(filters.tags, t) })}
        picked={picked}
        onPick={togglePick}
      />
      {cursor && (
        <div className="load-more">
          <button type="button" className="btn" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </div>
  );
}

/** "12 of 340 evaluations": the total over every page, from the server. */
function countText(shown: number, total: { n: number; capped: boolean } | null): string {
  if (!total) return `${shown} evaluation${shown === 1 ? '' : 's'}`;
  const all = `${total.n.toLocaleString()}${total.capped ? '+' : ''}`;
  const noun = total.n === 1 && !total.capped ? 'evaluation' : 'evaluations';
  return shown >= total.n && !total.capped ? `${all} ${noun}` : `${shown} of ${all} ${noun}`;
}
