/**
 * One resource limit as a number field, its range and default taken from the server's
 * /api/config `limits` (not compiled in), so the form offers exactly what the server accepts.
 * Empty means "the server's default".
 */
import type { LimitBoundView } from '../../../src/domain/system-views';
import { formatBytes } from '../lib/format';

const LABELS: Record<string, string> = {
  timeout_s: 'Timeout (s)',
  memory_mb: 'Memory (MiB)',
  cpus: 'CPUs',
  max_processes: 'Max processes',
  max_output_bytes: 'Max output (bytes)',
  scratch_mb: 'Scratch /tmp (MiB)',
};

/** A bound in its unit; bytes also in binary units so 16777216 reads as 16 MiB. */
function shown(value: number, unit: string): string {
  return unit === 'bytes' ? formatBytes(value) : `${value}`;
}

interface Props {
  name: string;
  bound: LimitBoundView | undefined;
  value: number;
  onChange: (value: number) => void;
  error: string | undefined;
}

export function LimitField({ name, bound, value, onChange, error }: Props) {
  const id = `f-${name}`;
  const integer = name !== 'timeout_s' && name !== 'cpus';
  return (
    <div className="field">
      <label htmlFor={id}>{LABELS[name] ?? name}</label>
      <input
        id={id}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        step={integer ? 1 : 'any'}
        min={bound?.min}
        max={bound?.max}
        value={Number.isFinite(value) ? value : ''}
        placeholder={bound ? `${bound.default} (default)` : 'default'}
        onChange={(e) => onChange(e.target.value === '' ? Number.NaN : Number(e.target.value))}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : `${id}-hint`}
        title={bound?.description}
        data-testid={`limit-${name}`}
      />
      {error ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : (
        bound && (
          <p className="field-hint" id={`${id}-hint`}>
            {shown(bound.min, bound.unit)}–{shown(bound.max, bound.unit)}
            {bound.unit === 'bytes' ? '' : ` ${bound.unit}`}, default {shown(bound.default, bound.unit)}
          </p>
        )
      )}
    </div>
  );
}
