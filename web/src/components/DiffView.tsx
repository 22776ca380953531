/** A unified line diff with both sides' line numbers; unchanged stretches fold into "n lines". */
import { useMemo } from 'react';
import { diffLines, withContext } from '../lib/line-diff';

interface Props {
  title: string;
  a: string;
  b: string;
  /** Stable hook for tests and links (e.g. "stdout"). */
  testId: string;
}

const MARK = { same: ' ', removed: '−', added: '+' } as const;

export function DiffView({ title, a, b, testId }: Props) {
  const diff = useMemo(() => diffLines(a, b), [a, b]);
  const rows = useMemo(() => withContext(diff.lines), [diff]);
  const same = diff.added === 0 && diff.removed === 0;
  return (
    <section className="card diff-card" aria-label={`${title} diff`} data-testid={`diff-${testId}`} data-same={same}>
      <h2 className="card-title">
        {title}{' '}
        <span className="muted small" data-testid={`diff-${testId}-summary`}>
          {same ? (a === '' ? 'empty in both' : 'identical') : `−${diff.removed} +${diff.added} lines`}
          {diff.coarse ? ' (too long to align line by line)' : ''}
        </span>
      </h2>
      {!same && (
        <div className="diff-scroll">
          <table className="diff-table">
            <tbody>
              {rows.map((r, i) =>
                r.op === 'gap' ? (
                  <tr key={i} className="diff-gap">
                    <td colSpan={4}>
                      ⋯ {r.hidden} unchanged line{r.hidden === 1 ? '' : 's'}
                    </td>
                  </tr>
                ) : (
                  <tr key={i} className={`diff-${r.op}`} data-op={r.op}>
                    <td className="diff-num" aria-label={r.a === null ? undefined : `A line ${r.a}`}>
                      {r.a ?? ''}
                    </td>
                    <td className="diff-num" aria-label={r.b === null ? undefined : `B line ${r.b}`}>
                      {r.b ?? ''}
                    </td>
                    <td className="diff-mark" aria-hidden="true">
                      {MARK[r.op]}
                    </td>
                    <td className="diff-text">
                      <span className="sr-only">{r.op === 'same' ? '' : `${r.op}: `}</span>
                      {r.text}
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
