/** What the compare view (/compare?a=ID&b=ID) lines up: the URL, each run's program as one text, and the facts side by side. */
import type { Evaluation } from '../../../src/domain/evaluation';
import { elapsedBetween, exitStatusText, formatBytes, formatDuration, formatMemoryLimit } from './format';

export const comparePath = (a: string, b: string) => `/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;

export function compareIdsFromSearch(search: string): { a: string | null; b: string | null } {
  const p = new URLSearchParams(search);
  return { a: p.get('a') || null, b: p.get('b') || null };
}

/**
 * The whole program as one text, so a single diff shows every change: main.py from `code`, then
 * each file under a header line with its path (binary files by size only), then what runs.
 */
export function programText(e: Pick<Evaluation, 'code' | 'files' | 'command' | 'entrypoint'>): string {
  const parts: string[] = [];
  if (e.code !== '') parts.push(e.code.endsWith('\n') ? e.code : `${e.code}\n`);
  for (const f of e.files) {
    parts.push(`# ── ${f.path} ──\n`);
    if (f.encoding === 'utf-8') parts.push(f.content.endsWith('\n') ? f.content : `${f.content}\n`);
    else parts.push(`(binary, ${Math.floor((f.content.length * 3) / 4)} bytes)\n`);
  }
  if (e.command) parts.push(`# runs: ${e.command.join(' ')}\n`);
  else if (e.files.length > 0) parts.push(`# runs: python ${e.entrypoint ?? 'main.py'}\n`);
  return parts.join('');
}

export interface FactRow {
  label: string;
  a: string;
  b: string;
  differs: boolean;
}

/** The facts a researcher compares first, as text for each side; `differs` highlights a change. */
export function compareFacts(a: Evaluation, b: Evaluation): FactRow[] {
  const facts: Array<[string, (e: Evaluation) => string]> = [
    ['Status', (e) => e.status],
    ['Result', (e) => exitStatusText(e)],
    ['Message', (e) => e.message ?? '—'],
    ['Duration', (e) => formatDuration(e.metrics.wall_ms ?? elapsedBetween(e.started_at, e.finished_at))],
    ['CPU time', (e) => formatDuration(e.metrics.cpu_ms)],
    ['Peak memory', (e) => formatBytes(e.metrics.peak_memory_bytes)],
    ['Environment', (e) => `${e.environment} · ${e.sandbox}`],
    [
      'Limits',
      (e) =>
        `${e.limits.timeout_s} s · ${formatMemoryLimit(e.limits.memory_mb)} · ${e.limits.cpus} CPU · ${e.limits.max_processes} procs · ${formatBytes(e.limits.max_output_bytes)} output`,
    ],
    ['Tags', (e) => (e.tags.length ? e.tags.join(', ') : '—')],
    ['Metadata', (e) => (Object.keys(e.metadata).length ? JSON.stringify(e.metadata) : '—')],
  ];
  return facts.map(([label, f]) => {
    const [va, vb] = [f(a), f(b)];
    return { label, a: va, b: vb, differs: va !== vb };
  });
}
