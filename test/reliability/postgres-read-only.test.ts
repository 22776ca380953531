/**
 * PostgreSQL refuses writes for a while (default_transaction_read_only on a private cluster, as a
 * failover to a read-only replica would): submissions get a clear 503 storage_read_only, reads keep
 * working, and when writes return everything carries on: the evaluation that kept printing
 * meanwhile has its whole output in the event log, without a gap, and nothing was re-run.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { privatePostgresSupport, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { getEvaluation, REDIS_URL, ScaleOutDeployment, submit, tickingProgram, waitAllTerminal } from '../helpers/scale-out.js';
import { api, waitFor } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

const unsupported = privatePostgresSupport();

async function setReadOnly(url: string, on: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(on ? 'ALTER SYSTEM SET default_transaction_read_only = on' : 'ALTER SYSTEM RESET default_transaction_read_only');
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

describe.skipIf(unsupported !== null)('PostgreSQL refusing writes', () => {
  let postgres: PrivatePostgres | null = null;
  let deployment: ScaleOutDeployment | null = null;
  afterAll(async () => {
    await deployment?.cleanup();
    await postgres?.destroy();
  });

  it('answers 503 storage_read_only, serves reads, and loses no output once writes return', async () => {
    postgres = await startPrivatePostgres();
    deployment = new ScaleOutDeployment(postgres.url, REDIS_URL);
    const { url } = await deployment.startApi();
    const worker = await deployment.startWorker({ concurrency: 1 });
    const marker = `crucible-ro-${randomBytes(4).toString('hex')}`;
    const ticking = await submit(url, { code: tickingProgram(marker, 24, 0.25) });
    await waitFor('running', async () => (await getEvaluation(url, ticking.id)).status === 'running', 15_000, 50);

    await setReadOnly(postgres.url, true);
    const refused = await waitFor(
      'a refused submission',
      async () => {
        const r = await api<{ error: { code: string } }>(url, 'POST', '/api/evaluations', { code: 'print(1)' });
        return r.status === 503 && r;
      },
      10_000,
      100,
    );
    expect(refused.body.error.code).toBe('storage_read_only');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api(url, 'GET', `/api/evaluations/${ticking.id}`)).status).toBe(200);
    // Long enough for heartbeats to go stale: a reaper must not take that for a dead worker.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await setReadOnly(postgres.url, false);

    const after = await waitFor(
      'accepted again',
      async () => {
        const r = await api<{ id: string }>(url, 'POST', '/api/evaluations', { code: 'print("writable")' });
        return r.status === 202 && r.body;
      },
      15_000,
      200,
    );
    const [done, plain] = await waitAllTerminal(url, [ticking.id, after.id], 30_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 1, worker: worker.id });
    expect(done!.stdout).toBe(`${Array.from({ length: 24 }, (_, i) => `tick ${i}\n`).join('')}done\n`);
    expect(plain).toMatchObject({ status: 'completed', stdout: 'writable\n' });
    const events = await readSse(`${url}/api/evaluations/${ticking.id}/events`);
    const streamed = events
      .filter((m) => m.event === 'stdout')
      .map((m) => (m.data as { data: { text: string } }).data.text)
      .join('');
    expect(streamed).toBe(done!.stdout);
    expect(events.map((m) => Number(m.id))).toEqual(events.map((_, i) => i + 1));
  }, 120_000);
});
