/** Human formats for the numbers the API reports (bytes, milliseconds, exit facts, times). */
import type { Reason } from '../../../src/domain/evaluation';
import { shellExitCode } from '../../../src/domain/exit-interpretation';
import { formatBytes as formatBytesDomain, formatMebibytes } from '../../../src/domain/format-bytes';

/** Binary units, like the limits (memory_mb is MiB), from the one formatter the server uses too; "—" for no value. */
export function formatBytes(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined || !Number.isFinite(bytes) ? '—' : formatBytesDomain(bytes);
}

/** A memory limit in MiB: 512 → "512 MiB", 2048 → "2 GiB" (binary, as the server's messages say it). */
export const formatMemoryLimit = formatMebibytes;

/** 850 → "850 ms", 1234 → "1.23 s", 75_000 → "1m 15s", 3_900_000 → "1h 05m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const totalS = Math.round(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, '0')}s`;
  return `${Math.floor(totalS / 3600)}h ${String(Math.floor((totalS % 3600) / 60)).padStart(2, '0')}m`;
}

/** Short titles for each way a run can end (the server's `message` has the full sentence). */
export const REASON_TITLES: Record<Reason, string> = {
  exit_zero: 'Exited normally',
  exit_nonzero: 'Program error',
  signal: 'Killed by a signal',
  oom: 'Memory limit exceeded',
  timeout: 'Time limit exceeded',
  pids_limit: 'Process limit reached',
  output_limit: 'Output limit exceeded',
  cancelled: 'Cancelled',
  platform_error: 'Platform error',
};

export interface ExitFactsView {
  exit_code: number | null;
  signal: string | null;
  reason: Reason | null;
}

/** The shell-style code of a run: exit code, or 128 + signal number. */
export function displayExitCode(f: Pick<ExitFactsView, 'exit_code' | 'signal'>): number | null {
  return shellExitCode(f.exit_code, f.signal);
}

/** "137 · Memory limit exceeded", "0 · Exited normally", or just the title when there is no code. */
export function exitStatusText(f: ExitFactsView): string {
  const code = displayExitCode(f);
  const title = f.reason ? REASON_TITLES[f.reason] : f.signal ? `Killed by ${f.signal}` : 'Finished';
  return code === null ? title : `${code} · ${title}`;
}

/**
 * What the server's message adds to the title, or null when it only repeats it: "Exited normally
 * (exit 0)." under "0 · Exited normally" says nothing new; "Exited normally (exit 0); note: …"
 * adds the note. A message that qualifies its title ("Memory limit exceeded (64 MiB): …") or
 * carries on in the same sentence ("Cancelled by a user; …") is kept whole.
 */
export function messageBeyondTitle(message: string | null, reason: Reason | null): string | null {
  if (!message) return null;
  const title = reason ? REASON_TITLES[reason] : null;
  if (!title || !message.startsWith(title)) return message;
  const rest = message.slice(title.length).replace(/^\s*\(exit -?\d+\)/, '');
  if (/^[\s.;:,]*$/.test(rest)) return null;
  if (!/^[.;:,]/.test(rest)) return message;
  const clause = rest.replace(/^[\s.;:,]+/, '');
  return clause.charAt(0).toUpperCase() + clause.slice(1);
}

/**
 * Where the shell-style code comes from, once: "exit code 1", or "SIGKILL → 137 (128 + 9)" for a
 * process killed by a signal (it has no exit code of its own). Null when there is neither.
 */
export function exitCodeOrigin(f: Pick<ExitFactsView, 'exit_code' | 'signal'>): string | null {
  const code = displayExitCode(f);
  if (f.signal && code !== null && code > 128) return `${f.signal} → ${code} (128 + ${code - 128})`;
  if (f.exit_code !== null) return `exit code ${f.exit_code}`;
  return f.signal ? `signal ${f.signal}` : null;
}

/** Wall time between two ISO timestamps, or null if either is missing. */
export function elapsedBetween(startIso: string | null, endIso: string | null): number | null {
  if (!startIso || !endIso) return null;
  const d = Date.parse(endIso) - Date.parse(startIso);
  return Number.isFinite(d) ? d : null;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", else a local date. */
export function formatRelativeTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toLocaleString();
}

// One formatter for every timestamp: toLocaleString() builds a new one per call, which with a
// time zone name costs tens of milliseconds on a slow phone (and history re-renders each second).
let timestampFormat: Intl.DateTimeFormat | null = null;

/** Local date-time with seconds and the time zone (a shared link is read in other zones), for tooltips and detail pages. */
export function formatTimestamp(iso: string | null): string {
  if (!iso) return '—';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '—';
  timestampFormat ??= new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  });
  return timestampFormat.format(t);
}

export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(ratio < 0.1 && ratio > 0 ? 1 : 0)}%`;
}
