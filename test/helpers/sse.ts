/** Reads a Server-Sent Events stream into a list (until it ends or a predicate says stop). */
import { parseSse } from '../../src/client/index.js';

export interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
}

export async function readSse(
  url: string,
  options: { lastEventId?: string; until?: (m: SseMessage, all: SseMessage[]) => boolean; timeoutMs?: number } = {},
): Promise<SseMessage[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30_000);
  const messages: SseMessage[] = [];
  try {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}) },
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
    for await (const m of parseSse(res.body)) {
      const message = { id: m.id, event: m.event, data: JSON.parse(m.data) as unknown };
      messages.push(message);
      if (options.until?.(message, messages)) break;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    throw new Error(`SSE ${url} did not finish in time; got ${JSON.stringify(messages).slice(0, 2000)}`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return messages;
}
