/**
 * What a read of a small finished evaluation costs the database, as the server's own query
 * counters (/metrics) say, on both stores: harnesses poll these reads at high rates, so the JSON
 * read and the raw /stdout each take one statement (the record with its output), not one per
 * stream and per piece. The answers stay whole and exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { bothStores, type TestServer } from '../helpers/both-stores.js';
import { scrape, total } from '../helpers/prometheus-text.js';
import { api } from '../helpers/server.js';

const READS = 100;
/** Room for the server's own work (heartbeats, queue polls, gauges) differing between the two windows: far below one more statement per read. */
const SLACK = READS / 10;

/** Storage statements the server has issued so far (transactions' BEGIN/COMMIT aside). */
async function statements(url: string): Promise<number> {
  const { samples } = await scrape(`${url}/metrics`);
  const all = total(samples, 'crucible_storage_query_duration_seconds_count');
  const framing = ['begin', 'other'].map((operation) => total(samples, 'crucible_storage_query_duration_seconds_count', { operation }));
  return all - framing.reduce((a, b) => a + b, 0);
}

/**
 * Statements issued while `read` runs READS times, one after another, net of what the server
 * issues on its own in as long a window right after (heartbeats, queue polls, gauges).
 */
async function statementsPerReads(url: string, read: () => Promise<void>): Promise<number> {
  const before = await statements(url);
  const started = Date.now();
  for (let i = 0; i < READS; i++) await read();
  const busy = (await statements(url)) - before;
  const idleBefore = await statements(url);
  await new Promise((resolve) => setTimeout(resolve, Date.now() - started));
  return busy - ((await statements(url)) - idleBefore);
}

describe.each(bothStores({ workers: 1 }))('reads of a small finished evaluation: $name', ({ start }) => {
  let server: TestServer;
  let cleanup: () => Promise<void>;
  let finished: Evaluation;
  beforeAll(async () => {
    ({ server, cleanup } = await start());
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'import sys\nprint("out é")\nsys.stderr.write("err\\n")\nsys.stdout.buffer.write(b"\\xff\\x00")',
      tags: ['read-queries'],
    });
    expect(r.status).toBe(200);
    finished = r.body;
  }, 120_000);
  afterAll(async () => cleanup?.(), 60_000);

  it('GET /api/evaluations/{id} is one statement, with the whole record in one answer', { timeout: 60_000 }, async () => {
    let last: Response | undefined;
    let body = '';
    const spent = await statementsPerReads(server.url, async () => {
      last = await fetch(`${server.url}/api/evaluations/${finished.id}`);
      body = await last.text();
    });
    expect(spent).toBeGreaterThanOrEqual(READS - SLACK);
    expect(spent).toBeLessThanOrEqual(READS + SLACK);
    expect(last!.status).toBe(200);
    // Whole, not streamed piece by piece: its length is known up front.
    expect(last!.headers.get('content-length')).not.toBeNull();
    expect(JSON.parse(body)).toEqual(finished);
    expect(finished).toMatchObject({ status: 'completed', stdout: 'out é\n\ufffd\ufffd', stderr: 'err\n' });
  });

  it('an output just over a piece is read in pieces: ?wait=true and GET answer it exactly', { timeout: 120_000 }, async () => {
    const stdout = 'é'.repeat(600_000); // 1.2 MB: more than one 1 MiB piece
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', {
      code: 'import sys\nsys.stdout.write("é" * 600000)\nsys.stderr.write("err\\n")',
      max_output_bytes: 4 * 1024 * 1024,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'completed', stderr: 'err\n', stdout_truncated: false });
    expect(r.body.stdout === stdout).toBe(true);
    const read = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${r.body.id}`);
    expect(read.body).toEqual(r.body);
  });

  it('GET /api/evaluations/{id}/stdout and /stderr are one statement each, byte for byte', { timeout: 60_000 }, async () => {
    for (const [stream, expected] of [
      ['stdout', Buffer.concat([Buffer.from('out é\n'), Buffer.from([0xff, 0])])],
      ['stderr', Buffer.from('err\n')],
    ] as const) {
      let bytes = Buffer.alloc(0);
      const spent = await statementsPerReads(server.url, async () => {
        const res = await fetch(`${server.url}/api/evaluations/${finished.id}/${stream}`);
        expect(res.status).toBe(200);
        bytes = Buffer.from(await res.arrayBuffer());
      });
      expect(spent).toBeGreaterThanOrEqual(READS - SLACK);
      expect(spent).toBeLessThanOrEqual(READS + SLACK);
      expect(bytes.equals(expected)).toBe(true);
    }
  });
});
