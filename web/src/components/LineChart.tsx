/** Small hand-rolled SVG line/area chart for live metrics (no chart library needed). */
import { useElementWidth } from './use-element-width';

export interface ChartSeries {
  label: string;
  /** CSS colour, usually a var(--…) from the theme. */
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
}

interface Props {
  title: string;
  series: readonly ChartSeries[];
  formatY: (v: number) => string;
  formatX: (v: number) => string;
  /** Lower bound for the top of the y axis (so an idle series does not fill the chart). */
  minYMax?: number;
  /** The x range to show at least (e.g. from the start of a run to its end), whatever the data covers. */
  xDomain?: readonly [number, number];
  /** A horizontal reference line, e.g. the memory limit. */
  refLine?: { value: number; label: string } | undefined;
  height?: number;
  /** One sentence for screen readers, e.g. "Memory: now 120 MiB, peak 200 MiB". */
  summary: string;
  emptyText?: string;
}

const PAD = { left: 52, right: 10, top: 10, bottom: 20 };

export function LineChart({
  title,
  series,
  formatY,
  formatX,
  minYMax = 1,
  xDomain,
  refLine,
  height = 130,
  summary,
  emptyText = 'Waiting for samples…',
}: Props) {
  const [ref, width] = useElementWidth<HTMLDivElement>(320);
  const all = series.flatMap((s) => s.points);
  const hasData = all.length > 0;
  const xs = all.map((p) => p[0]);
  const xMin = Math.min(...xs, ...(xDomain ? [xDomain[0]] : []), ...(hasData ? [] : [0]));
  // One sample (or several at one instant) must not make a zero-width axis reading "0.3 s … 0.3 s".
  const xMax = Math.max(...xs, ...(xDomain ? [xDomain[1]] : []), xMin + 1);
  const yMaxData = Math.max(minYMax, ...all.map((p) => p[1]), refLine ? refLine.value : 0);
  const yMax = yMaxData * 1.08;
  const w = Math.max(120, width);
  const plotW = w - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;
  const ticks = [0, yMaxData / 2, yMaxData];

  return (
    <figure className="chart" ref={ref}>
      <figcaption className="chart-title">
        {title}
        {series.length > 1 && (
          <span className="chart-legend">
            {series.map((s) => (
              <span key={s.label}>
                <i style={{ background: s.color }} aria-hidden="true" />
                {s.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      <svg width={w} height={height} role="img" aria-label={`${title}. ${summary}`}>
        {ticks.map((t, i) => (
          <g key={i}>
            <line className="chart-grid" x1={PAD.left} x2={w - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="chart-axis" x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
              {formatY(t)}
            </text>
          </g>
        ))}
        {refLine && (
          <g>
            <line className="chart-ref" x1={PAD.left} x2={w - PAD.right} y1={y(refLine.value)} y2={y(refLine.value)} />
            <text className="chart-ref-label" x={w - PAD.right - 4} y={y(refLine.value) - 4} textAnchor="end">
              {refLine.label}
            </text>
          </g>
        )}
        {hasData ? (
          series.map((s) => {
            if (s.points.length === 0) return null;
            const line = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
            const first = s.points[0] as readonly [number, number];
            const lastP = s.points[s.points.length - 1] as readonly [number, number];
            const area = `${line}L${x(lastP[0]).toFixed(1)},${y(0)}L${x(first[0]).toFixed(1)},${y(0)}Z`;
            return (
              <g key={s.label} data-series={s.label} data-points={s.points.length}>
                <path d={area} fill={s.color} opacity={0.14} />
                <path d={line} fill="none" stroke={s.color} strokeWidth={1.6} strokeLinejoin="round" />
                {s.points.length === 1 && <circle cx={x(first[0])} cy={y(first[1])} r={2.5} fill={s.color} />}
              </g>
            );
          })
        ) : (
          <text className="chart-empty" x={PAD.left + plotW / 2} y={PAD.top + plotH / 2} textAnchor="middle">
            {emptyText}
          </text>
        )}
        {hasData && (
          <g data-testid="x-axis">
            <text className="chart-axis" x={PAD.left} y={height - 4}>
              {formatX(xMin)}
            </text>
            <text className="chart-axis" x={w - PAD.right} y={height - 4} textAnchor="end">
              {formatX(xMax)}
            </text>
          </g>
        )}
      </svg>
    </figure>
  );
}
