/**
 * A minimal Server-Sent Events writer on a hijacked Fastify reply: headers that defeat proxy
 * buffering, heartbeat comments so idle connections are not cut, and a `closed` flag/promise so
 * producers stop as soon as the client goes away.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StreamGate } from './stream-gate.js';

export interface SseWriter {
  send(event: { id?: number | string; event: string; data: unknown }): void;
  readonly closed: boolean;
  /** Resolves when the client disconnects or end() is called. */
  readonly done: Promise<void>;
  end(): void;
}

/** Throws the gate's 503 (before anything is written) when the server holds too many streams. */
export function openSse(request: FastifyRequest, reply: FastifyReply, gate: StreamGate, heartbeatMs = 15_000): SseWriter {
  const leave = gate.enter();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  let closed = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
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
  return {
    send({ id, event, data }) {
      if (closed) return;
      const json = JSON.stringify(data);
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
    },
    get closed() {
      return closed;
    },
    done,
    end() {
      if (!closed) res.end();
      close();
    },
  };
}
