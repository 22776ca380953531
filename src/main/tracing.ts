/**
 * Whether this process traces, from the standard OpenTelemetry variables, and the adapter behind
 * the tracing port. Off by default; the SDK is loaded only when tracing is on, so a process that
 * does not trace neither loads nor runs any of it.
 *
 * On when `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`), or when it is unset and an
 * OTLP endpoint is given (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
 * Off when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
import { NO_TRACING } from '../app/no-tracing.js';
import { CRUCIBLE_VERSION } from '../domain/version.js';
import type { Tracing } from '../ports/tracing.js';

type Env = Record<string, string | undefined>;

/** The exporters the environment asks for; empty when tracing is off. */
export function tracesExportersFromEnv(env: Env): string[] {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return [];
  const named = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (named.length === 0) return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? ['otlp'] : [];
  return named.includes('none') ? [] : named;
}

export async function tracingFromEnvironment(role: 'serve' | 'worker', env: Env = process.env): Promise<Tracing> {
  const exporters = tracesExportersFromEnv(env);
  if (exporters.length === 0) return NO_TRACING;
  const { openTelemetryTracing } = await import('../tracing/opentelemetry.js');
  return openTelemetryTracing({ role, version: CRUCIBLE_VERSION, exporters, env });
}
