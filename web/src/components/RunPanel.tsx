/**
 * Everything about one run, live: status as it moves, Kill while it runs, CPU/memory charts,
 * stdout and stderr streaming in, and the exit card once it is over. Used by the editor (for the
 * run just submitted) and by the evaluation detail page.
 */
import { useLayoutEffect, useMemo, useState, type ReactNode } from 'react';
import { isTerminal, type Evaluation, type TerminalStatus } from '../../../src/domain/evaluation';
import { api, ApiError } from '../lib/api-client';
import { useNow } from '../lib/clock';
import { useAfterPaint } from '../lib/use-after-paint';
import { useConfig } from '../lib/config';
import { formatDuration } from '../lib/format';
import { outputFromString } from '../lib/output-text';
import type { RunExit } from '../lib/run-state';
import { useEvaluationStream } from '../lib/use-evaluation-stream';
import { ArtifactsPanel } from './ArtifactsPanel';
import { ExitCard } from './ExitCard';
import { OutputPane } from './OutputPane';
import { RunMetrics } from './RunMetrics';
import { StatusBadge } from './StatusBadge';
import { StatusTimeline } from './StatusTimeline';

interface Props {
  id: string;
  /** The evaluation as last fetched (limits, timestamps; final data if it is already over). */
  evaluation: Evaluation | null;
  /**
   * Called when the stream reports `done`, so the owner can refetch the final record. Called
   * before the browser paints the exit card, so what the owner shows (the editor's Run button)
   * changes in the same frame.
   */
  onFinished?: () => void;
  onCancelled?: (e: Evaluation) => void;
  header?: ReactNode;
}

function exitFromEvaluation(e: Evaluation): RunExit {
  return { exit_code: e.exit_code, signal: e.signal, reason: e.reason, message: e.message, metrics: e.metrics };
}

export function RunPanel({ id, evaluation, onFinished, onCancelled, header }: Props) {
  const { state, connected } = useEvaluationStream(id);
  const config = useConfig();
  const [killing, setKilling] = useState(false);
  const [killError, setKillError] = useState<string | null>(null);

  const snapshotFinal = evaluation && isTerminal(evaluation.status) ? evaluation : null;
  // The stream is the live truth; a terminal snapshot fills in instantly while its history replays.
  const status = state.exit ? state.status : (snapshotFinal?.status ?? state.status ?? evaluation?.status ?? null);
  const exit: RunExit | null = state.exit ?? (snapshotFinal ? exitFromEvaluation(snapshotFinal) : null);
  const useSnapshotOutput = !state.exit && snapshotFinal !== null;
  // Memoised so the panes see the same value on every render and do not re-read it.
  const snapshotStdout = useMemo(() => outputFromString(snapshotFinal?.stdout ?? ''), [snapshotFinal?.stdout]);
  const snapshotStderr = useMemo(() => outputFromString(snapshotFinal?.stderr ?? ''), [snapshotFinal?.stderr]);
  const stdout = useSnapshotOutput ? snapshotStdout : state.stdout;
  const stderr = useSnapshotOutput ? snapshotStderr : state.stderr;
  const stdoutTruncated = useSnapshotOutput ? snapshotFinal.stdout_truncated : state.stdoutTruncated;
  const stderrTruncated = useSnapshotOutput ? snapshotFinal.stderr_truncated : state.stderrTruncated;
  const running = status !== null && !isTerminal(status);

  useLayoutEffect(() => {
    if (state.exit) onFinished?.();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.exit !== null]);

  const now = useNow(running ? 250 : null);
  const painted = useAfterPaint();
  const runningStep = state.steps.find((s) => s.status === 'running');
  const startedAt = runningStep?.at ?? evaluation?.started_at ?? null;
  const elapsed = running && startedAt ? now - Date.parse(startedAt) : null;

  const kill = async () => {
    setKilling(true);
    setKillError(null);
    try {
      const e = await api.cancel(id);
      onCancelled?.(e);
    } catch (err) {
      // Finishing on its own between the click and the request is not an error worth showing.
      if (!(err instanceof ApiError && err.code === 'already_terminal')) setKillError(err instanceof Error ? err.message : String(err));
    } finally {
      setKilling(false);
    }
  };

  const limits = evaluation?.limits;
  const streams = [
    { tone: 'stdout', output: stdout, truncated: stdoutTruncated, emptyText: running ? 'Waiting for output…' : '(no output)', height: undefined },
    { tone: 'stderr', output: stderr, truncated: stderrTruncated, emptyText: running ? 'Nothing on stderr yet' : '(nothing on stderr)', height: 180 },
  ] as const;
  return (
    <section className="run-panel" aria-label="Run" data-testid="run-panel" data-status={status ?? ''}>
      {/* Keeps the outline in order (h1 page, h2 run, h3 verdict and outputs) for screen readers. */}
      <h2 className="sr-only">Run</h2>
      <header className="run-header">
        <div className="run-title">
          <StatusBadge status={status} />
          {header}
          {elapsed !== null && elapsed >= 0 && <span className="muted mono small">{formatDuration(elapsed)}</span>}
          {!connected && running && <span className="pill pill-warn">reconnecting…</span>}
        </div>
        {running && (
          <button type="button" className="btn btn-danger" onClick={kill} disabled={killing} data-testid="kill">
            {killing ? 'Killing…' : 'Kill'}
          </button>
        )}
      </header>
      <div aria-live="polite" className="sr-only">
        {status ? `Status: ${status}` : ''}
      </div>
      {killError && (
        <p className="form-error" role="alert">
          Could not kill: {killError}
        </p>
      )}
      <StatusTimeline steps={state.steps} status={status} />
      {exit && status && isTerminal(status) && <ExitCard exit={exit} status={status as TerminalStatus} guide={config.exit_code_guide} />}
      {/* Artifacts are stored with the verdict: there are some to show once the run is over. */}
      {exit && status && isTerminal(status) && <ArtifactsPanel id={id} />}
      {/* Charts and outputs mount just after the first paint, so the status and verdict come first. */}
      {painted ? (
        <>
          {(running || state.samples.length > 0) && (
            <RunMetrics
              samples={state.samples}
              memoryLimitMb={limits?.memory_mb ?? null}
              cpus={limits?.cpus ?? null}
              running={running}
              endMs={exit?.metrics.wall_ms ?? null}
            />
          )}
          <div className="outputs">
            {streams.map((pane) => (
              <OutputPane
                key={pane.tone}
                title={pane.tone}
                tone={pane.tone}
                output={pane.output}
                truncated={pane.truncated}
                limitBytes={limits?.max_output_bytes}
                emptyText={pane.emptyText}
                fileName={`${id}-${pane.tone}`}
                {...(pane.height ? { height: pane.height } : {})}
              />
            ))}
          </div>
        </>
      ) : (
        <div className="outputs-pending" aria-hidden="true" />
      )}
    </section>
  );
}
