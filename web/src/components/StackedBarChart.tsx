/** SVG stacked bars, one per time bucket (dashboard throughput by outcome). */
import { useElementWidth } from './use-element-width';

export interface BarLayer {
  key: string;
  label: string;
  color: string;
}

interface Props<K extends string> {
  title: string;
  layers: ReadonlyArray<BarLayer & { key: K }>;
  bars: ReadonlyArray<{ label: string } & Record<K, number>>;
  height?: number;
  summary: string;
}

const PAD = { left: 34, right: 8, top: 10, bottom: 20 };

export function StackedBarChart<K extends string>({ title, layers, bars, height = 150, summary }: Props<K>) {
  const [ref, width] = useElementWidth<HTMLDivElement>(360);
  const w = Math.max(160, width);
  const plotW = w - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const totals = bars.map((b) => layers.reduce((s, l) => s + (b[l.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.72);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;

  return (
    <figure className="chart" ref={ref}>
      <figcaption className="chart-title">
        {title}
        <span className="chart-legend">
          {layers.map((l) => (
            <span key={l.key}>
              <i style={{ background: l.color }} aria-hidden="true" />
              {l.label}
            </span>
          ))}
        </span>
      </figcaption>
      <svg width={w} height={height} role="img" aria-label={`${title}. ${summary}`}>
        {[0, max / 2, max].map((t, i) => (
          <g key={i}>
            <line className="chart-grid" x1={PAD.left} x2={w - PAD.right} y1={y(t)} y2={y(t)} />
            <text className="chart-axis" x={PAD.left - 6} y={y(t) + 4} textAnchor="end">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          let acc = 0;
          const x0 = PAD.left + i * slot + (slot - barW) / 2;
          return (
            <g key={i}>
              <title>{`${b.label}: ${layers.map((l) => `${b[l.key]} ${l.label.toLowerCase()}`).join(', ')}`}</title>
              {layers.map((l) => {
                const v = b[l.key] ?? 0;
                if (v <= 0) return null;
                const top = y(acc + v);
                const h = y(acc) - top;
                acc += v;
                return <rect key={l.key} x={x0} y={top} width={barW} height={Math.max(1, h)} fill={l.color} rx={1} />;
              })}
            </g>
          );
        })}
        {bars.length > 0 && (
          <>
            <text className="chart-axis" x={PAD.left} y={height - 4}>
              {bars[0]?.label}
            </text>
            <text className="chart-axis" x={w - PAD.right} y={height - 4} textAnchor="end">
              {bars[bars.length - 1]?.label}
            </text>
          </>
        )}
      </svg>
    </figure>
  );
}
