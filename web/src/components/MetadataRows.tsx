/**
 * Metadata as key/value rows (model, task id…): stored with the evaluation and filterable in
 * History with `key=value`. Values are sent as text.
 */
import type { MetadataRow } from '../lib/draft';

interface Props {
  rows: readonly MetadataRow[];
  onChange: (rows: MetadataRow[]) => void;
  error: string | undefined;
}

export function MetadataRows({ rows, onChange, error }: Props) {
  const set = (i: number, patch: Partial<MetadataRow>) => onChange(rows.map((r, n) => (n === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="field metadata-rows" data-testid="metadata-rows">
      <legend>Metadata</legend>
      {rows.map((r, i) => (
        <div className="metadata-row" key={i}>
          <input
            aria-label={`Metadata key ${i + 1}`}
            placeholder="key, e.g. model"
            value={r.key}
            onChange={(e) => set(i, { key: e.target.value })}
            spellCheck={false}
          />
          <input
            aria-label={`Metadata value ${i + 1}`}
            placeholder="value"
            value={r.value}
            onChange={(e) => set(i, { value: e.target.value })}
            spellCheck={false}
          />
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            aria-label={`Remove metadata ${r.key || i + 1}`}
            onClick={() => onChange(rows.filter((_, n) => n !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange([...rows, { key: '', value: '' }])}>
          + Add metadata
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
