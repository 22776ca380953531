/**
 * The tracing port over the OpenTelemetry SDK. Configured only by the standard variables, so an
 * operator's usual collector settings work unchanged:
 *
 * - whether tracing is on at all is decided by the composition root (src/main/tracing.ts), which
 *   loads this module only then;
 * - OTLP over HTTP, JSON bodies by default or protobuf with `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`
 *   (the exporter reads the endpoint, headers and timeout variables itself); `OTEL_SERVICE_NAME` /
 *   `OTEL_RESOURCE_ATTRIBUTES` name the service (default `crucible`); `OTEL_BSP_SCHEDULE_DELAY` sets
 *   how often finished spans are sent (ms, default 5000);
 * - `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` choose which traces are recorded (./sampler.ts).
 *
 * The provider is not registered as the process-wide global: Crucible's spans come from this
 * adapter only, and two platforms in one process (tests) keep their own providers. Only the
 * context manager is global, as it has to be for AsyncLocalStorage to carry the current span.
 */
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { SpanAttributes, SpanKind, SpanOptions, TraceCarrier, TraceSpan, Tracing } from '../ports/tracing.js';
import { samplerFromEnv } from './sampler.js';

type Env = Record<string, string | undefined>;

export interface OpenTelemetryOptions {
  /** `serve` or `worker`: a resource attribute, so one service's spans still tell the processes apart. */
  role: string;
  version: string;
  /** Exporters by their OTEL_TRACES_EXPORTER names (`otlp`, `console`), or one given (tests: InMemorySpanExporter). */
  exporters: string[] | SpanExporter;
  env?: Env;
}

const KINDS: Record<SpanKind, OtelSpanKind> = {
  internal: OtelSpanKind.INTERNAL,
  server: OtelSpanKind.SERVER,
  client: OtelSpanKind.CLIENT,
  producer: OtelSpanKind.PRODUCER,
  consumer: OtelSpanKind.CONSUMER,
};

/**
 * OTLP/HTTP encodings. JSON stays the default here (as before http/protobuf was shipped): a
 * deployment that set only an endpoint keeps sending what its receiver already accepted. gRPC would
 * need the grpc-js stack and is refused.
 */
const OTLP_EXPORTERS: Record<string, () => SpanExporter> = {
  'http/json': () => new OtlpJsonExporter(),
  'http/protobuf': () => new OtlpProtobufExporter(),
};

function exporterNamed(name: string, env: Env): SpanExporter {
  if (name === 'console') return new ConsoleSpanExporter();
  if (name !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER=${name} is not supported; use otlp, console or none`);
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json').trim();
  const make = OTLP_EXPORTERS[protocol];
  if (!make) {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; Crucible exports OTLP over HTTP: use http/protobuf or http/json`);
  }
  return make();
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

let contextManagerInstalled = false;

/** Tracing over a tracer provider of its own, exporting to the exporters named (or the one given). */
export function openTelemetryTracing(options: OpenTelemetryOptions): Tracing {
  const env = options.env ?? process.env;
  const sampler = samplerFromEnv(env);
  const delay = positiveInt(env.OTEL_BSP_SCHEDULE_DELAY, 5000);
  const processors: SpanProcessor[] = Array.isArray(options.exporters)
    ? options.exporters.map((name) =>
        name === 'console'
          ? new SimpleSpanProcessor(exporterNamed(name, env))
          : new BatchSpanProcessor(exporterNamed(name, env), { scheduledDelayMillis: delay }),
      )
    : [new SimpleSpanProcessor(options.exporters)];
  // Attributes from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over these defaults.
  const resource = resourceFromAttributes({ 'service.name': 'crucible', 'service.version': options.version, 'crucible.role': options.role }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: processors, sampler });
  if (!contextManagerInstalled) {
    contextManagerInstalled = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  return new OpenTelemetryTracing(provider, provider.getTracer('crucible', options.version));
}

function attributesOf(attributes: SpanAttributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== null && value !== undefined) out[key] = value;
  return out;
}

function handle(span: Span): TraceSpan {
  return {
    setAttributes: (attributes) => span.setAttributes(attributesOf(attributes)),
    fail: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      span.recordException(error instanceof Error ? error : message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    },
    end: () => span.end(),
  };
}

class OpenTelemetryTracing implements Tracing {
  readonly enabled = true;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(
    private readonly provider: NodeTracerProvider,
    private readonly tracer: Tracer,
  ) {}

  private parentContext(parent: TraceCarrier | null | undefined) {
    if (!parent) return context.active();
    return this.propagator.extract(ROOT_CONTEXT, { ...parent }, defaultTextMapGetter);
  }

  inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T> {
    const spanOptions = { kind: KINDS[options.kind ?? 'internal'], attributes: attributesOf(options.attributes) };
    return this.tracer.startActiveSpan(name, spanOptions, this.parentContext(options.parent), async (span) => {
      const traced = handle(span);
      try {
        return await fn(traced);
      } catch (err) {
        traced.fail(err);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  startSpan(name: string, options: SpanOptions = {}): TraceSpan {
    const spanOptions = { kind: KINDS[options.kind ?? 'internal'], attributes: attributesOf(options.attributes) };
    return handle(this.tracer.startSpan(name, spanOptions, this.parentContext(options.parent)));
  }

  bind<F extends (...args: never[]) => unknown>(fn: F): F {
    return context.bind(context.active(), fn);
  }

  carrier(): TraceCarrier | null {
    const carrier: Record<string, string> = {};
    this.propagator.inject(context.active(), carrier, defaultTextMapSetter);
    if (!carrier.traceparent) return null;
    return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
  }

  /** Only a recorded trace's id: a log line should not point at a trace the sampler dropped. */
  traceId(): string | null {
    const span = trace.getSpan(context.active());
    return span?.isRecording() ? span.spanContext().traceId : null;
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
