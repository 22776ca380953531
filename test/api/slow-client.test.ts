/**
 * Clients that read slowly or not at all: the server sends an evaluation's event history at the
 * client's pace instead of buffering it all in memory, a slow client still gets every event
 * exactly once, in order, and a large evaluation nobody reads is sent at its client's pace too.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { api, startTestServer } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

const MiB = 1024 * 1024;
/** 8 MiB of stdout, kept whole. */
const BIG_OUTPUT = { code: 'import sys\nfor i in range(8 * 1024):\n    sys.stdout.write(f"{i:07d}" + "x" * 1016 + "\\n")', max_output_bytes: 16 * MiB };

describe('slow event-stream clients', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let evaluation: Evaluation;
  beforeAll(async () => {
    // A budget for unread large responses smaller than the unread evaluations below: streamed,
    // they take nothing from it.
    server = await startTestServer({ workers: 1, maxPendingResponseMb: 40 });
    evaluation = (await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', BIG_OUTPUT)).body;
    expect(evaluation.status).toBe('completed');
    expect(evaluation.stdout.length).toBe(8 * MiB);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('does not buffer the history for clients that stop reading', async () => {
    const port = Number(new URL(server.url).port);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.write(`GET /api/evaluations/${evaluation.id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
              s.pause(); // never read: the kernel's buffers fill, then the server's would
              resolve(s);
            });
          }),
      ),
    );
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const grown = process.memoryUsage().rss - before;
      // Buffering every history would take 20 × (8 MiB of output, about twice that as JSON and
      // strings) — hundreds of MiB; paced, each stream holds about one page.
      expect(grown).toBeLessThan(120 * MiB);
      expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 30_000);

  it('streams a large evaluation at the pace of its client: unread ones hold neither memory nor the budget', async () => {
    const port = Number(new URL(server.url).port);
    global.gc?.();
    const before = process.memoryUsage().rss;
    // More unread copies than the budget (40 MiB) would hold if the JSON were materialized.
    const stalled = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.write(`GET /api/evaluations/${evaluation.id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
              s.pause();
              setTimeout(() => resolve(s), 300); // the server has answered (into buffers nobody reads)
            });
          }),
      ),
    );
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // Materialized, 8 answers would be 8 × (8 MiB of JSON, held as a string and as bytes).
      expect(process.memoryUsage().rss - before).toBeLessThan(100 * MiB);
      const r = await fetch(`${server.url}/api/evaluations/${evaluation.id}`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as Evaluation).stdout).toBe(evaluation.stdout);
    } finally {
      for (const s of stalled) s.destroy();
    }
  }, 30_000);

  it('a client that reads slowly still gets every event once, in order, and the whole output', async () => {
    const res = await fetch(`${server.url}/api/evaluations/${evaluation.id}/events`, { headers: { accept: 'text/event-stream' } });
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      await new Promise((r) => setTimeout(r, 5)); // slower than the server can write
    }
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const stdout = [...text.matchAll(/^event: stdout\ndata: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { data: { text: string } }).data.text).join('');
    expect(stdout).toBe(evaluation.stdout);
    expect(text).toMatch(/event: done/);
    // The same through the test helper, at full speed.
    const fast = await readSse(`${server.url}/api/evaluations/${evaluation.id}/events`);
    expect(fast.map((m) => Number(m.id))).toEqual(ids);
  }, 60_000);
});
