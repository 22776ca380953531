/**
 * One session (/sessions/<id>): its facts and limits, its live timeline (every exec with its
 * output, every file written or read), a console to run commands while it is ready, and "End
 * session" (asks first: ending kills everything running in it).
 */
import { useCallback, useEffect, useState } from 'react';
import type { SessionInfo } from '../../../src/client/index';
import { api, ApiError } from '../lib/api-client';
import { formatDuration, formatMemoryLimit, formatTimestamp } from '../lib/format';
import { Link } from '../lib/router';
import { useSessionEvents } from '../lib/use-session-events';
import { SessionConsole } from '../components/SessionConsole';
import { SessionStatusBadge } from '../components/SessionStatusBadge';
import { SessionTimeline } from '../components/SessionTimeline';
import { TagChips } from '../components/TagChips';
import '../sessions.css';

export function SessionPage({ id }: { id: string }) {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);

  const reload = useCallback(() => {
    api.session(id).then(
      (s) => {
        setSession(s);
        setError(null);
      },
      (err: unknown) => setError(err instanceof Error ? err : new Error(String(err))),
    );
  }, [id]);
  useEffect(reload, [reload]);

  if (!session) {
    return (
      <div className="page">
        <h1 className="page-title mono">{id}</h1>
        {error ? (
          <p className="form-error" role="alert">
            {error instanceof ApiError && error.status === 404 ? 'No session with this id exists (or it belongs to another project).' : error.message}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
        <Link href="/sessions">← Back to sessions</Link>
      </div>
    );
  }
  return <SessionDetail session={session} onChanged={setSession} reload={reload} />;
}

function SessionDetail({ session, onChanged, reload }: { session: SessionInfo; onChanged: (s: SessionInfo) => void; reload: () => void }) {
  const stream = useSessionEvents(session.id, session.status === 'ended');
  const statusEvents = stream.events.filter((e) => e.type === 'status').length;
  // A status event (ready, ended: by an idle timeout, or elsewhere) changes the record: re-read it.
  useEffect(() => {
    if (statusEvents > 0) reload();
  }, [statusEvents, reload]);

  return (
    <div className="page session-page">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link href="/sessions">Sessions</Link> /
          </p>
          <h1 className="page-title mono" data-testid="session-id">
            {session.id}
          </h1>
          <p className="session-head-status">
            <SessionStatusBadge status={session.status} />
            {session.ended_reason && (
              <span className="small" data-testid="session-ended-reason">
                {session.ended_reason}
                {session.message ? <span className="muted"> — {session.message}</span> : null}
              </span>
            )}
          </p>
        </div>
        {session.status !== 'ended' && <EndSession session={session} onEnded={onChanged} />}
      </div>
      <div className="session-grid">
        <div className="session-main">
          {session.status === 'ready' && <SessionConsole session={session} />}
          <section className="card" aria-labelledby="session-timeline-title">
            <h2 className="card-title" id="session-timeline-title">
              Timeline{' '}
              <span className="muted small" aria-live="polite">
                {stream.ended ? `${stream.events.length} events` : stream.connected ? 'live' : 'connecting…'}
              </span>
            </h2>
            <SessionTimeline events={stream.events} />
          </section>
        </div>
        <aside className="session-side">
          <Facts s={session} />
        </aside>
      </div>
    </div>
  );
}

/** "End session", then an inline confirmation: ending kills every process in it and frees its scratch space. */
function EndSession({ session, onEnded }: { session: SessionInfo; onEnded: (s: SessionInfo) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const end = async () => {
    setBusy(true);
    setError(null);
    try {
      onEnded(await api.endSession(session));
      setConfirming(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  if (!confirming) {
    return (
      <div className="actions">
        <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)} data-testid="end-session">
          End session
        </button>
      </div>
    );
  }
  return (
    <div className="session-end-confirm" role="group" aria-label="Confirm ending the session">
      <p className="small">End this session? Every process in it is killed and its files are deleted.</p>
      <div className="actions">
        <button type="button" className="btn" onClick={() => setConfirming(false)} disabled={busy} autoFocus>
          Keep it
        </button>
        <button type="button" className="btn btn-danger" onClick={end} disabled={busy} data-testid="end-session-confirm">
          {busy ? 'Ending…' : 'End it'}
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function Facts({ s }: { s: SessionInfo }) {
  const l = s.limits;
  const meta = Object.keys(s.metadata).length ? JSON.stringify(s.metadata, null, 2) : null;
  return (
    <section className="card" aria-labelledby="session-facts-title">
      <h2 className="card-title" id="session-facts-title">
        Details
      </h2>
      <dl className="facts">
        <dt>Environment</dt>
        <dd>
          {s.environment} · {s.sandbox}
        </dd>
        <dt>Created</dt>
        <dd>{formatTimestamp(s.created_at)}</dd>
        <dt>Ready</dt>
        <dd>{formatTimestamp(s.ready_at)}</dd>
        <dt>Last activity</dt>
        <dd>{formatTimestamp(s.last_activity_at)}</dd>
        <dt>Ended</dt>
        <dd>{s.ended_at ? `${formatTimestamp(s.ended_at)} (${s.ended_reason ?? 'ended'})` : '—'}</dd>
        <dt>Limits</dt>
        <dd>
          {formatMemoryLimit(l.memory_mb)} · {l.cpus} CPU · {l.max_processes} procs · {formatMemoryLimit(l.scratch_mb)} scratch
        </dd>
        <dt>Expires</dt>
        <dd>
          after {formatDuration(l.idle_timeout_s * 1000)} idle, or {formatDuration(l.max_lifetime_s * 1000)} after start
        </dd>
        <dt>Owner</dt>
        <dd>
          <span className="mono small">{s.owner}</span> / {s.project}
        </dd>
        <dt>Worker</dt>
        <dd className="mono small">{s.worker ?? '—'}</dd>
        <dt>Tags</dt>
        <dd>{s.tags.length ? <TagChips tags={s.tags} /> : <span className="muted">none</span>}</dd>
        {meta && (
          <>
            <dt>Metadata</dt>
            <dd>
              <pre className="pre-block small">{meta}</pre>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
