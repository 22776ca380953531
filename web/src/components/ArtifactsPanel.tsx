/**
 * The files a finished program left in /sandbox/out: each listed with its size and type and a
 * download link; images (PNG, JPEG, GIF, WebP — the types the server serves inline) shown as
 * pictures. What was not collected is summed up with the reason, so a missing file is explained.
 */
import { useEffect, useState } from 'react';
import type { ArtifactList, DroppedArtifact } from '../../../src/domain/artifacts';
import { servedInline } from '../../../src/domain/artifacts';
import { api, artifactUrl } from '../lib/api-client';
import { formatBytes } from '../lib/format';

const DROP_REASON_TEXT: Record<DroppedArtifact['reason'], string> = {
  max_artifacts: 'over max_artifacts',
  max_artifact_bytes: 'over max_artifact_bytes',
  not_a_regular_file: 'not a regular file (symlink, fifo…)',
  too_deep: 'nested too deep',
  invalid_name: 'name not usable',
  unreadable: 'could not be read',
  scan_limit: 'too many entries to look at',
  collection_incomplete: 'collection did not finish',
};

export function ArtifactsPanel({ id }: { id: string }) {
  const [list, setList] = useState<ArtifactList | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    api.artifacts(id, abort.signal).then(setList, (err: unknown) => {
      if (!abort.signal.aborted) setError(err instanceof Error ? err.message : String(err));
    });
    return () => abort.abort();
  }, [id]);

  if (error) return <p className="form-error">Could not list the artifacts: {error}</p>;
  if (!list || (list.items.length === 0 && list.dropped.length === 0)) return null;
  const droppedCount = list.dropped.length + list.dropped_more;
  return (
    <section className="artifacts" aria-label="Artifacts" data-testid="artifacts">
      <h3>Artifacts</h3>
      <ul className="artifact-list">
        {list.items.map((a) => (
          <li key={a.path} className="artifact" data-testid="artifact">
            <div className="artifact-head">
              <span className="mono">{a.path}</span>
              <span className="muted small">
                {formatBytes(a.size_bytes)} · {a.content_type.split(';')[0]}
              </span>
              <a className="btn btn-sm" href={artifactUrl(id, a.path)} download={a.path.split('/').pop()}>
                Download
              </a>
            </div>
            {servedInline(a.content_type) && <img className="artifact-image" src={artifactUrl(id, a.path)} alt={a.path} loading="lazy" />}
          </li>
        ))}
      </ul>
      {droppedCount > 0 && (
        <details className="artifact-dropped" data-testid="artifacts-dropped">
          <summary>
            {droppedCount} {droppedCount === 1 ? 'file' : 'files'} not collected
          </summary>
          <ul>
            {list.dropped.map((d, i) => (
              <li key={`${d.path}-${i}`} className="small">
                <span className="mono">{d.path || '/sandbox/out'}</span> — {DROP_REASON_TEXT[d.reason]}
                {d.size_bytes !== null ? ` (${formatBytes(d.size_bytes)})` : ''}
              </li>
            ))}
            {list.dropped_more > 0 && <li className="small muted">and {list.dropped_more} more</li>}
          </ul>
        </details>
      )}
    </section>
  );
}
