/** Renders the combined results: a terminal table, a Markdown table (README) and a small SVG chart. */
import type { Row, Section } from './section.js';

const cell = (v: unknown) => (v === undefined ? '' : String(v));

function status(row: Row): string {
  if (row.met === undefined) return row.target ?? '';
  return `${row.met ? 'MET' : 'MISSED'} ${row.target ?? ''}`.trim();
}

export function textTable(sections: Section[]): string {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push('', s.title);
    const rows = s.rows.map((r) => [r.metric, cell(r.crucible), cell(r.baseline), r.ratio === undefined ? '' : `${r.ratio}×`, status(r), r.note ?? '']);
    const header = ['metric', 'Crucible', 'baseline', 'ratio', 'target', 'note'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]) =>
      r
        .map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd();
    lines.push(`  ${fmt(header)}`);
    for (const r of rows) lines.push(`  ${fmt(r)}`);
    for (const n of s.notes) lines.push(`  · ${n}`);
  }
  return lines.join('\n');
}

export function markdownTable(sections: Section[]): string {
  const esc = (v: unknown) => cell(v).replaceAll('|', '\\|');
  const out = ['| benchmark | metric | Crucible | baseline (same run) | ratio | target |', '|---|---|---:|---:|---:|---|'];
  for (const s of sections) {
    for (const r of s.rows)
      out.push(
        `| ${s.name} | ${esc(r.metric)} | ${esc(r.crucible)} | ${esc(r.baseline)} | ${r.ratio === undefined ? '' : `${r.ratio}×`} | ${esc(status(r))} |`,
      );
  }
  return out.join('\n');
}

/** One pair of bars (baseline, Crucible) per numeric row of the chosen sections, each pair on its own scale. */
export function svgChart(sections: Section[], title: string): string {
  const pairs = sections
    .filter((s) => ['humaneval', 'latency', 'load', 'sandbox'].includes(s.name))
    .flatMap((s) =>
      s.rows
        .filter((r) => typeof r.crucible === 'number' && typeof r.baseline === 'number')
        .map((r) => ({ label: `${s.name}: ${r.metric}`, crucible: r.crucible as number, baseline: r.baseline as number })),
    );
  const width = 760;
  const labelW = 330;
  const barW = width - labelW - 90;
  const rowH = 40;
  const height = 50 + pairs.length * rowH + 20;
  const esc = (t: string) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${labelW}" y="30" width="10" height="10" fill="#9aa0a6"/><text x="${labelW + 14}" y="39">baseline (bare python / reference, same run)</text>`,
    `<rect x="${labelW + 260}" y="30" width="10" height="10" fill="#1a73e8"/><text x="${labelW + 274}" y="39">Crucible</text>`,
  ];
  pairs.forEach((p, i) => {
    const y = 50 + i * rowH;
    const max = Math.max(p.crucible, p.baseline) || 1;
    parts.push(`<text x="10" y="${y + 19}">${esc(p.label.length > 55 ? `${p.label.slice(0, 54)}…` : p.label)}</text>`);
    for (const [j, [v, color]] of (
      [
        [p.baseline, '#9aa0a6'],
        [p.crucible, '#1a73e8'],
      ] as const
    ).entries()) {
      const w = Math.max(1, (v / max) * barW);
      parts.push(`<rect x="${labelW}" y="${y + 4 + j * 15}" width="${w.toFixed(1)}" height="12" fill="${color}"/>`);
      parts.push(`<text x="${labelW + w + 4}" y="${y + 14 + j * 15}">${v}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
