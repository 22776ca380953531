/**
 * Bounds the memory held by large responses that clients have not read yet. An evaluation with
 * 16 MiB of output answers with tens of MiB of JSON; Node keeps that in memory until the client
 * has read it, so a few dozen clients that request it and never read would otherwise grow the
 * server by gigabytes. Large responses (≥ 1 MiB) reserve their size from a budget until they
 * are fully sent (or their client is gone); beyond the budget: 503 + Retry-After. A large
 * response still unread after the stall timeout is cut off and its reservation returned.
 */
import type { ErrorCode } from '../domain/error-codes.js';
import type { FastifyInstance } from 'fastify';

export const LARGE_RESPONSE_CHARS = 1024 * 1024;
const STALL_TIMEOUT_MS = 120_000;

export function installResponseBudget(app: FastifyInstance, budgetBytes: number, stallTimeoutMs = STALL_TIMEOUT_MS): void {
  let reserved = 0;
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || payload.length < LARGE_RESPONSE_CHARS) return payload;
    // Held twice until sent: the string, and the bytes Node encodes it to for the socket.
    const size = payload.length * 2;
    if (reserved + size > budgetBytes) {
      request.log.warn({ size, reserved, budgetBytes }, 'large response refused: unread responses fill the budget');
      void reply.code(503).header('retry-after', '5').type('application/json; charset=utf-8');
      return JSON.stringify({
        error: {
          code: 'server_busy' satisfies ErrorCode,
          message: `This response (${Math.round(size / 1024 / 1024)} MiB) would exceed the memory this server keeps for large responses that clients have not read yet; retry shortly.`,
        },
      });
    }
    reserved += size;
    const res = reply.raw;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      reserved -= size;
      clearTimeout(stall);
    };
    const stall = setTimeout(() => {
      if (!res.writableFinished) res.destroy();
      release();
    }, stallTimeoutMs).unref();
    // 'close' follows both a completed response and a client that went away.
    res.once('close', release);
    return payload;
  });
}
