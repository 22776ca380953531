/** The verdict of a finished run: "137 · Memory limit exceeded", the server's explanation, and the totals. */
import { useState } from 'react';
import type { Reason, TerminalStatus } from '../../../src/domain/evaluation';
import type { RunExit } from '../lib/run-state';
import { displayExitCode, exitCodeOrigin, exitStatusText, formatBytes, formatDuration, messageBeyondTitle } from '../lib/format';
import { ExitCodeGuide } from './ExitCodeGuide';
import type { GuideRow } from '../lib/exit-guide';

const TONE: Record<Reason, 'ok' | 'bad' | 'warn' | 'muted'> = {
  exit_zero: 'ok',
  exit_nonzero: 'bad',
  signal: 'bad',
  oom: 'bad',
  timeout: 'warn',
  pids_limit: 'bad',
  output_limit: 'warn',
  cancelled: 'muted',
  platform_error: 'warn',
};

interface Props {
  exit: RunExit;
  status: TerminalStatus | null;
  guide: readonly GuideRow[];
}

export function ExitCard({ exit, status, guide }: Props) {
  const [guideOpen, setGuideOpen] = useState(false);
  const code = displayExitCode(exit);
  const tone = exit.reason ? TONE[exit.reason] : 'muted';
  const message = messageBeyondTitle(exit.message, exit.reason);
  const origin = exitCodeOrigin(exit);
  const cpuShare = exit.metrics.cpu_ms !== null && exit.metrics.wall_ms ? exit.metrics.cpu_ms / exit.metrics.wall_ms : null;
  return (
    <section className={`exit-card tone-${tone}`} aria-label="Exit status" data-testid="exit-card" data-reason={exit.reason ?? ''}>
      <div className="exit-main">
        <div className="exit-text">
          <h3 className="exit-title" data-testid="exit-title">
            {code !== null && <span className="exit-code mono">{code}</span>}
            {code !== null ? exitStatusText(exit).slice(String(code).length) : exitStatusText(exit)}
          </h3>
          {message && <p className="exit-message">{message}</p>}
          <p className="exit-facts muted small">
            {status && <span>status {status}</span>}
            {exit.reason && (
              <span>
                reason <code>{exit.reason}</code>
              </span>
            )}
            {origin && <span>{origin}</span>}
          </p>
        </div>
        <button type="button" className="btn btn-ghost btn-sm exit-explain" onClick={() => setGuideOpen(true)} aria-haspopup="dialog">
          {code !== null ? `What does ${code} mean?` : 'Exit codes explained'}
        </button>
      </div>
      <dl className="exit-metrics">
        <div>
          <dt>Wall time</dt>
          <dd>{formatDuration(exit.metrics.wall_ms)}</dd>
        </div>
        <div>
          <dt>CPU time</dt>
          <dd>
            {formatDuration(exit.metrics.cpu_ms)}
            {cpuShare !== null && <span className="muted small"> ({cpuShare.toFixed(2)} cores avg)</span>}
          </dd>
        </div>
        <div>
          <dt>Peak memory</dt>
          <dd>{formatBytes(exit.metrics.peak_memory_bytes)}</dd>
        </div>
      </dl>
      <ExitCodeGuide open={guideOpen} onClose={() => setGuideOpen(false)} guide={guide} code={code} />
    </section>
  );
}
