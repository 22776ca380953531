/**
 * The batch view of one tag (/tags/<name>): how its evaluations ended (each count links to them
 * in History), p50/p95 run time, the list, and bulk actions — cancel what is queued, re-run what
 * failed — each confirmed first and reported after. Live: refreshes when the status feed reports
 * a change.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EvaluationStatus, EvaluationSummary } from '../../../src/domain/evaluation';
import type { EvaluationSetSummary } from '../../../src/domain/evaluation-set-summary';
import { api, ApiError } from '../lib/api-client';
import { cancelQueued, rerunFailed } from '../lib/bulk-actions';
import { formatDuration } from '../lib/format';
import { filtersToSearch } from '../lib/history-filters';
import { Link, navigate, tagPath } from '../lib/router';
import { useStatusFeed } from '../lib/status-feed';
import { EvaluationTable } from '../components/EvaluationTable';
import { Tile } from '../components/Tile';

const LIST_SIZE = 100;
const REFRESH_DEBOUNCE_MS = 800;

type Action = 'cancel' | 'rerun';

const historyOf = (tag: string, status: EvaluationStatus[] = []) => `/history${filtersToSearch({ tags: [tag], status, q: '' })}`;

export function TagPage({ tag }: { tag: string }) {
  const [summary, setSummary] = useState<EvaluationSetSummary | null>(null);
  const [items, setItems] = useState<EvaluationSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = useCallback(async () => {
    try {
      const [s, page] = await Promise.all([api.summary({ tags: [tag] }), api.list({ tags: [tag], limit: LIST_SIZE })]);
      setSummary(s);
      setItems(page.items);
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }, [tag]);

  useEffect(() => {
    void load();
    return () => {
      if (timer.current !== null) clearTimeout(timer.current);
    };
  }, [load]);

  useStatusFeed(
    (c) => {
      if (!c.tags.includes(tag) || timer.current !== null) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void load();
      }, REFRESH_DEBOUNCE_MS);
    },
    () => void load(),
  );

  const run = async (action: Action) => {
    setConfirming(null);
    setBusy(true);
    setReport(null);
    try {
      setReport(action === 'cancel' ? await cancelQueued(tag) : (await rerunFailed(tag)).message);
    } catch (err) {
      setReport(`Stopped: ${err instanceof ApiError ? err.message : String(err)}`);
    } finally {
      setBusy(false);
      void load();
    }
  };

  const c = summary?.counts;
  const failures = c ? c.failed + c.timeout : 0;
  const d = summary?.duration_ms;
  return (
    <div className="page tag-page">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link href="/history">History</Link> / tag
          </p>
          <h1 className="page-title">
            Batch <span className="chip chip-title">{tag}</span>
          </h1>
        </div>
        <div className="actions">
          <Link className="btn btn-ghost" href={historyOf(tag)}>
            Open in History
          </Link>
        </div>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <section className="tiles" aria-label="Outcomes">
        <Tile label="Evaluations" value={summary?.total} testId="batch-total" href={historyOf(tag)} sub={summary?.sampled ? 'newest 5000 counted' : ''} />
        <Tile label="Passed" value={summary?.passed} testId="batch-passed" href={historyOf(tag, ['completed'])} sub="completed, exit 0" />
        <Tile label="Failed" value={c?.failed} testId="batch-failed" href={historyOf(tag, ['failed'])} tone={c?.failed ? 'bad' : undefined} />
        <Tile label="Timeout" value={c?.timeout} testId="batch-timeout" href={historyOf(tag, ['timeout'])} />
        <Tile label="Cancelled" value={c?.cancelled} testId="batch-cancelled" href={historyOf(tag, ['cancelled'])} />
        <Tile
          label="In flight"
          value={summary?.in_flight}
          testId="batch-in-flight"
          href={historyOf(tag, ['queued', 'provisioning', 'running'])}
          sub={c ? `${c.queued} queued` : ''}
        />
        <Tile
          label="Run time p50 / p95"
          value={d ? `${formatDuration(d.p50)} / ${formatDuration(d.p95)}` : undefined}
          testId="batch-duration"
          sub={d ? `over ${d.count} finished, max ${formatDuration(d.max)}` : ''}
        />
      </section>
      <section className="card bulk-actions" aria-label="Bulk actions">
        <h2 className="card-title">Bulk actions</h2>
        <div className="actions">
          <button type="button" className="btn" disabled={busy || !c?.queued} onClick={() => setConfirming('cancel')} data-testid="bulk-cancel">
            Cancel queued ({c?.queued ?? 0})
          </button>
          <button type="button" className="btn" disabled={busy || failures === 0} onClick={() => setConfirming('rerun')} data-testid="bulk-rerun">
            Re-run failed and timed out ({failures})
          </button>
        </div>
        {confirming && (
          <div className="bulk-confirm" role="alertdialog" aria-label="Confirm" data-testid="bulk-confirm">
            <p>
              {confirming === 'cancel'
                ? `Cancel the ${c?.queued ?? 0} queued evaluation(s) tagged “${tag}”? They will not run.`
                : `Submit the ${failures} failed or timed-out evaluation(s) tagged “${tag}” again, with the same program, settings and tags?`}
            </p>
            <div className="actions">
              <button
                type="button"
                className={`btn ${confirming === 'cancel' ? 'btn-danger' : 'btn-primary'}`}
                onClick={() => void run(confirming)}
                data-testid="bulk-confirm-yes"
              >
                {confirming === 'cancel' ? 'Cancel them' : 'Re-run them'}
              </button>
              <button type="button" className="btn btn-ghost" onClick={() => setConfirming(null)}>
                Keep as is
              </button>
            </div>
          </div>
        )}
        {busy && <p className="muted small">Working…</p>}
        {report && (
          <p className="bulk-report" role="status" data-testid="bulk-report">
            {report}
          </p>
        )}
      </section>
      <EvaluationTable
        items={items}
        testId="batch-table"
        emptyText={summary ? 'No evaluation carries this tag.' : null}
        activeTags={[tag]}
        onTag={(t) => navigate(t === tag ? historyOf(tag) : tagPath(t))}
      />
      {summary && summary.total > items.length && (
        <p className="muted small">
          Showing the newest {items.length} of {summary.total}. <Link href={historyOf(tag)}>All in History →</Link>
        </p>
      )}
    </div>
  );
}
