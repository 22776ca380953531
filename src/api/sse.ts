/**
 * A minimal Server-Sent Events writer on a hijacked Fastify reply: headers that defeat proxy
 * buffering, heartbeat comments so idle connections are not cut, a `closed` flag/promise so
 * producers stop as soon as the client goes away, and backpressure: a client that does not read
 * must not make the server buffer an evaluation's whole history (megabytes per stream) in memory.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventSink } from '../app/event-log-reader.js';
import type { StreamGate } from './stream-gate.js';

/**
 * Bytes a stream may hold unsent before its client is cut off. Producers that wait for `drained()`
 * stay near the socket's high-water mark, far below this; a producer that cannot wait (the status
 * feed) drops a client that stopped reading, which reconnects and re-reads the list.
 */
export const MAX_SSE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface SseWriter {
  send(event: { id?: number | string; event: string; data: unknown }): void;
  readonly closed: boolean;
  /** The client is not keeping up: producers that can wait should await `drained()` first. */
  readonly congested: boolean;
  /** Resolves once the client has caught up (or the stream closed). */
  drained(): Promise<void>;
  /** Resolves when the client disconnects or end() is called. */
  readonly done: Promise<void>;
  end(): void;
}

const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/**
 * Answers a HEAD request for a stream with the headers alone (true) instead of opening a stream
 * that would hold the connection with no one reading.
 */
export function answeredHead(request: FastifyRequest, reply: FastifyReply): boolean {
  if (request.method !== 'HEAD') return false;
  void reply.code(200).type(SSE_CONTENT_TYPE).send();
  return true;
}

/** Throws the gate's 503 (before anything is written) when the server holds too many streams. */
export function openSse(request: FastifyRequest, reply: FastifyReply, gate: StreamGate, heartbeatMs = 15_000): SseWriter {
  const leave = gate.enter();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': SSE_CONTENT_TYPE,
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  let closed = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  // A heartbeat only matters on an idle connection; one with unsent data needs none.
  const heartbeat = setInterval(() => res.writableLength === 0 && res.write(': heartbeat\n\n'), heartbeatMs);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    leave();
    resolveDone();
  };
  request.raw.on('close', close);
  res.on('close', close);
  res.on('error', close);
  // Messages written in one turn of the event loop leave in one write: under load a feed gets
  // many status changes per turn, and a write per message was a system call each.
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  return {
    send({ id, event, data }) {
      if (closed) return;
      const json = JSON.stringify(data);
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
      if (res.writableLength > MAX_SSE_BUFFER_BYTES) {
        request.log.warn({ buffered: res.writableLength }, 'event stream client is not reading; disconnecting it');
        res.destroy();
        close();
      }
    },
    get closed() {
      return closed;
    },
    get congested() {
      return !closed && res.writableNeedDrain;
    },
    drained() {
      if (closed || !res.writableNeedDrain) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const finish = () => {
          res.off('drain', finish);
          res.off('close', finish);
          resolve();
        };
        res.on('drain', finish);
        res.on('close', finish);
      });
    },
    done,
    end() {
      if (!closed) res.end();
      close();
    },
  };
}

/** An evaluation's events as SSE messages: the sequence number as the id, the type as the event name. */
export function sseEventSink(sse: SseWriter): EventSink {
  return {
    send: (event) => sse.send({ id: event.seq, event: event.type, data: event }),
    get closed() {
      return sse.closed;
    },
    get congested() {
      return sse.congested;
    },
    drained: () => sse.drained(),
    done: sse.done,
    end: () => sse.end(),
  };
}

/** The Last-Event-ID header's text; absent or blank: undefined. */
export function lastEventIdHeader(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = (Array.isArray(header) ? header.join(',') : header).trim();
  return text === '' ? undefined : text;
}
