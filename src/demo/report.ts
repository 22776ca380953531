/** Renders a demo report for a terminal: one block per scenario, expected vs actual, evidence for attacks. */
import { verdictLine } from '../client/terminal-format.js';
import type { DemoReport } from './runner.js';
import type { ScenarioResult } from './types.js';

/** Attack output lines worth showing as evidence (what was tried and what happened). */
export function evidenceLines(result: ScenarioResult, max = 14): string[] {
  const stdout = result.run?.evaluation.stdout ?? '';
  const lines = stdout.split('\n').filter((l) => l.trim());
  return lines.length > max ? [...lines.slice(0, max), `… ${lines.length - max} more lines`] : lines;
}

export function formatResult(result: ScenarioResult, showEvidence: boolean): string {
  const { scenario, run } = result;
  const out = [`${result.skipped ? 'SKIP' : result.ok ? 'PASS' : 'FAIL'}  ${scenario.name.padEnd(22)} ${scenario.title}`];
  if (result.skipped) return [...out, `      skipped:  ${result.skipped}`].join('\n');
  out.push(`      expected: ${scenario.expected}`);
  if (run) out.push(`      actual:   ${verdictLine(run.evaluation)}`);
  for (const f of result.failures) out.push(`      ✗ ${f}`);
  if (showEvidence && scenario.kind === 'attack' && run) for (const l of evidenceLines(result)) out.push(`      │ ${l}`);
  return out.join('\n');
}

export function formatSummary(report: DemoReport): string {
  const ran = report.results.filter((r) => !r.skipped);
  const skipped = report.results.length - ran.length;
  const where = report.startedServer ? `a server started by the demo at ${report.server}` : report.server;
  return `${ran.filter((r) => r.ok).length}/${ran.length} scenarios behaved as documented${skipped ? `, ${skipped} skipped (environment not built)` : ''} (${where}, ${(report.durationMs / 1000).toFixed(1)} s)`;
}
