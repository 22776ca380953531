/**
 * EventSource with recovery. The browser already reconnects by itself after a dropped connection
 * (sending Last-Event-ID), but gives up for good after an HTTP error (e.g. a 502 while the server
 * restarts). Then we open a fresh one after a growing delay, with a URL the caller may rebuild
 * (to resume after the last event it has).
 */

export interface StreamHandlers {
  onOpen?: () => void;
  /** The connection is down; `willRetry` is false only after close(). */
  onDown?: () => void;
  onEvent: (type: string, data: string, lastEventId: string) => void;
}

export interface StreamHandle {
  close(): void;
}

const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;

export function openResilientEventSource(url: () => string, eventTypes: readonly string[], h: StreamHandlers): StreamHandle {
  let es: EventSource | null = null;
  let closed = false;
  let retryMs = MIN_RETRY_MS;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    if (closed) return;
    const source = new EventSource(url());
    es = source;
    source.onopen = () => {
      retryMs = MIN_RETRY_MS;
      h.onOpen?.();
    };
    source.onerror = () => {
      if (closed) return;
      h.onDown?.();
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      }
    };
    for (const type of eventTypes) {
      source.addEventListener(type, (ev) => {
        if (closed) return;
        const m = ev as MessageEvent<string>;
        h.onEvent(type, m.data, m.lastEventId);
      });
    }
  };

  connect();
  return {
    close() {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      es?.close();
    },
  };
}

/** Parses an SSE data line as JSON and checks it against the API's schema; null for anything malformed. */
export function parseMessage<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, data: string): T | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  const r = schema.safeParse(parsed);
  return r.success ? r.data : null;
}
