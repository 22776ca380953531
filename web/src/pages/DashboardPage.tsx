/**
 * The platform at a glance: queue depth, running count, workers and their load, throughput and
 * failure rate. Polls /api/queue, /api/workers and /api/stats every few seconds (only while the
 * tab is visible) and additionally, debounced, when the status feed says something changed.
 * Both charts start from the server's recent history (/api/stats: finished evaluations per minute
 * from storage, queue depth and running count sampled by the API), so a page load never starts
 * them empty.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LoadHistory, QueueStats, StatsResponse, WorkerView } from '../../../src/domain/system-views';
import type { EvaluationStatus, EvaluationSummary } from '../../../src/domain/evaluation';
import { api } from '../lib/api-client';
import { formatDuration, formatPercent } from '../lib/format';
import { filtersToSearch } from '../lib/history-filters';
import { RelativeTime } from '../components/RelativeTime';
import { evaluationPath, Link } from '../lib/router';
import { runTitle, titleIsName } from '../lib/run-title';
import { useStatusFeed } from '../lib/status-feed';
import { LineChart } from '../components/LineChart';
import { StackedBarChart } from '../components/StackedBarChart';
import { StatusBadge } from '../components/StatusBadge';
import { Tile } from '../components/Tile';

const POLL_MS = 5000;
const FEED_REFRESH_DEBOUNCE_MS = 1000;
const STATS_MINUTES = 15;
const STATS_BUCKET_S = 60;
const MAX_RECENT = 10;

export interface LoadPoint {
  t: number;
  queued: number;
  running: number;
}

/**
 * The queue chart's points: the server's samples, then the numbers the tiles show now, so the
 * line ends where the tiles are (the server samples every couple of seconds). The live point is
 * placed in the server's time, at most one interval after its last sample: a browser clock that
 * runs ahead or behind the server's cannot stretch or fold the line.
 */
export function loadPoints(history: LoadHistory | undefined, live: { queued: number; running: number } | null, now: number): LoadPoint[] {
  const points: LoadPoint[] = (history?.samples ?? []).map((s) => ({ t: Date.parse(s.at), queued: s.queued, running: s.running }));
  if (!live) return points;
  const last = points.at(-1)?.t;
  const t = last === undefined ? now : Math.min(Math.max(now, last), last + (history?.interval_s ?? 0) * 1000);
  return [...points, { t, ...live }];
}

const FINISHED_STATUSES = ['completed', 'failed', 'timeout', 'cancelled'] as const;
const historyWith = (status: readonly EvaluationStatus[]) => `/history${filtersToSearch({ status: [...status], tags: [], q: '' })}`;

type Bucket = StatsResponse['buckets'][number];

/** Finished per minute and the share that failed or timed out, over all buckets. */
export function summariseStats(buckets: readonly Bucket[], bucketS: number) {
  let done = 0;
  let bad = 0;
  for (const b of buckets) {
    done += b.completed + b.failed + b.timeout + b.cancelled;
    bad += b.failed + b.timeout;
  }
  const minutes = (buckets.length * bucketS) / 60;
  return { finished: done, perMinute: minutes > 0 ? done / minutes : 0, failureRate: done > 0 ? bad / done : null };
}

export function DashboardPage() {
  const [queue, setQueue] = useState<QueueStats | null>(null);
  const [workers, setWorkers] = useState<WorkerView[] | null>(null);
  const [stats, setStats] = useState<StatsResponse | null>(null);
  const [recent, setRecent] = useState<EvaluationSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef(false);

  const refresh = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const [q, w, s, r] = await Promise.all([api.queue(), api.workers(), api.stats(STATS_MINUTES, STATS_BUCKET_S), api.list({ limit: MAX_RECENT })]);
      setRecent(r.items);
      setQueue(q);
      setWorkers(w.workers);
      setStats(s);
      setError(null);
      setUpdatedAt(Date.now());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      inFlight.current = false;
    }
  }, []);

  useEffect(() => {
    void refresh();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, POLL_MS);
    return () => {
      clearInterval(t);
      if (debounce.current !== null) clearTimeout(debounce.current);
    };
  }, [refresh]);

  useStatusFeed(
    () => {
      if (debounce.current === null) {
        debounce.current = setTimeout(() => {
          debounce.current = null;
          void refresh();
        }, FEED_REFRESH_DEBOUNCE_MS);
      }
    },
    () => void refresh(),
  );

  const running = queue ? (queue.counts.running ?? 0) + (queue.counts.provisioning ?? 0) : null;
  const alive = workers?.filter((w) => w.alive) ?? [];
  const capacity = alive.reduce((s, w) => s + w.capacity, 0);
  const busy = alive.reduce((s, w) => s + w.running, 0);
  const summary = stats ? summariseStats(stats.buckets, stats.bucket_s) : null;
  const load = loadPoints(stats?.load, queue && running !== null ? { queued: queue.depth, running } : null, updatedAt ?? 0);
  const t0 = load[0]?.t ?? 0;
  const bars = (stats?.buckets ?? []).map((b) => ({
    label: new Date(b.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }),
    completed: b.completed,
    failed: b.failed,
    timeout: b.timeout,
    cancelled: b.cancelled,
  }));

  return (
    <div className="page dashboard-page">
      <div className="page-head">
        <h1 className="page-title">Dashboard</h1>
        <span className="muted small">{updatedAt ? `updated ${new Date(updatedAt).toLocaleTimeString(undefined, { hour12: false })}` : 'loading…'}</span>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <section className="tiles" aria-label="Key numbers">
        <Tile
          label="Queue depth"
          value={queue?.depth}
          testId="tile-queue"
          href={historyWith(['queued'])}
          sub={queue?.oldest_queued_age_ms ? `oldest waiting ${formatDuration(queue.oldest_queued_age_ms)}` : `max ${queue?.max_depth ?? '—'}`}
        />
        <Tile
          label="Running"
          value={running}
          testId="tile-running"
          href={historyWith(['provisioning', 'running'])}
          sub={capacity ? `${busy}/${capacity} slots busy` : 'no live workers'}
        />
        <Tile label="Workers" value={workers ? alive.length : undefined} testId="tile-workers" sub={workers ? `${workers.length - alive.length} stale` : ''} />
        <Tile
          label={`Throughput, last ${STATS_MINUTES} min`}
          href={historyWith(FINISHED_STATUSES)}
          value={summary ? summary.perMinute.toFixed(summary.perMinute < 10 ? 1 : 0) : undefined}
          unit="/min"
          testId="tile-throughput"
          sub={summary ? `${summary.finished} finished` : ''}
        />
        <Tile
          label={`Failure rate, last ${STATS_MINUTES} min`}
          href={historyWith(['failed', 'timeout'])}
          value={summary ? formatPercent(summary.failureRate) : undefined}
          testId="tile-failure"
          sub="failed + timeout / finished"
          tone={summary?.failureRate && summary.failureRate > 0.25 ? 'bad' : undefined}
        />
      </section>
      <section className="dash-charts" aria-label="Charts">
        <div className="card">
          <StackedBarChart
            title={`Finished per minute, last ${STATS_MINUTES} min`}
            layers={[
              { key: 'completed', label: 'Completed', color: 'var(--ok)' },
              { key: 'failed', label: 'Failed', color: 'var(--bad)' },
              { key: 'timeout', label: 'Timeout', color: 'var(--warn)' },
              { key: 'cancelled', label: 'Cancelled', color: 'var(--muted-strong)' },
            ]}
            bars={bars}
            summary={summary ? `${summary.finished} finished, failure rate ${formatPercent(summary.failureRate)}` : 'loading'}
          />
        </div>
        <div className="card" data-testid="load-chart" data-since={load.length > 0 ? new Date(t0).toISOString() : undefined}>
          <LineChart
            title={`Queue and running, last ${STATS_MINUTES} min (live)`}
            series={[
              { label: 'Queued', color: 'var(--warn)', points: load.map((s) => [s.t - t0, s.queued] as const) },
              { label: 'Running', color: 'var(--accent)', points: load.map((s) => [s.t - t0, s.running] as const) },
            ]}
            formatY={(v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))}
            formatX={(ms) => new Date(t0 + ms).toLocaleTimeString(undefined, { hour12: false })}
            minYMax={Math.max(2, capacity)}
            height={150}
            summary={queue ? `${queue.depth} queued, ${running} running` : 'loading'}
          />
        </div>
      </section>
      <div className="dash-bottom">
        <section className="card" aria-label="Workers">
          <h2 className="card-title">Workers</h2>
          <div className="table-wrap">
            <table className="data-table" data-testid="workers-table">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Load</th>
                  <th scope="col" className="col-sandboxes">
                    Sandboxes
                  </th>
                  <th scope="col">Seen</th>
                </tr>
              </thead>
              <tbody>
                {(workers ?? []).map((w) => (
                  <tr key={w.id} className={w.alive ? undefined : 'stale'}>
                    <td>
                      <span className="mono small">{w.id}</span>
                      <span className="muted small row-sub">
                        {w.host} · pid {w.pid}
                      </span>
                    </td>
                    <td>
                      <LoadBar running={w.running} capacity={w.capacity} />
                    </td>
                    <td className="col-sandboxes small">{w.sandboxes.join(', ')}</td>
                    <td className="small">
                      {w.alive ? <span className="pill pill-ok">alive</span> : <span className="pill pill-warn">stale</span>} <RelativeTime iso={w.last_seen} />
                    </td>
                  </tr>
                ))}
                {workers && workers.length === 0 && (
                  <tr>
                    <td colSpan={4} className="empty">
                      No workers registered. Evaluations wait in the queue until one starts.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </section>
        <section className="card" aria-label="Recent evaluations">
          <h2 className="card-title">
            Recent evaluations{' '}
            <Link href="/history" className="small">
              all →
            </Link>
          </h2>
          {recent.length === 0 ? (
            <p className="muted small">No evaluations yet; they appear here as they are submitted.</p>
          ) : (
            <ul className="activity" data-testid="recent-evaluations">
              {recent.map((e) => (
                <li key={e.id}>
                  <StatusBadge status={e.status} />
                  <Link className={`small activity-title${titleIsName(e) ? '' : ' mono'}`} href={evaluationPath(e.id)} title={e.id}>
                    {runTitle(e)}
                  </Link>
                  <RelativeTime iso={e.created_at} />
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

function LoadBar({ running, capacity }: { running: number; capacity: number }) {
  const ratio = capacity > 0 ? Math.min(1, running / capacity) : 0;
  return (
    <div
      className="loadbar"
      role="meter"
      aria-valuemin={0}
      aria-valuemax={capacity}
      aria-valuenow={running}
      aria-label={`${running} of ${capacity} slots busy`}
    >
      <div className="loadbar-track">
        <div className="loadbar-fill" style={{ width: `${ratio * 100}%` }} />
      </div>
      <span className="small mono">
        {running}/{capacity}
      </span>
    </div>
  );
}
