/**
 * Which traces are recorded, from the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`
 * variables. The SDK would read them from process.env on its own, but it quietly falls back to
 * "sample everything" on a misspelt name or an out-of-range ratio; an operator who asked for 1 %
 * and got 100 % finds out from the collector's bill. Here a value that cannot be honoured stops
 * the process at start, saying what would work.
 *
 * Samplers that need a remote service (jaeger_remote, xray) are not shipped and refused.
 */
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-node';

type Env = Record<string, string | undefined>;

/** The specification's default: follow the caller's decision, sample every new trace. */
const DEFAULT_SAMPLER = 'parentbased_always_on';

const SAMPLERS: Record<string, (ratio: () => number) => Sampler> = {
  always_on: () => new AlwaysOnSampler(),
  always_off: () => new AlwaysOffSampler(),
  traceidratio: (ratio) => new TraceIdRatioBasedSampler(ratio()),
  parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
  parentbased_traceidratio: (ratio) => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) }),
};

/** OTEL_TRACES_SAMPLER_ARG for the ratio samplers: a probability; unset means 1 (the specification's default). */
function ratioFrom(env: Env): number {
  const raw = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  if (raw === '') return 1;
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG=${raw} is not a sampling ratio; give a number from 0 to 1 (0.1 keeps one trace in ten)`);
  }
  return ratio;
}

export function samplerFromEnv(env: Env): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase() || DEFAULT_SAMPLER;
  const make = SAMPLERS[name];
  if (!make) throw new Error(`OTEL_TRACES_SAMPLER=${name} is not supported; use one of ${Object.keys(SAMPLERS).join(', ')}`);
  return make(() => ratioFrom(env));
}
