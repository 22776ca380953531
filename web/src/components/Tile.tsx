/** One key number with its label and a line of context; with `href` the whole tile links to the runs behind the number. */
import { Link } from '../lib/router';

interface Props {
  label: string;
  value: number | string | null | undefined;
  unit?: string;
  sub?: string;
  testId: string;
  tone?: 'bad' | undefined;
  href?: string;
}

export function Tile({ label, value, unit, sub, testId, tone, href }: Props) {
  const body = (
    <>
      <div className="tile-label">{label}</div>
      <div className="tile-value">
        {value ?? '—'}
        {unit && value !== undefined && value !== null && <span className="tile-unit">{unit}</span>}
      </div>
      {sub && <div className="tile-sub muted small">{sub}</div>}
    </>
  );
  const className = `tile${tone ? ` tone-${tone}` : ''}${href ? ' tile-link' : ''}`;
  return href ? (
    <Link href={href} className={className} data-testid={testId}>
      {body}
    </Link>
  ) : (
    <div className={className} data-testid={testId}>
      {body}
    </div>
  );
}
