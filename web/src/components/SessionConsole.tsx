/**
 * A small console on a ready session: run one line through `sh -c` or as Python, see how it ended
 * and its output (bytes exactly: binary as hex). Each run also lands in the session's timeline.
 */
import { useId, useState, type FormEvent } from 'react';
import type { ExecResult, SessionInfo } from '../../../src/client/index';
import { SESSION_BOUNDS } from '../../../src/domain/session';
import { api, ApiError } from '../lib/api-client';
import { consoleExec, type ConsoleMode } from '../lib/session-view';
import { ExecVerdict } from './ExecVerdict';
import { SessionOutput } from './SessionOutput';

export function SessionConsole({ session }: { session: SessionInfo }) {
  const ids = useId();
  const [mode, setMode] = useState<ConsoleMode>('shell');
  const [line, setLine] = useState('');
  const [timeoutS, setTimeoutS] = useState(String(SESSION_BOUNDS.exec_timeout_s.default));
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<{ command: string; result: ExecResult } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (e: FormEvent) => {
    e.preventDefault();
    if (!line.trim() || running) return;
    setRunning(true);
    setError(null);
    try {
      const r = await api.sessionExec(session, consoleExec(mode, line, Number(timeoutS) || SESSION_BOUNDS.exec_timeout_s.default));
      setResult({ command: line, result: r });
    } catch (err) {
      setError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setRunning(false);
    }
  };

  const b = SESSION_BOUNDS.exec_timeout_s;
  return (
    <section className="card session-console" aria-labelledby={`${ids}-title`}>
      <h2 className="card-title" id={`${ids}-title`}>
        Console
      </h2>
      <form className="session-console-form" onSubmit={run}>
        <div className="field session-console-line">
          <label htmlFor={`${ids}-line`}>{mode === 'shell' ? 'Command (run with sh -c)' : 'Python code (run with python3 -c)'}</label>
          {mode === 'shell' ? (
            <input
              id={`${ids}-line`}
              className="mono"
              value={line}
              onChange={(e) => setLine(e.target.value)}
              placeholder="ls -la"
              spellCheck={false}
              autoComplete="off"
              autoCapitalize="off"
              data-testid="console-input"
            />
          ) : (
            <textarea
              id={`${ids}-line`}
              className="mono"
              rows={4}
              value={line}
              onChange={(e) => setLine(e.target.value)}
              onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void run(e)}
              placeholder="print('hello')"
              spellCheck={false}
              data-testid="console-input"
            />
          )}
        </div>
        <div className="session-console-options">
          <div className="field">
            <label htmlFor={`${ids}-mode`}>Run as</label>
            <select id={`${ids}-mode`} value={mode} onChange={(e) => setMode(e.target.value as ConsoleMode)}>
              <option value="shell">Shell</option>
              <option value="python">Python</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${ids}-timeout`}>Timeout (s)</label>
            <input
              id={`${ids}-timeout`}
              type="number"
              min={b.min}
              max={b.max}
              step="any"
              inputMode="decimal"
              value={timeoutS}
              onChange={(e) => setTimeoutS(e.target.value)}
            />
          </div>
          <button type="submit" className="btn btn-primary" disabled={running || !line.trim()} data-testid="console-run">
            {running ? 'Running…' : 'Run'}
          </button>
        </div>
      </form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div aria-live="polite">
        {result && (
          <div className="session-console-result" data-testid="console-result">
            <p className="session-event-line">
              <ExecVerdict
                reason={result.result.reason}
                exit_code={result.result.exit_code}
                signal={result.result.signal}
                wallMs={result.result.metrics.wall_ms}
              />
            </p>
            {result.result.reason !== 'completed' && result.result.reason !== 'nonzero_exit' && <p className="small muted">{result.result.message}</p>}
            <SessionOutput stream="stdout" base64={result.result.stdout_base64} truncated={result.result.stdout_truncated} testId="console-stdout" />
            <SessionOutput stream="stderr" base64={result.result.stderr_base64} truncated={result.result.stderr_truncated} testId="console-stderr" />
          </div>
        )}
      </div>
    </section>
  );
}
