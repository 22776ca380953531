/**
 * The table of evaluations shared by History and the batch view: status, title (name, else the
 * code's first meaningful line) with id and settings, tags that filter when clicked, age,
 * duration, peak memory and result. With `onPick`, a first column of checkboxes picks runs to
 * compare.
 */
import { isTerminal, type EvaluationSummary } from '../../../src/domain/evaluation';
import { elapsedBetween, exitStatusText, formatBytes, formatDuration, formatMemoryLimit } from '../lib/format';
import { evaluationPath, Link } from '../lib/router';
import { runTitle, titleIsName } from '../lib/run-title';
import { RelativeTime } from './RelativeTime';
import { StatusBadge } from './StatusBadge';

interface Props {
  items: readonly EvaluationSummary[];
  testId: string;
  /** Shown as the only row when there are no items; null while loading. */
  emptyText: string | null;
  activeTags: readonly string[];
  onTag: (tag: string) => void;
  picked?: readonly string[];
  onPick?: (id: string) => void;
}

export function EvaluationTable({ items, testId, emptyText, activeTags, onTag, picked = [], onPick }: Props) {
  const columns = onPick ? 8 : 7;
  return (
    <div className="table-wrap">
      <table className="data-table history-table" data-testid={testId}>
        <thead>
          <tr>
            {onPick && (
              <th scope="col" className="col-pick">
                <span className="sr-only">Compare</span>
              </th>
            )}
            <th scope="col" className="col-status">
              Status
            </th>
            <th scope="col">Evaluation</th>
            <th scope="col" className="col-tags">
              Tags
            </th>
            <th scope="col" className="col-when">
              Created
            </th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col" className="num col-mem">
              Peak memory
            </th>
            <th scope="col" className="col-exit">
              Result
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <EvaluationRow key={e.id} e={e} activeTags={activeTags} onTag={onTag} picked={picked.includes(e.id)} onPick={onPick} />
          ))}
          {emptyText !== null && items.length === 0 && (
            <tr>
              <td colSpan={columns} className="empty">
                {emptyText}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

interface RowProps {
  e: EvaluationSummary;
  activeTags: readonly string[];
  onTag: (t: string) => void;
  picked: boolean;
  onPick: ((id: string) => void) | undefined;
}

function EvaluationRow({ e, activeTags, onTag, picked, onPick }: RowProps) {
  const duration = e.metrics.wall_ms ?? elapsedBetween(e.started_at, e.finished_at);
  return (
    <tr data-id={e.id} data-status={e.status} className={picked ? 'picked' : undefined}>
      {onPick && (
        <td className="col-pick">
          <input type="checkbox" checked={picked} onChange={() => onPick(e.id)} aria-label={`Compare ${runTitle(e)}`} data-testid="pick" />
        </td>
      )}
      <td>
        <StatusBadge status={e.status} />
      </td>
      <td>
        <Link href={evaluationPath(e.id)} className={`row-link row-title${titleIsName(e) ? '' : ' mono'}`} title={runTitle(e)}>
          {runTitle(e)}
        </Link>
        <span className="muted small row-sub">
          <span className="mono">{e.id}</span> · {e.sandbox} · {formatMemoryLimit(e.limits.memory_mb)} · {e.limits.timeout_s} s
        </span>
      </td>
      <td className="col-tags">
        <span className="tag-list">
          {e.tags.map((t) => (
            <button
              key={t}
              type="button"
              className={`chip chip-button${activeTags.includes(t) ? ' active' : ''}`}
              aria-pressed={activeTags.includes(t)}
              title={activeTags.includes(t) ? `Stop filtering by ${t}` : `Filter by ${t}`}
              onClick={() => onTag(t)}
            >
              {t}
            </button>
          ))}
        </span>
      </td>
      <td className="col-when">
        <RelativeTime iso={e.created_at} />
      </td>
      <td className="num">{formatDuration(duration)}</td>
      <td className="num col-mem">{formatBytes(e.metrics.peak_memory_bytes)}</td>
      <td className="col-exit">{isTerminal(e.status) ? <span className="small">{exitStatusText(e)}</span> : <span className="muted small">—</span>}</td>
    </tr>
  );
}
