/**
 * The shareable page of one evaluation (/evaluations/<id>): its code and settings, its live or
 * final run, and the actions to re-run it or take it back to the editor.
 */
import { useState } from 'react';
import { isTerminal, type Evaluation } from '../../../src/domain/evaluation';
import { api } from '../lib/api-client';
import { openInEditor as replaceDraft } from '../lib/draft';
import { evaluationToDraft, originOf, rerunRequest } from '../lib/draft-request';
import { runTitle } from '../lib/run-title';
import { formatBytes, formatMemoryLimit, formatTimestamp } from '../lib/format';
import { comparePath } from '../lib/compare';
import { evaluationPath, Link, navigate, tagPath } from '../lib/router';
import { useEvaluation } from '../lib/use-evaluation';
import { CodeView } from '../components/CodeView';
import { CompareWith } from '../components/CompareWith';
import { RunPanel } from '../components/RunPanel';

export function EvaluationPage({ id }: { id: string }) {
  const { evaluation, error, reload, set } = useEvaluation(id);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  if (error && !evaluation) {
    return (
      <div className="page">
        <h1 className="page-title">Evaluation {id}</h1>
        <p className="form-error" role="alert">
          {error.status === 404 ? 'No evaluation with this id exists.' : error.message}
        </p>
        <Link href="/history">← Back to history</Link>
      </div>
    );
  }
  if (!evaluation) return <div className="page muted">Loading…</div>;

  const rerun = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const created = await api.create(rerunRequest(evaluation));
      navigate(evaluationPath(created.id));
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const openInEditor = () => {
    replaceDraft(evaluationToDraft(evaluation), evaluation.id);
    navigate('/');
  };

  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // no clipboard permission: the URL bar has the same link
    }
  };

  return (
    <div className="page detail-page">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link href="/history">History</Link> /
          </p>
          <h1 className="page-title mono" data-testid="detail-id">
            {evaluation.id}
          </h1>
          <p className="detail-title" data-testid="detail-title">
            {runTitle(evaluation)}
          </p>
          <Origin e={evaluation} />
        </div>
        <div className="actions">
          <CompareWith id={evaluation.id} tags={evaluation.tags} />
          <button type="button" className="btn btn-ghost" onClick={copyLink}>
            {copied ? 'Link copied' : 'Copy link'}
          </button>
          {/* Same origin, so `download` saves the API's answer as a file instead of opening it. */}
          <a
            className="btn btn-ghost"
            href={`/api/evaluations/${encodeURIComponent(evaluation.id)}`}
            download={`${evaluation.id}.json`}
            data-testid="download-json"
          >
            Download JSON
          </a>
          <button
            type="button"
            className="btn"
            onClick={openInEditor}
            title="Copy this run's code and settings into the editor as a new draft (your current draft can be restored)"
            data-testid="open-in-editor"
          >
            Fork and edit
          </button>
          <button type="button" className="btn btn-primary" onClick={rerun} disabled={busy} data-testid="rerun">
            {busy ? 'Submitting…' : 'Re-run'}
          </button>
        </div>
      </div>
      {actionError && (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      )}
      <div className="detail-grid">
        <div className="detail-main">
          <RunPanel id={evaluation.id} evaluation={evaluation} onFinished={reload} onCancelled={set} />
        </div>
        <aside className="detail-side">
          <Facts e={evaluation} />
          {evaluation.code !== '' && (
            <section className="card" aria-label="Code">
              <h2 className="card-title">
                Code <span className="muted small mono">sha256 {evaluation.code_sha256.slice(0, 12)}</span>
              </h2>
              <CodeView code={evaluation.code} label="Program source" />
            </section>
          )}
          {evaluation.files.map((f) => (
            <section className="card" aria-label={`File ${f.path}`} key={f.path} data-testid="program-file">
              <h2 className="card-title mono">{f.path}</h2>
              {f.encoding === 'utf-8' ? (
                <CodeView code={f.content} label={f.path} />
              ) : (
                <p className="muted small">binary, {formatBytes(Math.floor((f.content.length * 3) / 4))} (base64)</p>
              )}
            </section>
          ))}
          {evaluation.stdin !== null && evaluation.stdin !== '' && (
            <section className="card" aria-label="stdin">
              <h2 className="card-title">stdin</h2>
              <pre className="pre-block">{evaluation.stdin}</pre>
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}

/** "Forked from ev_…" / "Re-run of ev_…", linking to that run and to the comparison with it. */
function Origin({ e }: { e: Evaluation }) {
  const origin = originOf(e);
  if (!origin) return null;
  return (
    <p className="detail-origin small" data-testid="detail-origin">
      {origin.kind === 'fork' ? 'Forked from ' : 'Re-run of '}
      <Link href={evaluationPath(origin.id)} className="mono" data-testid="origin-link">
        {origin.id}
      </Link>{' '}
      · <Link href={comparePath(origin.id, e.id)}>compare with it</Link>
    </p>
  );
}

function Facts({ e }: { e: Evaluation }) {
  const l = e.limits;
  const meta = Object.keys(e.metadata).length ? JSON.stringify(e.metadata, null, 2) : null;
  return (
    <section className="card" aria-label="Details">
      <h2 className="card-title">Details</h2>
      <dl className="facts">
        <dt>Created</dt>
        <dd>{formatTimestamp(e.created_at)}</dd>
        <dt>Started</dt>
        <dd>{formatTimestamp(e.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{isTerminal(e.status) ? formatTimestamp(e.finished_at) : '—'}</dd>
        <dt>Sandbox</dt>
        <dd>
          {e.sandbox} · {e.environment}
        </dd>
        <dt>Worker</dt>
        <dd className="mono small">
          {e.worker ?? '—'}
          {e.attempts > 1 ? ` (attempt ${e.attempts})` : ''}
        </dd>
        <dt>Runs</dt>
        <dd className="mono small">{e.command ? e.command.join(' ') : `python ${e.entrypoint ?? 'main.py'}`}</dd>
        <dt>Limits</dt>
        <dd>
          {l.timeout_s} s · {formatMemoryLimit(l.memory_mb)} · {l.cpus} CPU · {l.max_processes} procs · {formatBytes(l.max_output_bytes)} output ·{' '}
          {formatMemoryLimit(l.scratch_mb)} scratch · {l.max_artifacts} artifacts ≤ {formatBytes(l.max_artifact_bytes)}
        </dd>
        <dt>Tags</dt>
        <dd>
          {e.tags.length ? (
            <span className="tag-list">
              {e.tags.map((t) => (
                <Link key={t} className="chip" href={tagPath(t)} title={`Batch view of the runs tagged ${t}`}>
                  {t}
                </Link>
              ))}
            </span>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
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
