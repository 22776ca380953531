/**
 * Reads and discards the rest of a request body before an early answer (413). Ordinary HTTP
 * clients (Python's urllib and requests, curl without Expect) send the whole body before they
 * read the response; a server that answers and closes at once makes them fail with "Broken pipe"
 * and they never see the 413. Draining is bounded in bytes and time, so a client announcing
 * gigabytes cannot hold the connection: past either bound the connection is closed anyway.
 */
import type { IncomingMessage } from 'node:http';

export const MAX_DRAIN_BYTES = 128 * 1024 * 1024;
export const MAX_DRAIN_MS = 20_000;
/** A client that stops sending (it waits for the answer first) is answered after this much silence. */
export const DRAIN_IDLE_MS = 500;

/** Resolves once the body was read to its end, or a bound was reached (or the client went away). */
export function drainRequest(request: IncomingMessage, maxBytes = MAX_DRAIN_BYTES, maxMs = MAX_DRAIN_MS): Promise<void> {
  if (request.complete || request.destroyed || request.readableEnded) return Promise.resolve();
  // Announced larger than we would ever read: answer at once; that client cannot be helped.
  if (Number(request.headers['content-length'] ?? 0) > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    let idle = setTimeout(() => finish(), DRAIN_IDLE_MS);
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(idle);
      request.off('data', onData);
      request.off('end', finish);
      request.off('close', finish);
      request.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      clearTimeout(idle);
      idle = setTimeout(finish, DRAIN_IDLE_MS);
      if (read > maxBytes) {
        request.pause();
        finish();
      }
    };
    const timer = setTimeout(finish, maxMs);
    request.on('data', onData);
    request.once('end', finish);
    request.once('close', finish);
    request.once('error', finish);
    request.resume();
  });
}
