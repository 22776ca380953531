/**
 * A session's transcript: every event of its log in order — status changes, each exec with its
 * command, how it ended and its output, each file written or read with its size and SHA-256.
 */
import { ExecEventData, FileEventData, SessionStatusEventData, type SessionEvent } from '../../../src/domain/session';
import { formatBytes, formatTimestamp } from '../lib/format';
import { formatArgv } from '../lib/session-view';
import { ExecVerdict } from './ExecVerdict';
import { SessionOutput } from './SessionOutput';

export function SessionTimeline({ events }: { events: readonly SessionEvent[] }) {
  if (events.length === 0) return <p className="muted small">No events yet.</p>;
  return (
    <ol className="session-timeline" data-testid="session-timeline">
      {events.map((e) => (
        <li key={e.seq} className={`session-event session-event-${e.type}`} data-type={e.type} data-seq={e.seq}>
          <div className="session-event-meta">
            <span className="mono small muted">#{e.seq}</span>
            <time className="small muted" dateTime={e.at}>
              {formatTimestamp(e.at)}
            </time>
          </div>
          <EventBody event={e} />
        </li>
      ))}
    </ol>
  );
}

function EventBody({ event }: { event: SessionEvent }) {
  switch (event.type) {
    case 'status': {
      const d = SessionStatusEventData.safeParse(event.data).data;
      if (!d) return <Unreadable />;
      return (
        <p className="session-event-line">
          <strong>{d.status === 'ready' ? 'Ready' : d.status === 'ended' ? 'Ended' : 'Starting'}</strong>
          {d.ended_reason && <span className="mono small"> {d.ended_reason}</span>}
          {d.message && <span className="muted small"> — {d.message}</span>}
        </p>
      );
    }
    case 'exec': {
      const d = ExecEventData.safeParse(event.data).data;
      return d ? <ExecEvent d={d} seq={event.seq} /> : <Unreadable />;
    }
    case 'file_write':
    case 'file_read': {
      const d = FileEventData.safeParse(event.data).data;
      if (!d) return <Unreadable />;
      return (
        <p className="session-event-line">
          <strong>{event.type === 'file_write' ? 'Wrote' : 'Read'}</strong> <span className="mono session-path">{d.path}</span>{' '}
          <span className="small">{formatBytes(d.size)}</span>{' '}
          <span className="mono small muted session-sha" title={`sha256 ${d.sha256}`}>
            sha256 {d.sha256}
          </span>
        </p>
      );
    }
  }
}

function ExecEvent({ d, seq }: { d: ExecEventData; seq: number }) {
  const command = d.cmd ? formatArgv(d.cmd) : null;
  return (
    <div className="session-exec">
      <div className="session-event-line">
        <ExecVerdict reason={d.reason} exit_code={d.exit_code} signal={d.signal} wallMs={d.wall_ms} />
        {d.cwd && <span className="muted small"> · in {d.cwd}</span>}
        {d.stdin_bytes > 0 && <span className="muted small"> · {formatBytes(d.stdin_bytes)} on stdin</span>}
        {d.env_keys.length > 0 && <span className="muted small"> · env {d.env_keys.join(', ')}</span>}
      </div>
      {command !== null ? (
        <pre className="session-command" data-testid="exec-command">
          <span aria-hidden="true">$ </span>
          {command}
        </pre>
      ) : (
        <pre className="session-command" data-testid="exec-command">
          <span className="muted">python3 -c</span>
          {'\n'}
          {d.code}
        </pre>
      )}
      {d.reason !== 'completed' && d.reason !== 'nonzero_exit' && <p className="small muted">{d.message}</p>}
      <SessionOutput stream="stdout" text={d.stdout} totalBytes={d.stdout_bytes} truncated={d.stdout_truncated} testId={`event-${seq}-stdout`} />
      <SessionOutput stream="stderr" text={d.stderr} totalBytes={d.stderr_bytes} truncated={d.stderr_truncated} testId={`event-${seq}-stderr`} />
    </div>
  );
}

function Unreadable() {
  return <p className="muted small">(an event this page cannot read)</p>;
}
