/**
 * The tracing port when tracing is off (the default): every call is a plain function call, so the
 * use cases and edges trace unconditionally without paying for it.
 */
import type { TraceSpan, Tracing } from '../ports/tracing.js';

const NO_SPAN: TraceSpan = { setAttributes: () => undefined, fail: () => undefined, end: () => undefined };

export const NO_TRACING: Tracing = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(NO_SPAN),
  startSpan: () => NO_SPAN,
  bind: (fn) => fn,
  carrier: () => null,
  traceId: () => null,
  shutdown: () => Promise.resolve(),
};
