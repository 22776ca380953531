/** One JSON-lines logger for the whole process (pino); fast enough to leave on in production. */
import { pino, type DestinationStream, type Logger } from 'pino';

/** Credentials never reach a log line, whatever logs a request or its headers. */
export const LOG_REDACTIONS = [
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.authorization',
  'authorization',
  'req.headers.cookie',
  'headers.cookie',
];

export function createLogger(level: string, role: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { role, pid: process.pid }, redact: { paths: LOG_REDACTIONS, censor: '[redacted]' } }, destination);
}
