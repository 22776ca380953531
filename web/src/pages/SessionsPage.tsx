/**
 * Every session (long-lived sandbox) the caller may see, newest first, with a status filter kept
 * in the URL. Sessions have no global event feed, so the list is re-read every few seconds while
 * the page is open (and visible).
 */
import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../../src/client/index';
import { SESSION_STATUSES, type SessionStatus } from '../../../src/domain/session';
import { api, ApiError } from '../lib/api-client';
import { formatMemoryLimit } from '../lib/format';
import { navigate, sessionPath, Link, useLocation } from '../lib/router';
import { RelativeTime } from '../components/RelativeTime';
import { SessionStatusBadge, SESSION_STATUS_LABELS } from '../components/SessionStatusBadge';
import { TagChips } from '../components/TagChips';
import '../sessions.css';

const REFRESH_MS = 4000;
const LIMIT = 200;

export function statusFromSearch(search: string): SessionStatus | undefined {
  const s = new URLSearchParams(search).get('status');
  return SESSION_STATUSES.find((x) => x === s);
}

/** Owner and project mean something only where keys are in use (with auth off everything is "anonymous"). */
export const showsOwners = (items: readonly SessionInfo[]) => items.some((s) => s.owner !== 'anonymous');

export function SessionsPage() {
  const { search } = useLocation();
  const status = statusFromSearch(search);
  const [items, setItems] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      api.sessions(status, LIMIT, ctrl.signal).then(
        (list) => {
          setItems(list.items);
          setError(null);
        },
        (err: unknown) => {
          if (!ctrl.signal.aborted) setError(err instanceof ApiError ? err.message : String(err));
        },
      );
    };
    const tick = () => {
      if (document.visibilityState === 'visible') load();
      timer = setTimeout(tick, REFRESH_MS);
    };
    setItems(null);
    load();
    timer = setTimeout(tick, REFRESH_MS);
    return () => {
      ctrl.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [status]);

  const owners = items ? showsOwners(items) : false;
  const setStatus = (s: SessionStatus | undefined) => navigate(`/sessions${s ? `?status=${s}` : ''}`, { replace: true });
  return (
    <div className="page sessions-page">
      <div className="page-head">
        <h1 className="page-title">Sessions</h1>
        <span className="muted small" aria-live="polite">
          {items === null ? 'Loading…' : `${items.length}${items.length >= LIMIT ? '+' : ''} session${items.length === 1 ? '' : 's'}`}
        </span>
      </div>
      <p className="muted small sessions-intro">
        Long-lived sandboxes that agents run commands in (POST /api/sessions, the SDKs, or <span className="mono">crucible</span>). Open one for its timeline
        and a console.
      </p>
      <fieldset className="field status-filter sessions-filter">
        <legend>Status</legend>
        <div className="toggle-group">
          <button type="button" className="toggle" aria-pressed={status === undefined} onClick={() => setStatus(undefined)}>
            All
          </button>
          {SESSION_STATUSES.map((s) => (
            <button key={s} type="button" className="toggle" aria-pressed={status === s} onClick={() => setStatus(s)}>
              {SESSION_STATUS_LABELS[s]}
            </button>
          ))}
        </div>
      </fieldset>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="data-table sessions-table" data-testid="sessions-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Session</th>
              <th scope="col" className="col-env">
                Environment
              </th>
              <th scope="col" className="col-when">
                Age
              </th>
              <th scope="col" className="col-tags">
                Tags
              </th>
              {owners && (
                <th scope="col" className="col-owner">
                  Owner / project
                </th>
              )}
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((s) => (
              <SessionRow key={s.id} s={s} owners={owners} />
            ))}
            {items !== null && items.length === 0 && (
              <tr>
                <td colSpan={owners ? 7 : 6} className="empty">
                  {status ? `No ${SESSION_STATUS_LABELS[status].toLowerCase()} sessions.` : 'No sessions yet.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SessionRow({ s, owners }: { s: SessionInfo; owners: boolean }) {
  return (
    <tr data-id={s.id} data-status={s.status}>
      <td>
        <SessionStatusBadge status={s.status} />
      </td>
      <td>
        <Link href={sessionPath(s.id)} className="row-link mono">
          {s.id}
        </Link>
        <span className="muted small row-sub">
          {s.sandbox} · {formatMemoryLimit(s.limits.memory_mb)}
        </span>
      </td>
      <td className="col-env">{s.environment}</td>
      <td className="col-when">
        <RelativeTime iso={s.created_at} />
      </td>
      <td className="col-tags">
        <TagChips tags={s.tags} />
      </td>
      {owners && (
        <td className="col-owner small">
          <span className="mono">{s.owner}</span> / {s.project}
        </td>
      )}
      <td className="small" data-testid="ended-reason">
        {s.ended_reason ?? <span className="muted">—</span>}
      </td>
    </tr>
  );
}
