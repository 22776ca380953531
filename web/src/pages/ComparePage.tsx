/**
 * Two runs side by side (/compare?a=ID&b=ID, so a comparison can be shared): verdicts, metrics
 * and settings in two columns with the differences marked, then line diffs of the program,
 * stdout and stderr. On a phone the two columns stack.
 */
import type { Evaluation } from '../../../src/domain/evaluation';
import { compareFacts, compareIdsFromSearch, comparePath, programText } from '../lib/compare';
import { evaluationPath, Link, useLocation } from '../lib/router';
import { runTitle } from '../lib/run-title';
import { useEvaluation } from '../lib/use-evaluation';
import { DiffView } from '../components/DiffView';
import { StatusBadge } from '../components/StatusBadge';

export function ComparePage() {
  const { search } = useLocation();
  const ids = compareIdsFromSearch(search);
  const a = useEvaluation(ids.a);
  const b = useEvaluation(ids.b);

  if (!ids.a || !ids.b) {
    return (
      <div className="page">
        <h1 className="page-title">Compare runs</h1>
        <p>
          Pick two runs in <Link href="/history">History</Link> (tick their boxes, then Compare), or use “Compare with…” on a run’s page.
        </p>
      </div>
    );
  }
  const failed = [a, b].find((r) => r.error && !r.evaluation);
  if (failed?.error) {
    return (
      <div className="page">
        <h1 className="page-title">Compare runs</h1>
        <p className="form-error" role="alert">
          {failed.error.status === 404 ? `No evaluation with id ${failed === a ? ids.a : ids.b} exists.` : failed.error.message}
        </p>
        <Link href="/history">← Back to history</Link>
      </div>
    );
  }
  if (!a.evaluation || !b.evaluation) return <div className="page muted">Loading…</div>;
  const ea = a.evaluation;
  const eb = b.evaluation;

  return (
    <div className="page compare-page">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link href="/history">History</Link> /
          </p>
          <h1 className="page-title">Compare runs</h1>
        </div>
        <div className="actions">
          <Link className="btn btn-ghost" href={comparePath(eb.id, ea.id)} data-testid="compare-swap">
            Swap A and B
          </Link>
        </div>
      </div>
      <div className="compare-heads">
        <RunHead side="A" e={ea} />
        <RunHead side="B" e={eb} />
      </div>
      <section className="card" aria-label="Verdicts and metrics">
        <h2 className="card-title">Verdicts and metrics</h2>
        <table className="compare-facts" data-testid="compare-facts">
          <thead>
            <tr>
              <th scope="col" />
              <th scope="col">A</th>
              <th scope="col">B</th>
            </tr>
          </thead>
          <tbody>
            {compareFacts(ea, eb).map((f) => (
              <tr key={f.label} className={f.differs ? 'differs' : undefined} data-fact={f.label} data-differs={f.differs}>
                <th scope="row">
                  {f.label}
                  {f.differs && <span className="sr-only"> (differs)</span>}
                </th>
                <td data-side="a" data-side-label="A">
                  {f.a}
                </td>
                <td data-side="b" data-side-label="B">
                  {f.b}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <DiffView title="Code" a={programText(ea)} b={programText(eb)} testId="code" />
      <DiffView title="stdout" a={ea.stdout} b={eb.stdout} testId="stdout" />
      <DiffView title="stderr" a={ea.stderr} b={eb.stderr} testId="stderr" />
    </div>
  );
}

function RunHead({ side, e }: { side: 'A' | 'B'; e: Evaluation }) {
  return (
    <section className="card compare-head" aria-label={`Run ${side}`} data-testid={`compare-${side.toLowerCase()}`}>
      <p className="compare-side">{side}</p>
      <div className="compare-head-body">
        <Link href={evaluationPath(e.id)} className="mono small">
          {e.id}
        </Link>
        <p className="compare-title">{runTitle(e)}</p>
        <StatusBadge status={e.status} />
      </div>
    </section>
  );
}
