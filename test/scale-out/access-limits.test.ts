/**
 * Quotas, rate limits and fair share across two API processes of one scale-out deployment
 * (PostgreSQL + Redis + BullMQ): a key's request budget and a project's queue quota are shared by
 * both processes, and one project's batch does not starve another project's single submission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { openAdmin } from '../../src/main/admin.js';
import { resolveConfig } from '../../src/main/config.js';
import { PG_URL, REDIS_URL, ScaleOutDeployment } from '../helpers/scale-out.js';
import { api, waitFor, type ServerProcess } from '../helpers/server.js';

describe('quotas, rate limits and fair share across two API processes (scale-out)', () => {
  const deployment = new ScaleOutDeployment(PG_URL, REDIS_URL, {
    CRUCIBLE_AUTH: 'required',
    CRUCIBLE_KEY_RATE_PER_SECOND: '0.2',
    CRUCIBLE_KEY_RATE_BURST: '6',
  });
  let a: ServerProcess;
  let b: ServerProcess;
  const keys: Record<string, CreatedApiKey> = {};
  const as = (who: string) => ({ authorization: `Bearer ${keys[who]!.key}` });

  beforeAll(async () => {
    a = await deployment.startApi();
    b = await deployment.startApi();
    const admin = await openAdmin(resolveConfig({ databaseUrl: PG_URL, redisUrl: REDIS_URL, namespace: deployment.namespace }));
    try {
      const make = async (name: string, role: Role, project: string) => {
        keys[name] = await admin.access.createKey(ANONYMOUS_ACTOR, { name, role, project });
      };
      await make('admin', 'admin', 'ops');
      await make('limited', 'viewer', 'alpha');
      await make('queuer', 'researcher', 'capped');
      await make('big', 'researcher', 'big');
      await make('small', 'researcher', 'small');
    } finally {
      await admin.close();
    }
  }, 60_000);
  afterAll(() => deployment.cleanup());

  it("one key's request budget is shared by both API processes", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api(i % 2 === 0 ? a.url : b.url, 'GET', '/api/config', undefined, as('limited'))).status);
    // A burst of 6 in all, not 6 per process.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    const limited = await api<{ error: { code: string } }>(b.url, 'GET', '/api/config', undefined, as('limited'));
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("a project's queue quota set through one process holds on the other", async () => {
    expect((await api(a.url, 'PUT', '/api/projects/capped/quota', { max_queued: 2 }, as('admin'))).status).toBe(200);
    // No worker runs yet: both stay queued.
    expect((await api(a.url, 'POST', '/api/evaluations', { code: 'print(1)' }, as('queuer'))).status).toBe(202);
    expect((await api(b.url, 'POST', '/api/evaluations', { code: 'print(2)' }, as('queuer'))).status).toBe(202);
    const over = await api<{ error: { code: string; message: string } }>(b.url, 'POST', '/api/evaluations', { code: 'print(3)' }, as('queuer'));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect(over.body.error.message).toContain('max_queued');
  });

  it("fair share in BullMQ: a big batch does not starve another project's single submission", async () => {
    const sleepy = 'import time; time.sleep(0.3)';
    const batch = await api<{ ids: string[] }>(
      a.url,
      'POST',
      '/api/evaluations/batch',
      { evaluations: Array.from({ length: 8 }, () => ({ code: sleepy })) },
      as('big'),
    );
    expect(batch.status).toBe(202);
    const single = await api<Evaluation>(b.url, 'POST', '/api/evaluations', { code: sleepy }, as('small'));
    expect(single.status).toBe(202);
    // One worker, one at a time: the order it takes them in is the queue's order.
    await deployment.startWorker({ concurrency: 1 });
    const read = async (id: string, who: string) => (await api<Evaluation>(a.url, 'GET', `/api/evaluations/${id}`, undefined, as(who))).body;
    const smallDone = await waitFor(
      'the single submission to finish',
      async () => ((await read(single.body.id, 'small')).status === 'completed' ? read(single.body.id, 'small') : null),
      60_000,
    );
    const bigOnes = await Promise.all(batch.body.ids.map((id) => read(id, 'big')));
    const bigStartedBefore = bigOnes.filter((e) => e.started_at !== null && Date.parse(e.started_at) < Date.parse(smallDone.started_at!)).length;
    // FIFO would have run all 8 first; fair share runs it after the batch's first (the capped project's two may come first too).
    expect(bigStartedBefore).toBeLessThanOrEqual(2);
  }, 90_000);
});
