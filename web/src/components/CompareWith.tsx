/**
 * "Compare with…" on a run's page: the runs that share its tags (else the latest runs), or any id
 * typed in, each opening the compare view with this run as A.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { EvaluationSummary } from '../../../src/domain/evaluation';
import { api } from '../lib/api-client';
import { comparePath } from '../lib/compare';
import { Link, navigate } from '../lib/router';
import { runTitle } from '../lib/run-title';
import { StatusBadge } from './StatusBadge';

const CANDIDATES = 8;

export function CompareWith({ id, tags }: { id: string; tags: readonly string[] }) {
  const [open, setOpen] = useState(false);
  const [candidates, setCandidates] = useState<EvaluationSummary[] | null>(null);
  const [other, setOther] = useState('');

  useEffect(() => {
    if (!open || candidates) return;
    const ctrl = new AbortController();
    const others = (page: { items: EvaluationSummary[] }) => page.items.filter((e) => e.id !== id);
    // Runs of the same experiment first; with no tags (or none alike), the latest runs.
    const sameTags = tags.length ? api.list({ tags: [...tags], limit: CANDIDATES + 1 }, ctrl.signal).then(others) : Promise.resolve([]);
    sameTags
      .then(async (found) => (found.length ? found : others(await api.list({ limit: CANDIDATES + 1 }, ctrl.signal))))
      .then(
        (found) => setCandidates(found.slice(0, CANDIDATES)),
        () => !ctrl.signal.aborted && setCandidates([]),
      );
    return () => ctrl.abort();
  }, [open, candidates, id, tags]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (other.trim()) navigate(comparePath(id, other.trim()));
  };

  return (
    <details className="compare-with" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)} data-testid="compare-with">
      <summary className="btn btn-ghost">Compare with…</summary>
      <div className="compare-with-menu card">
        <form onSubmit={submit} className="compare-with-form">
          <label htmlFor="compare-other">Evaluation id</label>
          <input id="compare-other" value={other} onChange={(e) => setOther(e.target.value)} placeholder="ev_…" spellCheck={false} />
          <button type="submit" className="btn btn-sm" disabled={!other.trim()}>
            Compare
          </button>
        </form>
        <p className="muted small">{tags.length ? 'Runs with the same tags:' : 'Latest runs:'}</p>
        {candidates === null ? (
          <p className="muted small">Loading…</p>
        ) : candidates.length === 0 ? (
          <p className="muted small">No other run yet.</p>
        ) : (
          <ul className="compare-candidates">
            {candidates.map((c) => (
              <li key={c.id}>
                <Link href={comparePath(id, c.id)} data-testid="compare-candidate" data-id={c.id}>
                  <StatusBadge status={c.status} /> <span className="compare-candidate-title">{runTitle(c)}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </div>
    </details>
  );
}
