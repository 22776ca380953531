/** One JSON-lines logger for the whole process (pino); fast enough to leave on in production. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Tracing } from '../ports/tracing.js';

/** Credentials never reach a log line, whatever logs a request or its headers. */
export const LOG_REDACTIONS = [
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.authorization',
  'authorization',
  'req.headers.cookie',
  'headers.cookie',
];

/**
 * With tracing on, every line written while a span is current carries its `trace_id`, so a log
 * search and a trace view meet (lines about an evaluation carry `evaluation_id` themselves).
 */
export function createLogger(level: string, role: string, destination?: DestinationStream, tracing?: Tracing): Logger {
  const mixin = tracing?.enabled
    ? () => {
        const traceId = tracing.traceId();
        return traceId ? { trace_id: traceId } : {};
      }
    : undefined;
  return pino({ level, base: { role, pid: process.pid }, mixin, redact: { paths: LOG_REDACTIONS, censor: '[redacted]' } }, destination);
}
