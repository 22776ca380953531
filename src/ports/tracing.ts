/**
 * The tracing port: spans around what happens to an evaluation (HTTP submit, enqueue, claim,
 * sandbox start, run, store), named by the use cases and edges without knowing OpenTelemetry.
 * The OpenTelemetry adapter (src/tracing) implements it when the standard `OTEL_*` variables ask
 * for traces; otherwise the no-op one does, at the cost of a function call.
 *
 * A trace crosses processes inside the queue job: the producer takes `carrier()` (W3C
 * `traceparent`/`tracestate`) and the worker passes it back as the `parent` of its span.
 */

/** W3C Trace Context of one span, as carried in a queue job or an HTTP header. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** Bounded, non-secret facts: ids, names, statuses. Never code, output or credentials. */
export type SpanAttributes = Record<string, string | number | boolean | null | undefined>;

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: SpanAttributes;
  /**
   * A parent from another process (a job's carrier, an incoming `traceparent` header). Without
   * it the span is a child of the current one, or a new trace's root.
   */
  parent?: TraceCarrier | null;
}

export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span as failed with this error (the span still has to be ended). */
  fail(error: unknown): void;
  end(): void;
}

export interface Tracing {
  /** False for the no-op tracer: callers may skip building attributes. */
  readonly enabled: boolean;
  /**
   * Runs `fn` inside a new span made current for everything it awaits (so nested spans and log
   * lines belong to it); the span ends when `fn` settles, failed if `fn` rejects.
   */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Starts a child of the current span that the caller ends (a phase that is not one function call). */
  startSpan(name: string, options?: SpanOptions): TraceSpan;
  /**
   * `fn` bound to the current span: a callback run later from elsewhere (a sandbox's output
   * listener) still has this span as its parent, and its log lines this trace's id.
   */
  bind<F extends (...args: never[]) => unknown>(fn: F): F;
  /** The current span's context, to carry in a job; null when there is none (or tracing is off). */
  carrier(): TraceCarrier | null;
  /** The current trace's id (32 hex digits) for log lines; null when there is none. */
  traceId(): string | null;
  /** Exports what is still buffered and stops. */
  shutdown(): Promise<void>;
}
